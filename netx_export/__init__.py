"""netx_export: SLAYER networks to NetX HDF5, run on Lava's fixed-point simulator, verified.

``export_netx`` writes and validates the file, ``run_lava`` runs it and records every layer
(in parallel worker processes), ``verify`` compares SLAYER and Lava spike for spike,
``inspect`` reports the Lava activity of any NetX file layer by layer and ``load_netx``
imports one into SLAYER. Uses only the math and SLAYER-glue layers of ``lava_init`` (and
lava-dl / Lava).

Each name is imported on first use (PEP 562), so that reading and checking a file
(``netx_export.netx_file``) does not load torch and lava-dl: a command refuses a bad file
in a fraction of a second.
"""

from __future__ import annotations

import importlib

#: Public name -> the module that defines it.
_HOMES = {
    "export_netx": "export", "netx_layers": "export",
    "InspectReport": "inspection", "LayerReport": "inspection", "inspect": "inspection",
    "LavaInterrupted": "running.interrupts",
    "BACKENDS": "running.lava_run", "loihi2_available": "running.lava_run",
    "run_lava": "running.lava_run",
    "NetxNetwork": "load", "load_netx": "load",
    "LayerComparison": "verification", "VerifyReport": "verification", "verify": "verification",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'netx_export' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"netx_export.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
