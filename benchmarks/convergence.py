"""Convergence benchmark: test accuracy per epoch for each initializer, several seeds.

MNIST and Fashion-MNIST from ../shared/data, SLAYER MLP depth 10 x width 100, T = 3, the
paper's Adam lr 1e-3 with a cosine schedule, batch 64; plus a deeper case (depth 20, MNIST).
The neuron of ``lava-init train`` before its default recipe (``PAPER_NEURON``: memoryless,
threshold 1.25, a surrogate gradient of width 0.01 and amplitude 10 that reaches the first
layers, not conserved; options for lava-dl's tutorial values).
Writes ``convergence.json`` (every curve with the code that made it, benchmarks/provenance.py,
rewritten after each run; a rerun skips the runs already there with the same settings,
whatever their code), ``convergence.png`` (test accuracy vs epoch, mean and min..max over
seeds) and ``convergence.md`` (accuracy after epoch 1 and at the end, epochs to reach 90% of
the case's best final accuracy). The defaults fit in about 90 minutes on 2 cores;
check the time per run it prints first.

    .venv/bin/python benchmarks/convergence.py --out benchmarks/results/convergence
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from provenance import current_provenance  # noqa: E402

from lava_init import theory  # noqa: E402
from lava_init.cli.neuron_options import (  # noqa: E402
    add_neuron_arguments,
    neuron_from_args,
)
from lava_init.files import atomic_write_text  # noqa: E402
from lava_init.initializers import INITIALIZERS  # noqa: E402
from lava_init.tables import format_table  # noqa: E402
from lava_init.training.config import TRAIN_NEURON, TrainConfig
from lava_init.training.data import SHARED_DATA  # noqa: E402
from lava_init.training.loop import train  # noqa: E402

DEFAULT_METHODS = ("variance_conserving", "kaiming", "xavier", "slayer_default")
#: Output block's calibration target of the "calibrated_readout" recipe (spikes/neuron/step).
READOUT_RATE = 0.005
#: Recipes beyond a registered init: the temporal init, then ``lava_init.calibrate`` on the
#: first batch (every block to the input rate; with "_readout" the output block to
#: READOUT_RATE), as ``lava-init train --init temporal --calibrate [--readout-rate R]``.
#: "sigma_theta": the variance-conserving rule at the paper's sigma = theta (the default before
#: issue 12; the neuron's --threshold is filled in), as ``lava-init train --sigma THETA``.
RECIPES = {"calibrated": {"init": "temporal", "calibrate": True},
           "calibrated_readout": {"init": "temporal", "calibrate": True,
                                  "readout_rate": READOUT_RATE},
           "sigma_theta": {"init": "variance_conserving", "sigma": "threshold"}}
#: The paper's optimizer setting and the training neuron this benchmark was measured with
#: (before the default recipe of ``lava-init train``: docs/training.md): batch 64, the neuron's
#: surrogate as given (width 0.01, amplitude 10), no backward conservation.
PAPER_BATCH = 64
PAPER_NEURON = dataclasses.replace(TRAIN_NEURON, tau_grad=0.01, scale_grad=10.0)
#: The input encoding its stored results were measured with (rate coding; memoryless training
#: now defaults to regular spikes: lava_init.training.config.default_encoding).
STORED_ENCODING = "rate"
#: Its readout: one output neuron per class (the memoryless recipe now has
#: lava_init.training.config.READOUT_POPULATION).
STORED_READOUT_POPULATION = 1
#: Fraction of the best final accuracy (of a case) that "epochs to reach" refers to.
REACH_FRACTION = 0.9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA,
                        help="folder holding mnist/ and fashion-mnist/ (default ../shared/data)")
    parser.add_argument("--datasets", default="mnist,fashion-mnist")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help="registered init methods or recipes (calibrated, "
                             "calibrated_readout, sigma_theta), comma separated")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--deep-depth", type=int, default=20,
                        help="depth of the deeper case (0: none)")
    parser.add_argument("--deep-datasets", default="mnist")
    parser.add_argument("--time-steps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=6000, help="training samples per epoch")
    parser.add_argument("--test-limit", type=int, default=2000, help="test samples")
    parser.add_argument("--lr", type=float, default=1e-3)
    add_neuron_arguments(parser, PAPER_NEURON)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/convergence"))
    args = parser.parse_args(argv)
    args.methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in args.methods if m not in INITIALIZERS and m not in RECIPES]
    if unknown:
        parser.error(f"unknown init method(s) {', '.join(unknown)}; valid: "
                     f"{', '.join(sorted([*INITIALIZERS, *RECIPES]))}")
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.deep_datasets = [d for d in args.deep_datasets.split(",") if d]
    try:
        args.seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError:
        parser.error(f"--seeds must be integers separated by commas (got {args.seeds!r})")
    return args


def cases(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(dataset, depth) pairs: every dataset at ``depth``, the deep datasets at deep_depth."""
    found = [(dataset, args.depth) for dataset in args.datasets]
    if args.deep_depth:
        found += [(dataset, args.deep_depth) for dataset in args.deep_datasets]
    return found


