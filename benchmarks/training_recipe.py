"""Training-recipe benchmark: the default recipe of ``lava-init train`` against baselines.

Parts (``--parts``, comma-separated), MLPs of width 100 at T = 3 (memoryless neurons), data
from ../shared/data:

* ``first_epoch``: 1 epoch of the first 10,000 MNIST training samples, accuracy on the first
  1,000 test samples, depth 1 (the shallow control), 10 and 30; the default recipe (relay
  init, conserved surrogate, relay learning rate, batch 16, lr 3e-3, regular input spikes, 16
  output neurons per class), the same with rate-coded input (depth 10 and 30), and SLAYER's
  default / Kaiming / the paper's variance-conserving init with the same optimizer, input,
  readout and TRAIN_NEURON's surrogate as given; at depth 1 and 10 every init also at the
  other rates of the shared sweep (``LR_SWEEP``, seed 0): each baseline gets its best rate.
* ``depth100``: the default recipe at depth 100 on all of MNIST (1 epoch, full test set;
  rate-coded input and one output neuron per class, as measured before regular input and the
  readout population became the default), exported to NetX and run on Lava fixed_pt on the
  first 10 test samples.
* ``converged``: depth 10, the full MNIST and Fashion-MNIST training sets for ``--epochs``
  epochs (15), full test sets, 3 seeds, regular input encoding (``--encoding regular``), the
  default readout population, the relay blocks at the full lr, the training images
  augmented on MNIST (``--shift 1``) and the targets smoothed on Fashion-MNIST
  (``--label-smoothing``); seed 0 also on Lava fixed_pt (first 1,000 test samples). Kaiming
  and SLAYER's default with the same optimizer, readout, regularization and budget, seed 0;
  Fashion-MNIST without smoothing (3 seeds, and Kaiming), and without smoothing but with
  augmented images (``--flip``, ``--shift 1 --flip``), seed 0; and with graded input
  (``--encoding graded``): 3 seeds (seed 0 also on Lava), Kaiming and SLAYER's default.
* ``integrating``: lava-dl's tutorial decays (current 0.25, voltage 0.03) at T = 20, 3 epochs
  of the first 3,000 MNIST training samples, first 1,000 test samples, depth 10, 20 and 30:
  the integrating recipe (what ``lava-init train --current-decay 0.25 --voltage-decay 0.03
  --time-steps 20`` does; 3 seeds) against SLAYER's default init with the same optimizer and
  surrogate, and against SLAYER's default with the recipe under which it trained best in
  docs/beyond_the_paper.md section 7 (batch 64, lr 1e-3, surrogate 0.01 / 10, logits = raw
  counts); the baselines 3 seeds at depth 10, seed 0 deeper. Fashion-MNIST at depth 20
  likewise.
* ``events``: the same neuron and budget on N-MNIST-format recordings (``--events-dir``,
  written by ``benchmarks/saccade_nmnist.py``, read through tonic), the strided-conv CNN with
  4 convolutions of ``--channels`` channels: recipe and SLAYER's default alike, 3 seeds, the
  recipe's seed 0 also on Lava fixed_pt (first 200 test recordings).
* ``fashion_cnn``: a plain spiking CNN on Fashion-MNIST (issue 29's target 3;
  :data:`FASHION_CNN`: 4 convolutions of 32 channels, lava-init's calibrated init with each
  hidden block's mean current subtracted, as on MNIST-1D) against the converged part's graded
  MLP given about the CNN's wall clock (:data:`FASHION_MLP_EPOCHS` epochs), both on every
  training sample with the graded input, T = 3 and the smoothing of the converged part, seed 0;
  the CNN also on Lava fixed_pt (first :data:`CNN_LAVA_SAMPLES` test samples). Run it in two
  processes (``--match cnn`` and ``--match mlp``) so that both get one core of the same machine.

Every run is stored in ``OUT/runs_PART.json`` as it ends, with the code that made it
(``provenance``: commit, code commit, dirty flag, versions, command line; benchmarks/
provenance.py); ``OUT/training_recipe.md`` holds the table, also printed, with the code of each
row; ``OUT/depth100.png`` the depth-100 run's rate per layer before and after training and its
learning curve. ``--relay-check runs/d100/checkpoint.pt`` prints how far a trained run's relays
moved from copying. 1 thread per run: start two parts in two processes on 2 cores.

    .venv/bin/python benchmarks/training_recipe.py --parts first_epoch

Stored rows and the code that made them:

* A run is skipped when its row is stored with the same resolved config and input levels and
  by the same code (the same code commit, or the same uncommitted diff on it). A row stored by
  other code, or by unknown code (stored before records carried provenance), is stale: it is
  rerun and replaced. ``--allow-mixed`` skips every row stored with the same config, whatever
  its code.
* The table refuses (exit 1, one line naming the codes and their rows, no table written) to
  mix rows of different or unknown code; ``--allow-mixed`` writes it with the mix named above
  it and the code of each case in its ``code`` column.
* ``--check N`` reruns the N cheapest stored rows of ``--parts`` (by stored seconds; with the
  stored config) and compares the final test accuracy, and the Lava accuracy and mismatched
  spikes where stored, with the stored ones; it prints a line per row and exits 1 when a
  number moved beyond its tolerance: the case's seed spread (max - min of the stored final
  test accuracy over its seeds), at least ``PLATFORM_TOLERANCE``; mismatches must not move at
  all. The rows are deterministic on one CPU (the same code, torch and data give the same
  numbers bit for bit), so any move there is a change of code; on another CPU the float
  rounding of training differs, and a rerun is another draw of the same case.
  It writes nothing unless ``--update`` is given, which replaces the checked rows with their
  reruns (rewrite the table with ``--parts ""`` after).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from provenance import UNKNOWN_CODE, code_identity, current_provenance, same_code

from lava_init.files import atomic_write, atomic_write_text
from lava_init.tables import format_table
from lava_init.training.checkpoints import load_checkpoint, load_model
from lava_init.training.config import (
    BASE_LR,
    TRAIN_NEURON,
    NeuronConfig,
    TrainConfig,
)
from lava_init.training.data import SHARED_DATA, load_dataset
from lava_init.training.depth_sweep import NORM
from lava_init.training.lava_check import export_and_verify, measure_current_wrap
from lava_init.training.loop import build_network, layer_rates, load_splits, train
from lava_init.training.plan import TrainPlan, plan_training

#: Baselines: their init with the optimizer of the recipe and the neuron's surrogate as given.
BASELINES = ("slayer_default", "kaiming", "variance_conserving")
#: The learning rates of the first_epoch part's shared sweep besides ``BASE_LR`` (its rows
#: without ``lr`` in their label): every init gets the best of the three.
LR_SWEEP = (1e-3, 1e-2)
PARTS = ("first_epoch", "depth100", "converged", "integrating", "events", "fashion_cnn")
#: lava-dl's tutorial decays with the training surrogate (the integrating part's neuron).
INTEGRATING_NEURON = dataclasses.replace(TRAIN_NEURON, current_decay=0.25, voltage_decay=0.03)
#: Test recordings the events part's recipe network runs on Lava fixed_pt.
EVENT_LAVA_SAMPLES = 200
#: The converged part's input: round(T * intensity) spikes per pixel, spread evenly (without
#: the Bernoulli noise of rate coding; ``lava-init train --dataset mnist --epochs 2``: 0.951
#: with ``--encoding regular``, 0.947 with ``rate``), with its relay blocks at the full lr (9
#: relays learn better at 3e-3 than at 3e-3 / 9: 0.955 with ``--relay-lr 3e-3``).
CONVERGED_ENCODING = "regular"
#: Fashion-MNIST's label smoothing in the converged part (``--label-smoothing``).
FASHION_SMOOTHING = 0.2
#: The converged part's regularization per data set. Without it the 15-epoch runs overfit
#: (seed 0, train / test accuracy: MNIST 0.995 / 0.974, Fashion-MNIST 0.915 / 0.854). MNIST
#: training images moved by up to a pixel (``--shift 1``): 0.977 / 0.977. On Fashion-MNIST
#: augmentation trades the training accuracy for nothing (``FASHION_AUGMENTATIONS``, seed 0:
#: mirrored 0.888 / 0.853, also moved 0.837 / 0.836); label smoothing keeps the training
#: accuracy and lifts the test accuracy (seed 0, test accuracy with smoothing 0 / 0.1 / 0.2 /
#: 0.3 / 0.4: 0.854 / 0.859 / 0.864 / 0.860 / 0.855; docs/training.md, "Label smoothing").
CONVERGED_REGULARIZATION = {"mnist": {"shift": 1},
                            "fashion-mnist": {"label_smoothing": FASHION_SMOOTHING}}
#: Fashion-MNIST rows beside the recipe's: without smoothing (all seeds, and Kaiming), and
#: without smoothing but with augmented images (seed 0).
UNSMOOTHED = {"label_smoothing": 0.0}
FASHION_AUGMENTATIONS = {"flip": {"flip": True, **UNSMOOTHED},
                         "shift+flip": {"shift": 1, "flip": True, **UNSMOOTHED}}
#: Fashion-MNIST rows with graded input (``--encoding graded``: each pixel's intensity ramped
#: over the T steps, sent to Lava as graded messages into the first layer), smoothed like the
#: recipe's. At T = 3 binary input spikes bound what the first layer sees: a binarized image
#: per step; with graded input it sees the image itself against three thresholds (docs/
#: training.md, "Graded input").
FASHION_GRADED = {"encoding": "graded"}
#: The fashion_cnn part's CNN on top of the converged graded Fashion-MNIST settings: 4 CUBA
#: convolutions of 32 channels (3 x 3, stride 2 at the 2nd and 4th: 28 -> 14 -> 7), Dense 100,
#: lava-init+norm's init (lava_init/training/depth_sweep.py), batch 32, lr 1e-2 (MNIST-1D's
#: best rate at depth 4, 32 channels; not swept here), 4 epochs: about an hour of one core.
FASHION_CNN = {**NORM, "arch": "cnn", "depth": 4, "channels": 32, "batch_size": 32, "lr": 1e-2,
               "relay_lr": None, "epochs": 4}
#: The converged graded MLP's epochs in the fashion_cnn part: about the CNN's wall clock (the
#: converged part's 15 epochs took 1,170 to 2,500 s; the CNN's 4 about 4,000 s).
FASHION_MLP_EPOCHS = 45
#: Test samples the fashion_cnn part's CNN runs on Lava fixed_pt.
CNN_LAVA_SAMPLES = 200
#: SLAYER's default as it trained best at T = 20 (docs/beyond_the_paper.md section 7).
SECTION7 = {"batch_size": 64, "lr": 1e-3, "count_scale": 1.0,
            "neuron": dataclasses.replace(INTEGRATING_NEURON, tau_grad=0.01)}
#: ``--check``'s smallest tolerance on an accuracy: a rerun on the CPU that stored a row gives
#: its number bit for bit, but on another CPU the same code and seed round differently, and
#: after an epoch the accuracy moves by about a case's seed spread (seen on two of this
#: project's machines, rows of the ``first_epoch`` part): 10 of 1,000 test samples.
PLATFORM_TOLERANCE = 0.01


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="comma-separated parts to run; \"\" only writes the tables")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--epochs", type=int, default=15, help="epochs of the converged part")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--events-dir", type=Path, default=Path("runs/saccade_nmnist"),
                        help="N-MNIST-format recordings (benchmarks/saccade_nmnist.py --out)")
    parser.add_argument("--channels", type=int, default=8,
                        help="channels per convolution of the events part's CNN")
    parser.add_argument("--lava-samples", type=int, default=1000,
                        help="Lava test samples of the converged part (seed 0)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/training_recipe"))
    parser.add_argument("--match", default="",
                        help="comma-separated label parts: run only the runs whose label holds "
                             "one (e.g. kaiming,slayer_default), to split a part over processes")
    parser.add_argument("--relay-check", type=Path, default=None, metavar="CHECKPOINT",
                        help="only print how far a trained run's relays moved from copying")
    parser.add_argument("--allow-mixed", action="store_true",
                        help="keep rows stored by other or unknown code instead of rerunning "
                             "them, and write a table that mixes codes")
    parser.add_argument("--check", type=int, default=0, metavar="N",
                        help="rerun the N cheapest stored rows of --parts and exit 1 where a "
                             "number moved beyond its tolerance (stores nothing)")
    parser.add_argument("--update", action="store_true",
                        help="with --check: replace the checked rows by their reruns")
    args = parser.parse_args(argv)
    if args.check < 0:
        parser.error(f"--check takes a number of rows >= 0, not {args.check}")
    if args.update and not args.check:
        parser.error("--update only goes with --check N")
    return args


def runs_for(part: str, args: argparse.Namespace) -> list[tuple[str, TrainConfig, int]]:
    """``(label, config, lava samples)`` of every run of ``part``."""
    seeds = [int(s) for s in args.seeds.split(",")]
    mnist = str(args.data_dir / "mnist")
    runs = []
    if part == "first_epoch":
        runs = first_epoch_runs(mnist, seeds)
    elif part == "depth100":
        runs.append(("recipe d100 s0", TrainConfig(depth=100, epochs=1, data_dir=mnist,
                                                   encoding="rate", readout_population=1,
                                                   progress=False), 10))
    elif part == "converged":
        for dataset in ("mnist", "fashion-mnist"):
            base = converged_base(dataset, args.epochs, args.data_dir)
            runs += [(f"recipe {dataset} s{seed}", dataclasses.replace(base, seed=seed),
                      args.lava_samples if seed == 0 else 0) for seed in seeds]
            runs += [(f"{init} {dataset} s0", dataclasses.replace(
                base, init=init, conserve_gradient=False), 0) for init in BASELINES[:2]]
            if dataset == "fashion-mnist":
                runs += [(f"recipe unsmoothed {dataset} s{seed}", dataclasses.replace(
                    base, seed=seed, **UNSMOOTHED), args.lava_samples if seed == 0 else 0)
                         for seed in seeds]
                runs.append((f"kaiming unsmoothed {dataset} s0", dataclasses.replace(
                    base, init="kaiming", conserve_gradient=False, **UNSMOOTHED), 0))
                runs += [(f"recipe {name} {dataset} s0", dataclasses.replace(base, **augment), 0)
                         for name, augment in FASHION_AUGMENTATIONS.items()]
                runs += [(f"recipe graded {dataset} s{seed}", dataclasses.replace(
                    base, seed=seed, **FASHION_GRADED), args.lava_samples if seed == 0 else 0)
                         for seed in seeds]
                runs += [(f"{init} graded {dataset} s0", dataclasses.replace(
                    base, init=init, conserve_gradient=False, **FASHION_GRADED), 0)
                         for init in BASELINES[:2]]
    elif part == "integrating":
        runs = integrating_runs(args, seeds)
    elif part == "fashion_cnn":
        mlp = dataclasses.replace(converged_base("fashion-mnist", FASHION_MLP_EPOCHS,
                                                 args.data_dir), **FASHION_GRADED)
        runs = [("recipe cnn graded fashion-mnist s0", dataclasses.replace(mlp, **FASHION_CNN),
                 CNN_LAVA_SAMPLES),
                (f"recipe mlp e{FASHION_MLP_EPOCHS} graded fashion-mnist s0", mlp, 0)]
    elif part == "events":
        base = TrainConfig(dataset="nmnist", arch="cnn", depth=4, channels=args.channels,
                           time_steps=20, epochs=3, limit=3000, test_limit=1000,
                           neuron=INTEGRATING_NEURON, data_dir=str(args.events_dir),
                           progress=False)
        for seed in seeds:
            runs.append((f"recipe T20 events cnn s{seed}", dataclasses.replace(base, seed=seed),
                         EVENT_LAVA_SAMPLES if seed == seeds[0] else 0))
            runs.append((f"slayer_default T20 events cnn s{seed}", dataclasses.replace(
                base, seed=seed, init="slayer_default", conserve_gradient=False), 0))
    else:
        raise ValueError(f"unknown part {part!r}; valid: {', '.join(PARTS)}")
    return runs


def converged_base(dataset: str, epochs: int, data_dir: Path) -> TrainConfig:
    """The converged part's recipe run on ``dataset`` (MLP 10 x 100, regular input, the relay
    blocks at the full lr, the data set's regularization) for ``epochs`` epochs."""
    return TrainConfig(dataset=dataset, depth=10, epochs=epochs, encoding=CONVERGED_ENCODING,
                       relay_lr=BASE_LR, data_dir=str(data_dir / dataset), progress=False,
                       **CONVERGED_REGULARIZATION[dataset])


