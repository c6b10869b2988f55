"""netx_export: SLAYER networks to NetX HDF5, run on Lava's fixed-point simulator, verified.

``export_netx`` writes and validates the file, ``run_lava`` runs it and records every layer
(in parallel worker processes), ``verify`` compares SLAYER and Lava spike for spike,
``inspect`` reports the Lava activity of any NetX file layer by layer and ``load_netx``
imports one into SLAYER. Uses only the math and SLAYER-glue layers of ``lava_init`` (and
lava-dl / Lava).
"""

from netx_export.export import export_netx, netx_layers
from netx_export.inspection import InspectReport, LayerReport, inspect
from netx_export.interrupts import LavaInterrupted
from netx_export.lava_run import BACKENDS, loihi2_available, run_lava
from netx_export.load import NetxNetwork, load_netx
from netx_export.verify import LayerComparison, VerifyReport, verify

__all__ = [
    "BACKENDS",
    "InspectReport",
    "LavaInterrupted",
    "LayerComparison",
    "LayerReport",
    "NetxNetwork",
    "VerifyReport",
    "export_netx",
    "inspect",
    "load_netx",
    "loihi2_available",
    "netx_layers",
    "run_lava",
    "verify",
]