def settings(args: argparse.Namespace) -> dict:
    """What a stored run must share to be reused (the library's default theta/sigma too)."""
    return {"width": args.width, "time_steps": args.time_steps, "epochs": args.epochs,
            "limit": args.limit, "test_limit": args.test_limit, "lr": args.lr,
            "batch_size": PAPER_BATCH, "neuron": neuron_from_args(args).params(),
            "default_ratio": theory.DEFAULT_RATIO,
            "accuracy": "outputs with all-equal counts (silent) count as wrong"}


def run_all(args: argparse.Namespace, made_by: dict) -> dict:
    """Train every (case, method, seed), saving the curves after each run, each with the
    provenance ``made_by`` (benchmarks/provenance.py)."""
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "convergence.json"
    results = {"settings": settings(args), "runs": []}
    if path.is_file():
        previous = json.loads(path.read_text())
        if previous.get("settings") == results["settings"]:
            results = previous
    done = {(r["dataset"], r["depth"], r["method"], r["seed"]) for r in results["runs"]}
    todo = [(dataset, depth, method, seed) for dataset, depth in cases(args)
            for method in args.methods for seed in args.seeds
            if (dataset, depth, method, seed) not in done]
    for number, (dataset, depth, method, seed) in enumerate(todo, 1):
        started = time.perf_counter()
        recipe = {key: args.threshold if value == "threshold" else value
                  for key, value in RECIPES.get(method, {"init": method}).items()}
        config = TrainConfig(dataset=dataset, data_dir=str(args.data_dir), depth=depth,
                             width=args.width, **recipe, time_steps=args.time_steps,
                             encoding=STORED_ENCODING,
                             readout_population=STORED_READOUT_POPULATION,
                             epochs=args.epochs, lr=args.lr, batch_size=PAPER_BATCH,
                             conserve_gradient=False, limit=args.limit,
                             test_limit=args.test_limit, seed=seed, neuron=neuron_from_args(args),
                             progress=False)
        rows = train(config).metrics
        seconds = time.perf_counter() - started
        results["runs"].append({"dataset": dataset, "depth": depth, "method": method,
                                "seed": seed, "seconds": seconds, "metrics": rows,
                                "provenance": made_by})
        atomic_write_text(json.dumps(results, indent=1), path)
        print(f"[{number}/{len(todo)}] {dataset} depth {depth} {method} seed {seed}: "
              f"test acc {rows[-1]['test_acc']:.4f} ({seconds:.0f} s)", flush=True)
    return results


def curves(results: dict, dataset: str, depth: int, method: str) -> list[list[float]]:
    """Test accuracy per epoch, one list per seed."""
    return [[row["test_acc"] for row in run["metrics"]] for run in results["runs"]
            if (run["dataset"], run["depth"], run["method"]) == (dataset, depth, method)]