def first_epoch_runs(mnist: str, seeds: list[int]) -> list[tuple[str, TrainConfig, int]]:
    """The ``first_epoch`` part: the recipe at depth 1, 10 and 30, with rate-coded input
    deeper, the baselines, and every init at the rates of :data:`LR_SWEEP` at depth 1 and 10."""
    runs = []
    for depth in (1, 10, 30):
        base = TrainConfig(depth=depth, epochs=1, limit=10_000, test_limit=1000,
                           data_dir=mnist, progress=False)
        runs += [(f"recipe d{depth} s{seed}", dataclasses.replace(base, seed=seed), 0)
                 for seed in seeds]
        if depth > 1:
            runs += [(f"recipe rate d{depth} s{seed}", dataclasses.replace(
                base, seed=seed, encoding="rate"), 0) for seed in seeds]
        runs += [(f"{init} d{depth} s0", dataclasses.replace(
            base, init=init, conserve_gradient=False), 0) for init in BASELINES]
        if depth < 30:  # every init at each rate of the shared sweep, seed 0
            for lr in LR_SWEEP:
                runs.append((f"recipe lr{lr:g} d{depth} s0",
                             dataclasses.replace(base, lr=lr), 0))
                runs += [(f"{init} lr{lr:g} d{depth} s0", dataclasses.replace(
                    base, init=init, lr=lr, conserve_gradient=False), 0)
                    for init in BASELINES]
    return runs


