"""Gradient reaching each layer of a deep SLAYER MLP at initialization, per init and surrogate.

One forward/backward pass (cross-entropy on output spike counts) of the MLP that
``lava-init train`` builds (depth 10 x 100, T = 3 or ``--time-steps``, delay_shift off,
lava-dl's tutorial decays 0.25 / 0.03) on the first 256 MNIST training samples; prints the
output spike rate and the norm of each block's weight gradient.
SLAYER's surrogate derivative peaks at scale_grad / (2000 * tau_grad * threshold); Adam ignores
gradients far below its eps (1e-8), so layers whose gradient is that small do not train.

    .venv/bin/python benchmarks/gradient_flow.py [--time-steps 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from lava_init.network_init import initialize
from lava_init.tables import format_table
from lava_init.training.config import BlockSettings, NeuronConfig
from lava_init.training.data import SHARED_DATA, load_dataset
from lava_init.training.models import SlayerMLP

#: (tau_grad, scale_grad): lava-dl's tutorial values and two others.
SURROGATES = ((0.03, 3.0), (0.01, 10.0), (0.005, 20.0))


def gradient_norms(method: str, neuron: NeuronConfig, spikes: torch.Tensor,
                   labels: torch.Tensor, depth: int, width: int,
                   seed: int = 0) -> tuple[float, list[float]]:
    """Output spike rate and per-block weight-gradient norms after one backward pass."""
    torch.manual_seed(seed)
    net = SlayerMLP(spikes.shape[1], 10, depth=depth, width=width,
                    settings=BlockSettings(neuron=neuron, delay_shift=False))
    initialize(net, method, generator=torch.Generator().manual_seed(seed),
               surrogate=False)  # the surrogate as given: what this benchmark measures
    out = net(spikes)
    F.cross_entropy(out.sum(-1), labels).backward()
    return float(out.mean()), [float(block.synapse.weight.grad.norm()) for block in net.blocks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA / "mnist")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--time-steps", type=int, default=3)
    parser.add_argument("--methods", default="variance_conserving,kaiming,xavier,slayer_default")
    args = parser.parse_args(argv)
    data = load_dataset("mnist", True, args.data_dir, time_steps=args.time_steps, flatten=True,
                        limit=args.samples)
    spikes = torch.stack([data[i][0] for i in range(len(data))])
    rows = []
    for tau_grad, scale_grad in SURROGATES:
        neuron = NeuronConfig(tau_grad=tau_grad, scale_grad=scale_grad)
        for method in args.methods.split(","):
            rate, norms = gradient_norms(method, neuron, spikes, data.labels, args.depth,
                                         args.width)
            rows.append([f"{tau_grad} / {scale_grad}", method, rate,
                         *(f"{g:.1e}" for g in norms)])
    headers = ["tau_grad / scale_grad", "init", "output rate",
               *(f"grad {i}" for i in range(args.depth + 1))]
    print(format_table(headers, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
