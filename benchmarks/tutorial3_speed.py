"""Training speed at tutorial 3's budget: lava-init's recipe against SLAYER's default, each at
the learning rates of one shared sweep.

Tutorial 3's run, as the notebook does it: 800 training and 200 test digits recorded as
saccade N-MNIST (``lava_init.training.saccades.record_saccade_nmnist``, from the MNIST IDX
files), the strided-conv CNN with 4 convolutions of 8 channels and a Dense 64, lava-dl's
tutorial neuron (current decay 0.25, voltage decay 0.03) at T = 20, batch 16, 2 epochs (100
optimizer steps), Adam with a cosine schedule. ``recipe`` is ``lava-init train``'s default for
these neurons (relay init calibrated to its hidden and readout rates, conserved surrogate),
``slayer_default`` SLAYER's own init with the same optimizer. Every init runs at each rate of
``--lrs`` for the first seed of ``--seeds`` and at ``--seed-lrs`` for the others. A row stores
the test accuracy after each epoch, the seconds and the provenance (command, commit).

Rows go to ``OUT/runs.json`` as each ends (a stored row with the same label is kept unless
``--rerun``); ``OUT/tutorial3_speed.md`` holds the table.

    python benchmarks/tutorial3_speed.py --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from provenance import current_provenance

from lava_init.files import atomic_write_text
from lava_init.tables import format_table
from lava_init.training.config import TUTORIAL_NEURON, TrainConfig, default_lr
from lava_init.training.data import SHARED_DATA
from lava_init.training.loop import train
from lava_init.training.saccades import record_saccade_nmnist

OUT = Path(__file__).resolve().parent / "results" / "tutorial3_speed"
#: Tutorial 3's recordings and budget (its training cell).
TRAIN_RECORDINGS, TEST_RECORDINGS = 800, 200
BUDGET = TrainConfig(dataset="nmnist", arch="cnn", depth=4, channels=8, width=64,
                     time_steps=20, neuron=TUTORIAL_NEURON, epochs=2, progress=False)
INITS = {"recipe": {}, "slayer_default": {"init": "slayer_default"}}
#: The shared sweep: the default rate at T = 20 (4.5e-4) and 3, 10 and 30 times it.
LRS = (default_lr(BUDGET.time_steps), 1.5e-3, 4.5e-3, 1.35e-2)


def _numbers(kind: type) -> Callable[[str], list]:
    """An argparse type: comma-separated ``kind`` values (a bad one: argparse's one line)."""
    def parse(text: str) -> list:
        try:
            return [kind(item) for item in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {kind.__name__} values, got {text!r}") from None
    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=_numbers(int), default=[0])
    parser.add_argument("--lrs", type=_numbers(float), default=list(LRS),
                        help="the shared sweep's rates (first seed)")
    parser.add_argument("--seed-lrs", type=_numbers(float), default=[LRS[0], 4.5e-3],
                        help="the rates of the other seeds")
    parser.add_argument("--mnist-dir", type=Path, default=SHARED_DATA / "mnist")
    parser.add_argument("--recordings", type=Path, default=Path("runs/tutorial3_nmnist"),
                        help="where the recordings are written (once: its 'written' file "
                        "marks them complete) and read")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--rerun", action="store_true", help="replace stored rows")
    return parser.parse_args(argv)


def runs(args: argparse.Namespace) -> list[tuple[str, TrainConfig]]:
    """``(init, config)`` of every row asked for."""
    rows = []
    for seed in args.seeds:
        for lr in args.lrs if seed == args.seeds[0] else args.seed_lrs:
            rows += [(name, dataclasses.replace(BUDGET, **init, data_dir=str(args.recordings),
                                                lr=lr, seed=seed))
                     for name, init in INITS.items()]
    return rows


def load_rows(store: Path) -> dict:
    """The stored rows (none before the first)."""
    return json.loads(store.read_text()) if store.exists() else {}


def table(rows: dict) -> str:
    """Per init and rate: the mean test accuracy after epoch 1 and 2 over the stored seeds."""
    cases: dict[tuple[str, float], list[dict]] = {}
    for row in rows.values():
        cases.setdefault((row["init"], row["lr"]), []).append(row)
    lines = [[init, f"{lr:g}", len(seeds),
              f"{statistics.mean(r['test_acc'][0] for r in seeds):.3f}",
              f"{statistics.mean(r['test_acc'][-1] for r in seeds):.3f}",
              " ".join(f"{r['test_acc'][-1]:.3f}" for r in sorted(seeds, key=lambda r: r['seed']))]
             for (init, lr), seeds in sorted(cases.items())]
    return format_table(["init", "lr", "seeds", "epoch 1", "epoch 2", "per seed"], lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    made_by = current_provenance(__file__, argv)
    written = args.recordings / "written"
    if not written.exists():
        counts = record_saccade_nmnist(args.mnist_dir, args.recordings, limit=TRAIN_RECORDINGS,
                                       test_limit=TEST_RECORDINGS)
        atomic_write_text(json.dumps(counts), written)
    store = args.out / "runs.json"
    args.out.mkdir(parents=True, exist_ok=True)
    for init, config in runs(args):
        label = f"{init} lr{config.lr:g} s{config.seed}"
        rows = load_rows(store)
        if label in rows and not args.rerun:
            continue
        started = time.perf_counter()
        run = train(config)
        rows[label] = {"init": init, "lr": config.lr, "seed": config.seed,
                       "test_acc": [m["test_acc"] for m in run.metrics],
                       "seconds": time.perf_counter() - started, "provenance": made_by}
        atomic_write_text(json.dumps(rows, indent=1), store)
        print(f"{label}: test acc {' '.join(f'{a:.3f}' for a in rows[label]['test_acc'])}",
              flush=True)
    text = table(load_rows(store))
    atomic_write_text(f"```\n{text}\n```\n", args.out / "tutorial3_speed.md")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