def integrating_runs(args: argparse.Namespace, seeds: list[int]
                     ) -> list[tuple[str, TrainConfig, int]]:
    """The ``integrating`` part: recipe, SLAYER's default alike, SLAYER's default at its best."""
    runs = []
    for dataset, depths in (("mnist", (10, 20, 30)), ("fashion-mnist", (20,))):
        for depth in depths:
            base = TrainConfig(dataset=dataset, depth=depth, time_steps=20, epochs=3,
                               limit=3000, test_limit=1000, neuron=INTEGRATING_NEURON,
                               data_dir=str(args.data_dir / dataset), progress=False)
            case = f"T20 {dataset} d{depth}"
            for seed in seeds:
                runs.append((f"recipe {case} s{seed}", dataclasses.replace(base, seed=seed), 0))
                if seed != seeds[0] and (dataset, depth) != ("mnist", 10):
                    continue
                default = dataclasses.replace(base, seed=seed, init="slayer_default",
                                              conserve_gradient=False)
                runs.append((f"slayer_default {case} s{seed}", default, 0))
                runs.append((f"slayer_default section7 {case} s{seed}",
                             dataclasses.replace(default, **SECTION7), 0))
    return runs


def input_levels(plan: TrainPlan) -> int | None:
    """The graded input's levels per unit a run takes (None: spikes): a constant of the code,
    not of the config, so a record stores it beside the config to be rerun when it moves."""
    return plan.input.levels


