"""Tutorial 1: keep a deep SLAYER network active, export it to NetX, verify it on Lava.

Run from the repository root (about a minute on 2 cores):

    .venv/bin/python tutorials/01_deep_network_on_lava.py [OUT_DIR]

Steps: (1) the rule's numbers for SLAYER's usual threshold, (2) a 12-layer CUBA Dense MLP
initialized with SLAYER's default and with the variance-conserving rule, activity per layer,
(3) the active one exported to NetX HDF5 and run on Lava's fixed-point simulator, spike for
spike against SLAYER.
"""

import sys
import tempfile
from pathlib import Path

import torch

from lava_init import initialize, measure_activity, theory
from lava_init.apps.data import digits_spikes
from lava_init.apps.models import SlayerMLP
from lava_init.apps.settings import MEMORYLESS
from netx_export import export_netx, verify

THRESHOLD = MEMORYLESS.threshold  # 1.25, lava-dl's tutorial threshold
DEPTH, WIDTH, TIME_STEPS = 12, 64, 20

# 1. The rule. With sigma = 1 the fixed point is unstable at theta = 1.25 (slope > 1); the
#    paper's sigma = theta is stable but 4.5% above the saddle-node; lava-init's default
#    sigma = theta / 0.7 keeps a drive margin of 1.40 (the rate of a deep narrow stack holds).
for sigma in (1.0, THRESHOLD, theory.default_sigma(THRESHOLD)):
    print(f"theta={THRESHOLD} sigma={sigma:.4g}: fan_in*Var[w] = "
          f"{WIDTH * theory.weight_variance(WIDTH, THRESHOLD, sigma):.3f}, "
          f"P(u > theta) = {theory.firing_probability(THRESHOLD, sigma):.3f}, "
          f"slope = {theory.fixed_point_slope(THRESHOLD, sigma):.3f}, "
          f"margin = {theory.drive_margin(THRESHOLD, sigma):.3f}")

# 2. The same network, two inits, real digits as spikes (batch, 64 pixels, time).
spikes = digits_spikes(samples=16, time_steps=TIME_STEPS, seed=0)
nets = {}
for method in ("slayer_default", "variance_conserving"):
    torch.manual_seed(0)
    nets[method] = SlayerMLP(64, 10, depth=DEPTH, width=WIDTH, neuron=MEMORYLESS)
    print(initialize(nets[method], method, generator=torch.Generator().manual_seed(0)))
    print(measure_activity(nets[method], spikes))

# 3. Export the active network and run it on Lava (fixed_pt), sample by sample.
out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
path = export_netx(nets["variance_conserving"], out_dir / "deep_mlp.net")
print(f"exported to {path}")
print(verify(nets["variance_conserving"], path, spikes[:2]))
