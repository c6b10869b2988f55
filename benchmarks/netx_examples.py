"""The numbers in docs/netx_export.md: SLAYER vs Lava fixed point on the example networks and
per-layer Lava rates of a 20-layer net. Run ``python benchmarks/netx_examples.py`` (about 3 min
on 2 CPU cores)."""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import torch

from lava_init.tables import format_table
from lava_init.training.example_nets import (
    CONV_INPUT,
    DENSE_INPUT,
    conv_net,
    deep_mlp,
    dense_net,
    input_block_net,
    random_spikes,
)
from netx_export.export import export_netx
from netx_export.verification import VerifyReport, verify

#: name -> (network factory, one sample's input shape)
EXAMPLES = {
    "Dense 24-32-16": (dense_net, DENSE_INPUT),
    "Dense 24-32-16, bias": (lambda: dense_net(bias=True), DENSE_INPUT),
    "Conv-Conv-Flatten-Dense": (conv_net, CONV_INPUT),
    "Conv-Conv-Flatten-Dense, bias": (lambda: conv_net(bias=True), CONV_INPUT),
    "Input-Dense-Dense": (input_block_net, DENSE_INPUT),
    "10x32 Dense, variance_conserving": (
        lambda: deep_mlp("variance_conserving", depth=10, width=32, in_features=24), DENSE_INPUT),
}
#: (label, init method, sigma) of the 20-layer comparison; sigma None = threshold (default).
DEEP_INITS = (
    ("variance_conserving default", "variance_conserving", None),
    ("variance_conserving sigma=2.0", "variance_conserving", 2.0),
    ("slayer_default", "slayer_default", None),
)


def example_rows(folder: Path, samples: int, steps: int) -> list[list[object]]:
    """One row per example network: layers, mismatches, last-layer rates, times (s)."""
    rows = []
    for name, (build, input_shape) in EXAMPLES.items():
        net = build()
        started = time.perf_counter()
        path = export_netx(net, folder / "example.net", input_shape=input_shape)
        exported = time.perf_counter()
        report = verify(net, path, random_spikes(input_shape, steps, batch=samples))
        verified = time.perf_counter()
        last = report.layers[-1]
        rows.append([name, len(report.layers), report.total_mismatches, last.slayer_rate,
                     last.lava_rate, report.propagates, exported - started, verified - exported])
    return rows


def deep_reports(folder: Path, samples: int, steps: int) -> dict[str, VerifyReport]:
    """SLAYER vs Lava on a 20-layer memoryless 64-wide MLP for each init of DEEP_INITS."""
    spikes = random_spikes((32,), steps, batch=samples)
    reports = {}
    for label, method, sigma in DEEP_INITS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = deep_mlp(method, sigma=sigma)
        reports[label] = verify(net, export_netx(net, folder / "deep.net"), spikes)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4, help="random inputs per network")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        rows = example_rows(Path(folder), args.samples, steps=24)
        print(f"SLAYER vs Lava fixed_pt, {args.samples} random inputs (rate 0.3) x 24 steps")
        print(format_table(["network", "layers", "mismatches", "slayer_rate_last",
                            "lava_rate_last", "propagates", "export_s", "verify_s"], rows))
        reports = deep_reports(Path(folder), args.samples, steps=40)
    labels = list(reports)
    first = next(iter(reports.values()))
    table = [[layer.name, *(reports[label].layers[i].lava_rate for label in labels)]
             for i, layer in enumerate(first.layers)]
    print(f"\n20 hidden layers x 64 memoryless CUBA neurons (threshold 1.25), {args.samples} "
          "random inputs (rate 0.3) x 40 steps: Lava rate per layer")
    print(format_table(["layer", *labels], table))
    for label, report in reports.items():
        hidden = [layer.lava_rate for layer in report.layers[:-1]]
        within = hidden[0] > 0 and all(hidden[0] / 2 <= r <= 2 * hidden[0] for r in hidden)
        print(f"{label}: mismatches {report.total_mismatches}, every hidden layer within 2x of "
              f"the first: {'yes' if within else 'no'}, last hidden / first "
              f"{hidden[-1] / hidden[0] if hidden[0] else 0:.2f}, reaches the last layer: "
              f"{'yes' if report.propagates else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