def is_stored(runs: dict, label: str, config: TrainConfig) -> bool:
    """True when ``runs`` holds ``label`` run with ``config`` (resolved) and its input levels;
    a config field the record does not name is newer than the record, which ran with that
    field's default."""
    record = runs.get(label)
    if record is None:
        return False
    stored = {**TrainConfig().as_dict(), **record["config"]}
    plan = plan_training(config)
    return stored == plan.config.as_dict() and record.get("input_levels") == input_levels(plan)


def stored_config(record: dict) -> TrainConfig:
    """The (resolved) config a stored record was run with."""
    return TrainConfig(**{**record["config"], "neuron": NeuronConfig(
        **record["config"]["neuron"])})


def case_of(label: str) -> str:
    """A row's case: its label without the seed."""
    return label.rsplit(" s", 1)[0]


def load_runs(store: Path) -> dict:
    """The records of a part's store (label -> record), empty where it is not written yet."""
    return json.loads(store.read_text()) if store.exists() else {}


def run_one(config: TrainConfig, lava_samples: int, out: Path, label: str,
            made_by: dict) -> dict:
    """Train, then (``lava_samples`` > 0) export to ``out`` and run on Lava fixed_pt; the
    record carries the provenance ``made_by`` and, for graded input, how far the first
    layer's current went on the whole test set (``current_wrap``: Lava's limit, the largest
    current, the fraction of neuron-steps Lava wraps)."""
    plan = plan_training(config)
    started = time.perf_counter()
    result = train(plan)
    record = {"config": plan.config.as_dict(), "metrics": result.metrics,
              "seconds": time.perf_counter() - started, "provenance": made_by}
    test_set = result.test_set if plan.data.test_limit is None else load_dataset(
        plan.data.dataset, False, plan.data.data_dir, plan.input.time_steps, plan.seed,
        plan.data.flatten, None, False, plan.input.encoding)  # the whole test set
    if input_levels(plan) is not None:  # how far the graded first layer's current goes
        record["input_levels"] = input_levels(plan)
        record["current_wrap"] = dataclasses.asdict(measure_current_wrap(result.model, test_set))
    if lava_samples:
        path = out / f"{label.replace(' ', '_')}.net"
        check = export_and_verify(result.model, test_set, path, lava_samples)
        record["lava"] = {"samples": check.samples, "slayer_acc": check.slayer_acc,
                          "lava_acc": check.lava_acc,
                          "mismatches": check.report.total_mismatches,
                          "rates": [layer.lava.rate for layer in check.report.layers]}
    return record


