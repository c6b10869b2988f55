"""Finite-width study of the default operating point: rate ratio over depth against r, width.

SLAYER ``cuba.Dense`` stacks (memoryless by default; ``--decays`` and ``--time-steps`` for
integrating neurons) (``delay_shift=False``, built and initialized one block
at a time with ``lava_init.initialize``), Bernoulli input spikes at ``--input-rate``. For each
width, ratio ``r = theta / sigma`` (``sigma = theta_eff / r``, the effective threshold of
``lava_init.quantization.effective_threshold``) and threshold (on the 1/32 weight grid and off
it), the spike rate of every layer; the score is the rate of the last layer over the first.
Writes ``operating_point.json`` (every curve), ``operating_point.png`` (ratio vs r per width,
worst case over thresholds and seeds) and prints a table::

    .venv/bin/python benchmarks/operating_point.py --out docs/figures/operating_point
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from lava.lib.dl import slayer  # noqa: E402
from provenance import current_provenance  # noqa: E402

from lava_init import initialize, quantization, theory  # noqa: E402
from lava_init.files import atomic_write, atomic_write_text  # noqa: E402
from lava_init.tables import format_table  # noqa: E402
from lava_init.training.config import MEMORYLESS

#: Thresholds on SLAYER's 1/32 weight grid (lava-dl's usual ones) and two between grid points.
ON_GRID = (0.25, 0.5, 1.0, 1.25, 2.0)
OFF_GRID = (0.765625, 1.265625)
#: The band the rate of the last layer must stay in, relative to the first.
BAND = (0.5, 2.0)
#: Ratios below this (silent last layers) are drawn at it on the log axis.
FLOOR = 1e-3


def layer_rates(threshold: float, width: int, depth: int, sigma: float | None, seed: int,
                args: argparse.Namespace) -> list[float]:
    """Spike rate of each of ``depth`` layers of ``width`` (one block in memory), over the
    ``args.time_steps`` steps every layer sees (``delay_shift=False``)."""
    generator = torch.Generator().manual_seed(seed)
    spikes = (torch.rand(args.samples, width, args.time_steps, generator=generator)
              < args.input_rate).float()
    neuron = {**MEMORYLESS.params(), "threshold": threshold, "current_decay": args.decays[0],
              "voltage_decay": args.decays[1]}
    rates = []
    for _ in range(depth):
        block = slayer.block.cuba.Dense(neuron, width, width, delay_shift=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            initialize(block, sigma=sigma, generator=generator)
        with torch.no_grad():
            spikes = block(spikes)
        rates.append(float(spikes.mean()))
        if rates[-1] == 0.0:
            rates += [0.0] * (depth - len(rates))
            break
    return rates


def sigma_for(threshold: float, ratio: float | None, decays: tuple[float, float]
              ) -> float | None:
    """``sigma = theta_eff / ratio`` (None: the library's default); ``theta_eff`` moves by
    half a weight step for memoryless neurons only (docs/robust_init.md)."""
    if ratio is None:
        return None
    step = quantization.SLAYER_8BIT.step if decays == (1.0, 1.0) else None
    return quantization.effective_threshold(threshold, step) / ratio


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="64,96,128,256,1024")
    parser.add_argument("--ratios", default="0.5,0.6,0.7,0.8,0.9,1.0,default",
                        help="theta/sigma values; 'default' is initialize's own choice")
    parser.add_argument("--thresholds", default=",".join(map(str, ON_GRID + OFF_GRID)))
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--input-rate", type=float, default=0.2)
    parser.add_argument("--samples", type=int, default=64, help="input samples")
    parser.add_argument("--decays", type=lambda text: tuple(float(v) for v in text.split(",")),
                        default=(1.0, 1.0),
                        help="current,voltage decay (default 1,1: memoryless; tutorials "
                             "0.25,0.03)")
    parser.add_argument("--time-steps", type=int, default=1,
                        help="steps per sample (default 1; give integrating neurons e.g. 20)")
    parser.add_argument("--out", type=Path, default=Path("runs/operating_point"))
    parser.add_argument("--replot", action="store_true",
                        help="redraw the figure and table from OUT/operating_point.json")
    return parser.parse_args(argv)


def ratio_label(ratio: float | None) -> str:
    return "default" if ratio is None else f"{ratio:g}"


def run(args: argparse.Namespace) -> list[dict]:
    widths = [int(w) for w in args.widths.split(",")]
    ratios = [None if r == "default" else float(r) for r in args.ratios.split(",")]
    thresholds = [float(t) for t in args.thresholds.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    for width in widths:
        started = time.perf_counter()
        for ratio in ratios:
            for threshold in thresholds:
                for seed in seeds:
                    rates = layer_rates(threshold, width, args.depth,
                                        sigma_for(threshold, ratio, args.decays), seed, args)
                    results.append({"width": width, "ratio": ratio_label(ratio),
                                    "threshold": threshold, "seed": seed, "rates": rates,
                                    "score": rates[-1] / rates[0] if rates[0] else 0.0})
        print(f"width {width}: {time.perf_counter() - started:.0f} s", flush=True)
    return results


def summary(results: list[dict]) -> list[list[object]]:
    """Per (width, ratio): worst and best ratio over thresholds and seeds, cases in the band."""
    rows = []
    keys = list(dict.fromkeys((r["width"], r["ratio"]) for r in results))
    for width, ratio in keys:
        scores = [r["score"] for r in results if r["width"] == width and r["ratio"] == ratio]
        inside = sum(BAND[0] <= s <= BAND[1] for s in scores)
        first = [r["rates"][0] for r in results if r["width"] == width and r["ratio"] == ratio]
        rows.append([width, ratio, min(scores), max(scores), f"{inside}/{len(scores)}",
                     sum(first) / len(first)])
    return rows


def figure(results: list[dict], path: Path) -> Path:
    widths = sorted({r["width"] for r in results})
    labels = list(dict.fromkeys(r["ratio"] for r in results if r["ratio"] != "default"))
    fig, axis = plt.subplots(figsize=(6, 4))
    for index, width in enumerate(widths):
        worst = [max(FLOOR, min(r["score"] for r in results
                                if r["width"] == width and r["ratio"] == label))
                 for label in labels]
        best = [max(FLOOR, max(r["score"] for r in results
                               if r["width"] == width and r["ratio"] == label))
                for label in labels]
        xs = [float(label) for label in labels]
        axis.plot(xs, worst, marker="o", color=f"C{index}", label=f"width {width}")
        axis.plot(xs, best, marker=".", linestyle=":", color=f"C{index}")
    axis.axhspan(*BAND, color="0.9", zorder=0)
    axis.axvline(theory.CRITICAL_RATIO, color="0.4", linestyle="--", linewidth=1)
    axis.set(xlabel="r = theta_eff / sigma", ylabel="rate last layer / first layer",
             yscale="log", ylim=(FLOOR / 2, 4),
             title="worst (solid) and best (dotted) stack per point")
    axis.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda temp: fig.savefig(temp, format="png", dpi=80))
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(2)
    if args.replot:
        results = json.loads((args.out / "operating_point.json").read_text())["results"]
    else:
        results = run(args)
        atomic_write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()},
                                      "results": results,
                                      "provenance": current_provenance(__file__, argv)}),
                          args.out / "operating_point.json")
    figure(results, args.out / "operating_point.png")
    print(format_table(["width", "r", "worst ratio", "best ratio", "in [0.5, 2]",
                        "rate layer 1"], summary(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
