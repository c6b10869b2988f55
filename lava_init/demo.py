"""The activity demo: a deep SLAYER MLP on real digits, four initializations side by side."""

from __future__ import annotations

import argparse

import torch
from sklearn.datasets import load_digits

from lava_init.activity import ActivityReport, measure_activity
from lava_init.encoding import rate_encode
from lava_init.models import MEMORYLESS, SlayerMLP
from lava_init.network import initialize
from lava_init.report import format_table

DEMO_METHODS = ("slayer_default", "kaiming", "xavier", "variance_conserving")


def digits_spikes(samples: int, time_steps: int, seed: int) -> torch.Tensor:
    """``samples`` scikit-learn digits (8x8, intensities /16) as Bernoulli spikes (N, 64, T)."""
    images = load_digits().data[:samples] / 16.0
    generator = torch.Generator().manual_seed(seed)
    return rate_encode(torch.tensor(images, dtype=torch.float32), time_steps, generator)


def activity_comparison(
    depth: int = 20,
    width: int = 256,
    samples: int = 128,
    time_steps: int = 32,
    methods: tuple[str, ...] = DEMO_METHODS,
    seed: int = 0,
) -> dict[str, ActivityReport]:
    """Per-layer activity of the same deep MLP (memoryless CUBA, threshold 1.25) per method."""
    spikes = digits_spikes(samples, time_steps, seed)
    reports = {}
    for method in methods:
        torch.manual_seed(seed)
        net = SlayerMLP(spikes.shape[1], 10, depth=depth, width=width, neuron=MEMORYLESS)
        initialize(net, method, generator=torch.Generator().manual_seed(seed))
        reports[method] = measure_activity(net, spikes)
    return reports


def format_comparison(reports: dict[str, ActivityReport]) -> str:
    """One row per layer, the spike rate of each method in a column."""
    methods = list(reports)
    names = [layer.name for layer in reports[methods[0]].layers]
    rows = [[name, *(reports[m].layers[i].rate for m in methods)] for i, name in enumerate(names)]
    verdicts = [f"{m}: " + ("reaches the last layer" if reports[m].propagates else
                            f"silent from layer {_first_silent(reports[m])}") for m in methods]
    return "\n".join([format_table(["layer (spike rate)", *methods], rows), *verdicts])


def _first_silent(report: ActivityReport) -> str:
    silent = [layer.name for layer in report.layers if layer.rate == 0]
    return silent[0] if silent else "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--depth", type=int, default=20, help="hidden layers (default 20)")
    parser.add_argument("--width", type=int, default=256, help="neurons per layer (default 256)")
    parser.add_argument("--samples", type=int, default=128, help="digits to feed (default 128)")
    parser.add_argument("--time-steps", type=int, default=32,
                        help="steps per sample; more than the depth (default 32)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    reports = activity_comparison(args.depth, args.width, args.samples, args.time_steps,
                                  seed=args.seed)
    print(f"Deep SLAYER MLP: {args.depth} CUBA Dense layers x {args.width}, threshold 1.25, "
          f"memoryless decays, {args.samples} scikit-learn digits as spikes over "
          f"{args.time_steps} steps.")
    print(format_comparison(reports))
    return 0 if reports["variance_conserving"].propagates else 1
