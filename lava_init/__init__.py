"""lava-init: weight initialization for deep spiking networks in lava-dl SLAYER.

``lava_init.theory`` holds the closed forms, ``lava_init.init`` the tensor initializers,
``initialize`` applies them to SLAYER networks and ``measure_activity`` checks the result.
"""

from lava_init import init, theory
from lava_init.activity import ActivityReport, LayerActivity, measure_activity
from lava_init.calibrate import CalibrationReport, LayerCalibration, calibrate
from lava_init.init import (
    INITIALIZERS,
    SLAYER_8BIT,
    Quantization,
    calculate_fan_in,
    calculate_fan_out,
    get_initializer,
    kaiming_normal_,
    register_initializer,
    slayer_default_,
    variance_conserving_,
    xavier_normal_,
)
from lava_init.network import BlockInit, InitReport, initialize, weighted_blocks
from lava_init.temporal_init import (  # registers 'temporal' and 'fluctuation_driven'
    fluctuation_driven_,
    temporal_,
)

__version__ = "0.1.0"

__all__ = [
    "CalibrationReport",
    "LayerCalibration",
    "calibrate",
    "fluctuation_driven_",
    "temporal_",
    "INITIALIZERS",
    "SLAYER_8BIT",
    "ActivityReport",
    "BlockInit",
    "InitReport",
    "LayerActivity",
    "Quantization",
    "calculate_fan_in",
    "calculate_fan_out",
    "get_initializer",
    "init",
    "initialize",
    "kaiming_normal_",
    "measure_activity",
    "register_initializer",
    "slayer_default_",
    "theory",
    "variance_conserving_",
    "weighted_blocks",
    "xavier_normal_",
]
