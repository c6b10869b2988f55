"""lava-init: weight initialization for deep spiking networks in lava-dl SLAYER.

Layers, each importing only those below it:

1. math (numpy/scipy, no torch): :mod:`~lava_init.theory` (the paper's closed forms),
   :mod:`~lava_init.temporal` (CUBA neurons over T steps), :mod:`~lava_init.quantization`
   (SLAYER's fixed-point grids), :mod:`~lava_init.checks`, :mod:`~lava_init.records`,
   :mod:`~lava_init.tables`, :mod:`~lava_init.files`;
2. SLAYER glue: :mod:`~lava_init.slayer_blocks`;
3. library: :mod:`~lava_init.initializers` (tensor initializers, registry),
   :func:`initialize`, :func:`calibrate`, :func:`calibrate_surrogate`,
   :func:`measure_activity`, :func:`rate_encode`, :func:`regular_encode`
   (and the separate package ``netx_export``);
4. :mod:`lava_init.training` (config and plan, data, models, the loop), then
   :mod:`lava_init.experiments` (the propagation study, the demo), then :mod:`lava_init.cli`
   (the ``lava-init`` command line).

The names below load on first use, so ``import lava_init.theory`` stays free of torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "ActivityReport": "activity",
    "measure_activity": "activity",
    "LayerActivity": "records",
    "CalibrationReport": "calibration",
    "LayerCalibration": "calibration",
    "calibrate": "calibration",
    "SurrogateReport": "backward",
    "calibrate_surrogate": "backward",
    "rate_encode": "encoding",
    "regular_encode": "encoding",
    "INITIALIZERS": "initializers",
    "InitMethod": "initializers",
    "calculate_fan_in": "initializers",
    "calculate_fan_out": "initializers",
    "fluctuation_driven_": "initializers",
    "get_initializer": "initializers",
    "kaiming_normal_": "initializers",
    "register_initializer": "initializers",
    "slayer_default_": "initializers",
    "temporal_": "initializers",
    "variance_conserving_": "initializers",
    "xavier_normal_": "initializers",
    "BlockInit": "network_init",
    "InitReport": "network_init",
    "initialize": "network_init",
    "SLAYER_8BIT": "quantization",
    "Quantization": "quantization",
    "weighted_blocks": "slayer_blocks",
}
_MODULES = ("checks", "files", "initializers", "quantization", "records", "slayer_blocks",
            "tables", "temporal", "theory")

__all__ = sorted([*_EXPORTS, *_MODULES])


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"lava_init.{_EXPORTS[name]}"), name)
    elif name in _MODULES:
        value = importlib.import_module(f"lava_init.{name}")
    else:
        raise AttributeError(f"module 'lava_init' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