def code_groups(runs: dict) -> dict[str, list[str]]:
    """The labels of ``runs`` per code identity (benchmarks/provenance.py)."""
    groups: dict[str, list[str]] = {}
    for label, record in runs.items():
        groups.setdefault(code_identity(record), []).append(label)
    return groups


def compact_labels(labels: list[str]) -> str:
    """``labels`` with the seeds of a case together: ``recipe d10 s0,1,2, kaiming d10 s0``."""
    seeds: dict[str, list[str]] = {}
    for label in labels:
        case = case_of(label)
        seeds.setdefault(case, []).append(label[len(case) + 2:])
    return ", ".join(case if seed == [""] else f"{case} s{','.join(seed)}"
                     for case, seed in seeds.items())


def mixed_code(runs: dict) -> str | None:
    """One line naming the codes of ``runs`` and their rows when the rows are not all of one
    known code (rows of unknown code may differ among themselves); None when they are."""
    groups = code_groups(runs)
    if len(groups) <= 1 and UNKNOWN_CODE not in groups:
        return None
    return "; ".join(f"{identity} ({len(labels)} row{'s' * (len(labels) > 1)}: "
                     f"{compact_labels(labels)})"
                     for identity, labels in groups.items())


def summary(runs: dict) -> str:
    """Markdown: per case (label without the seed) mean and min..max of the final accuracy,
    and the code that made its rows."""
    cases: dict[str, list[dict]] = {}
    for label, record in runs.items():
        cases.setdefault(case_of(label), []).append(record)
    rows = []
    for case, records in cases.items():
        final = [r["metrics"][-1]["test_acc"] for r in records]
        silent = [r["metrics"][-1]["test_silent"] for r in records]
        lava = next((r["lava"] for r in records if "lava" in r), None)
        rows.append([case, len(records), len(records[0]["metrics"]),
                     f"{statistics.mean(final):.3f}", f"{min(final):.3f}..{max(final):.3f}",
                     f"{statistics.mean(silent):.3f}",
                     "-" if lava is None else f"{lava['slayer_acc']:.3f} / {lava['lava_acc']:.3f}"
                     f" ({lava['samples']}, {lava['mismatches']} mismatches)",
                     f"{statistics.mean(r['seconds'] for r in records):.0f}",
                     ",".join(sorted({code_identity(r) for r in records}))])
    headers = ["case", "seeds", "epochs", "test acc (mean)", "min..max", "silent",
               "SLAYER / Lava acc (samples)", "s/run", "code"]
    return format_table(headers, rows)