def summary_rows(results: dict, case_list: list[tuple[str, int]],
                 methods: list[str]) -> list[list[object]]:
    """Per case and method: acc after epoch 1 and at the end (mean +- std over seeds) and the
    first epoch at which the mean curve reaches 90% of the case's best mean final accuracy."""
    rows = []
    for dataset, depth in case_list:
        means = {m: _mean_curve(curves(results, dataset, depth, m)) for m in methods}
        means = {m: c for m, c in means.items() if c}
        if not means:
            continue
        target = REACH_FRACTION * max(c[-1] for c in means.values())
        for method, mean in means.items():
            per_seed = curves(results, dataset, depth, method)
            reached = next((epoch for epoch, acc in enumerate(mean, 1) if acc >= target), None)
            silent = [run["metrics"][-1].get("test_silent", float("nan"))
                      for run in results["runs"]
                      if (run["dataset"], run["depth"], run["method"]) == (dataset, depth, method)]
            rows.append([dataset, depth, method, len(per_seed), _mean_std([c[0] for c in per_seed]),
                         _mean_std([c[-1] for c in per_seed]), f"{statistics.fmean(silent):.3f}",
                         "-" if reached is None else reached])
    return rows


def _mean_curve(per_seed: list[list[float]]) -> list[float]:
    length = min((len(c) for c in per_seed), default=0)
    return [statistics.fmean(c[i] for c in per_seed) for i in range(length)]


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} +- {spread:.4f}"


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def plot(results: dict, case_list: list[tuple[str, int]], methods: list[str],
         path: Path) -> Path:
    figure, axes = plt.subplots(1, len(case_list), figsize=(5 * len(case_list), 4),
                                squeeze=False)
    for axis, (dataset, depth) in zip(axes[0], case_list, strict=True):
        for method in methods:
            per_seed = curves(results, dataset, depth, method)
            mean = _mean_curve(per_seed)
            if not mean:
                continue
            epochs = range(1, len(mean) + 1)
            low = [min(c[i] for c in per_seed) for i in range(len(mean))]
            high = [max(c[i] for c in per_seed) for i in range(len(mean))]
            line, = axis.plot(epochs, mean, marker="o",
                              label=f"{method} ({len(per_seed)} seeds)")
            axis.fill_between(epochs, low, high, alpha=0.2, color=line.get_color())
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(f"{dataset}, MLP depth {depth}")
        axis.set_xlabel("epoch")
        axis.set_ylabel("test accuracy")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    temp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    figure.savefig(temp, dpi=120)
    plt.close(figure)
    os.replace(temp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run_all(args, current_provenance(__file__, argv))
    case_list = cases(args)
    headers = ["dataset", "depth", "init", "seeds", "acc epoch 1", "acc final",
               "silent final", f"epochs to {REACH_FRACTION:.0%} of best"]
    rows = summary_rows(results, case_list, args.methods)
    command = "python benchmarks/convergence.py " + " ".join(argv if argv is not None
                                                             else sys.argv[1:])
    description = ", ".join(f"{k} {v}" for k, v in results["settings"].items()
                            if k != "neuron")
    description += ", neuron " + ", ".join(f"{k} {v}" for k, v in
                                          results["settings"]["neuron"].items())
    markdown = (f"Made by `{command.strip()}` ({description}). Accuracy: mean +- std over "
                f"seeds on the first {args.test_limit} test samples.\n\n"
                f"{markdown_table(headers, rows)}\n")
    atomic_write_text(markdown, args.out / "convergence.md")
    figure = plot(results, case_list, args.methods, args.out / "convergence.png")
    print(format_table(headers, rows))
    print(f"curves: {args.out / 'convergence.json'}\ntable: {args.out / 'convergence.md'}\n"
          f"figure: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
