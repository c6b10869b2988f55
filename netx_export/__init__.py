"""netx_export: SLAYER networks to NetX HDF5, run on Lava's fixed-point simulator, verified.

``export_netx`` writes and validates the file, ``run_lava`` runs it and records every layer,
``verify`` compares SLAYER and Lava spike for spike.
"""

from netx_export.export import export_netx, find_blocks
from netx_export.lava_run import BACKENDS, loihi2_available, run_lava
from netx_export.verify import LayerComparison, VerifyReport, verify

__all__ = [
    "BACKENDS",
    "LayerComparison",
    "VerifyReport",
    "export_netx",
    "find_blocks",
    "loihi2_available",
    "run_lava",
    "verify",
]