def initial_rates(config: TrainConfig) -> list[float]:
    """Per-block rates of ``config``'s network as initialized (before training), measured as
    training measures them after each epoch."""
    plan = plan_training(dataclasses.replace(config, limit=config.batch_size, test_limit=None))
    train_set, test_set = load_splits(plan)
    model = build_network(plan, train_set)[0]
    return list(layer_rates(model, test_set, torch.device("cpu")).values())


def plot_deep_run(record: dict, path: Path) -> Path:
    """Rate per layer before and after training, and test accuracy per epoch (one figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = stored_config(record)
    final = record["metrics"][-1]
    after = [value for key, value in final.items() if key.startswith("rate_")]
    figure, (rates, curve) = plt.subplots(1, 2, figsize=(10, 3.6))
    rates.plot(initial_rates(config), label="initialized (relay)")
    rates.plot(after, label=f"after {len(record['metrics'])} epochs")
    rates.set(xlabel="layer", ylabel="spike rate (spikes/neuron/step)", ylim=(0, None),
              title=f"MNIST MLP, {config.depth} hidden layers x {config.width}, T = 3")
    rates.legend()
    epochs = [0] + [row["epoch"] for row in record["metrics"]]
    curve.plot(epochs, [0.1] + [row["test_acc"] for row in record["metrics"]], marker="o")
    curve.set(xlabel="epoch", ylabel="test accuracy (full MNIST test set)", ylim=(0, 1),
              title="learning curve (0: chance)")
    figure.tight_layout()
    atomic_write(path, lambda temp: figure.savefig(temp, dpi=110, format="png"))
    plt.close(figure)
    return path


@torch.no_grad()
def relay_copy_check(checkpoint: Path, samples: int = 256) -> dict:
    """How far a trained MLP's relays moved from copying: the fraction of spikes in which its
    last hidden layer differs from its first on the first ``samples`` test samples, and the
    relay blocks' mean diagonal weight and off-diagonal rms."""
    config = load_checkpoint(checkpoint)["train_config"]
    model = load_model(checkpoint).eval()
    contract = model.input_contract  # what the network takes: its encoding and T
    test_set = load_dataset(config["dataset"], False, config["data_dir"], contract.time_steps,
                            config["seed"], True, samples, False, contract.encoding)
    spikes = first = model.blocks[0](torch.stack([test_set[i][0] for i in range(samples)]))
    for block in model.blocks[1:-1]:
        spikes = block(spikes)
    square = [b.synapse.weight.flatten(1) for b in model.blocks[1:-1]
              if b.synapse.weight.shape[0] == b.synapse.weight.shape[1]]
    diagonal = torch.stack([w.diagonal().mean() for w in square])
    off = torch.stack([(w - torch.diag(w.diagonal())).pow(2).mean().sqrt() for w in square])
    return {"first_last_differ": float((first != spikes).float().mean()),
            "relay_diagonal": float(diagonal.mean()), "relay_offdiagonal_rms": float(off.mean())}


def selected(label: str, match: str) -> bool:
    """True when ``--match`` (comma-separated label parts, "" for all) selects ``label``."""
    return not match or any(part in label for part in match.split(","))


def tolerance_of(label: str, runs: dict) -> tuple[float, str]:
    """``--check``'s tolerance on row ``label``'s accuracies, and why: the seed spread of its
    case in ``runs`` (its part's store), at least ``PLATFORM_TOLERANCE``."""
    case = case_of(label)
    finals = [record["metrics"][-1]["test_acc"] for other, record in runs.items()
              if case_of(other) == case]
    spread = max(finals) - min(finals) if len(finals) > 1 else 0.0
    if spread > PLATFORM_TOLERANCE:
        return spread, f"seed spread of {case!r} over {len(finals)} seeds"
    return PLATFORM_TOLERANCE, (f"the platform tolerance (seed spread of {case!r} over "
                                f"{len(finals)} seed(s): {spread:.3f})")


def compared_numbers(stored: dict, rerun: dict, tolerance: float
                     ) -> list[tuple[str, float, float, float]]:
    """``(name, stored, rerun, tolerance)`` of the numbers ``--check`` compares: the final test
    accuracy and, where stored, the Lava accuracy and mismatched spikes (tolerance 0)."""
    numbers = [("test acc", stored["metrics"][-1]["test_acc"], rerun["metrics"][-1]["test_acc"],
                tolerance)]
    if "lava" in stored:
        numbers += [("Lava acc", stored["lava"]["lava_acc"], rerun["lava"]["lava_acc"],
                     tolerance),
                    ("mismatches", stored["lava"]["mismatches"], rerun["lava"]["mismatches"], 0)]
    return numbers


def check_stored(args: argparse.Namespace, made_by: dict) -> int:
    """``--check N``: rerun the N cheapest stored rows of ``--parts`` with their stored configs;
    one line per row, 1 when a number moved beyond its tolerance. ``--update`` stores the
    reruns."""
    stores = {part: args.out / f"runs_{part}.json" for part in filter(None, args.parts.split(","))}
    stored = {part: load_runs(store) for part, store in stores.items()}
    rows = sorted(((record["seconds"], part, label) for part, runs in stored.items()
                   for label, record in runs.items() if selected(label, args.match)))
    if not rows:
        print(f"--check: no stored rows in {', '.join(map(str, stores.values()))}",
              file=sys.stderr)
        return 1
    moved_rows = 0
    for _, part, label in rows[:args.check]:
        record = stored[part][label]
        tolerance, reason = tolerance_of(label, stored[part])
        lava_samples = record["lava"]["samples"] if "lava" in record else 0
        with tempfile.TemporaryDirectory() as scratch:  # the stored export stays untouched
            rerun = run_one(stored_config(record), lava_samples,
                            args.out if args.update else Path(scratch), label, made_by)
        numbers = compared_numbers(record, rerun, tolerance)
        beyond = any(abs(new - old) > limit + 1e-9 for _, old, new, limit in numbers)
        moved = any(new != old for _, old, new, _ in numbers)
        moved_rows += beyond
        status = "MOVED" if beyond else "moved within tolerance" if moved else "same"
        print(f"{status}: {part} {label!r}: "
              + ", ".join(f"{name} {old:.4g} -> {new:.4g}" for name, old, new, _ in numbers)
              + f" (tolerance {tolerance:.4g}, {reason}; stored by {code_identity(record)}, "
              f"rerun by {code_identity(made_by)}, {rerun['seconds']:.0f} s)", flush=True)
        if args.update:
            runs = load_runs(stores[part])
            runs[label] = rerun
            atomic_write_text(json.dumps(runs, indent=1), stores[part])
    checked = min(args.check, len(rows))
    print(f"--check: {moved_rows} of {checked} rows moved beyond their tolerance"
          + (f" (only {len(rows)} stored)" if len(rows) < args.check else "")
          + ("; reruns stored, rewrite the table with --parts ''" if args.update else ""))
    return 1 if moved_rows else 0


def run_parts(args: argparse.Namespace, made_by: dict) -> None:
    """Run every run of ``--parts`` that is not stored by the current code (or, with
    ``--allow-mixed``, not stored at all), storing each as it ends."""
    for part in filter(None, args.parts.split(",")):  # "" only summarizes
        store = args.out / f"runs_{part}.json"
        for label, config, lava_samples in runs_for(part, args):
            if not selected(label, args.match):
                continue
            runs = load_runs(store)
            if is_stored(runs, label, config):  # stored resolved: defaults may move
                if args.allow_mixed or same_code(runs[label], made_by):
                    continue
                print(f"{label}: stored by code {code_identity(runs[label])}, now "
                      f"{code_identity(made_by)}: rerun", flush=True)
            record = run_one(config, lava_samples, args.out, label, made_by)
            runs = load_runs(store)
            runs[label] = record
            atomic_write_text(json.dumps(runs, indent=1), store)
            print(f"{label}: test acc {record['metrics'][-1]['test_acc']:.4f}", flush=True)


def write_table(args: argparse.Namespace) -> int:
    """Write and print the table of every stored part; 1 (no table) where its rows are of
    different code and ``--allow-mixed`` is not given."""
    runs = {label: record for path in sorted(args.out.glob("runs_*.json"))
            for label, record in load_runs(path).items()}
    mixed = mixed_code(runs)
    if mixed and not args.allow_mixed:
        print(f"refusing a table of rows from different code: {mixed}; rerun the stale parts "
              "(they rerun rows of other code) or pass --allow-mixed", file=sys.stderr)
        return 1
    table = summary(runs)
    note = ("Rows from different code (column `code`; `unknown`: stored before records carried "
            "provenance), written with `--allow-mixed`.\n\n" if mixed else "")
    atomic_write_text(f"{note}```\n{table}\n```\n", args.out / "training_recipe.md")
    if mixed:
        print(f"mixed code: {mixed}")
    if "recipe d100 s0" in runs:
        print(f"figure: {plot_deep_run(runs['recipe d100 s0'], args.out / 'depth100.png')}")
    print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    if args.relay_check is not None:
        print(json.dumps(relay_copy_check(args.relay_check)))
        return 0
    made_by = current_provenance(__file__, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.check:
        return check_stored(args, made_by)
    run_parts(args, made_by)
    return write_table(args)


if __name__ == "__main__":
    sys.exit(main())
