"""Does depth pay for plain spiking CNNs on MNIST-1D? A depth sweep per init, beside an ANN.

Every row trains ``lava-init train``'s 1D CNN (``--dataset mnist1d --arch cnn1d``: ``depth``
convolutions of 32 channels with 1 x 5 kernels, stride 2 at the 2nd and 4th, Dense 100, a
readout Dense) with memoryless CUBA neurons on the graded ON / OFF signal, Adam with a cosine
schedule, at one fixed budget (``--epochs``, batch 32) for each init of :data:`RECIPES` and
each learning rate of ``--lrs``. A row stores the test accuracy after epoch 1 and at the end,
each layer's silent fraction (neurons that never spike on the first 256 test samples) at
init and after training, and the provenance (command, commit: benchmarks/provenance.py). A
grown recipe (``grown+c64``) first trains its base, once per depth and seed, and grows it
with relays to the row's depth (``--grow-from``); its rows also store the base and how much
each added relay still copies its input. The
``ann`` rows train the same shape as a ReLU CNN (a few lines of torch) on the same signals.

``--diagnose`` trains nothing: it stores each init's layer rates, silent fractions,
weight-gradient norms and class information (a ridge readout's test accuracy on each hidden
block's spike counts) at init in ``OUT/init_diagnosis.json``.

Rows go to ``OUT/runs.json`` as each ends (a stored row with the same label is kept unless
``--rerun``); ``OUT/mnist1d_depth.md`` holds the table: per init, depth and seed the best
learning rate's row. ``--quick``: one tiny row (depth 2, 512 samples, 2 epochs) for the tests.

    python benchmarks/mnist1d_depth.py --inits lava-init,kaiming --depths 1,2,4,8 --seeds 0
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from provenance import current_provenance

from lava_init.activity import measure_activity
from lava_init.backward import weight_gradient_norms
from lava_init.files import atomic_write_text
from lava_init.slayer_blocks import eval_mode, spiking_blocks
from lava_init.tables import format_table
from lava_init.training.checkpoints import save_model
from lava_init.training.config import NUM_CLASSES, TrainConfig
from lava_init.training.data import load_dataset
from lava_init.training.depth_sweep import ANN_SHAPES, BASE, GROWN_FROM, RECIPES, RELAYS_AT_LR
from lava_init.training.lava_check import export_and_verify
from lava_init.training.loop import build_network, load_splits, train
from lava_init.training.plan import plan_training

OUT = Path(__file__).resolve().parent / "results" / "mnist1d_depth"
#: Test samples whose layers' silent fractions are measured.
ACTIVITY_SAMPLES = 256
#: Training signals the class-information readout (``--diagnose``) is fitted on, its penalty.
PROBE_SAMPLES, PROBE_RIDGE = 2000, 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inits", default="lava-init",
                        help=f"comma-separated, of {', '.join((*RECIPES, *ANN_SHAPES))}")
    parser.add_argument("--depths", default="1,2,4,8,16")
    parser.add_argument("--lrs", default="0.01", help="comma-separated learning rates")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--time-steps", type=int, default=None,
                        help=f"T (default: the recipe's, else {BASE.time_steps}; another T "
                        "than that is named in the row's label)")
    parser.add_argument("--limit", type=int, default=None, help="training samples")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--rerun", action="store_true", help="replace stored rows")
    parser.add_argument("--lava", type=int, default=0, metavar="N",
                        help="export each SNN row to OUT/LABEL.net and run it on Lava "
                        "fixed_pt on the first N test signals")
    parser.add_argument("--diagnose", action="store_true",
                        help="store each init's rates, silent fractions, gradient norms "
                        "and class information at init in OUT/init_diagnosis.json (one row "
                        "per init and depth, the others kept), train nothing")
    parser.add_argument("--quick", action="store_true",
                        help="one tiny row: depth 2, 512 samples, 2 epochs")
    args = parser.parse_args(argv)
    if args.quick:
        args.depths, args.seeds, args.epochs, args.limit = "2", "0", 2, 512
    return args


def row_config(args: argparse.Namespace, init: str, depth: int, lr: float, seed: int
               ) -> TrainConfig:
    """The :class:`TrainConfig` of one SNN row."""
    recipe = dict(RECIPES[init])
    recipe.pop(GROWN_FROM, None)  # set by grown_config
    if recipe.pop(RELAYS_AT_LR, False):
        recipe["relay_lr"] = lr
    if args.time_steps is not None:
        recipe["time_steps"] = args.time_steps
    return dataclasses.replace(BASE, **recipe, depth=depth, lr=lr, seed=seed,
                               epochs=args.epochs, limit=args.limit,
                               test_limit=args.limit and args.limit * 4,
                               data_dir=args.data_dir)


def grown_config(args: argparse.Namespace, init: str, depth: int, lr: float, seed: int,
                 bases: dict[tuple[int, int], dict], folder: Path) -> tuple[TrainConfig, dict]:
    """The config of a grown row (``init``'s :class:`GrowthBase`) and its base: the base is
    trained once per depth and seed in this process (kept in ``bases``, its checkpoint in
    ``folder``) and described by its label, test accuracy and seconds."""
    base = RECIPES[init][GROWN_FROM]
    base_depth = base.depth_for(depth)
    if (base_depth, seed) not in bases:
        label = label_of(base.recipe, base_depth, base.lr, base.epochs, seed)
        plan = plan_training(dataclasses.replace(
            row_config(args, base.recipe, base_depth, base.lr, seed), epochs=base.epochs))
        started = time.perf_counter()
        result = train(plan)
        path = save_model(folder / f"{label.replace(' ', '_')}.pt", result.model,
                          result.model_config)
        bases[base_depth, seed] = {"label": label, "depth": base_depth, "path": str(path),
                                   "test_acc": result.metrics[-1]["test_acc"],
                                   "seconds": time.perf_counter() - started}
        print(f"{label} (the base): {result.metrics[-1]['test_acc']:.3f}", flush=True)
    grown = bases[base_depth, seed]
    config = dataclasses.replace(row_config(args, init, depth, lr, seed),
                                 grow_from=grown["path"])
    return config, {key: value for key, value in grown.items() if key != "path"}


def relay_copies(model: torch.nn.Module, values: torch.Tensor, blocks: range) -> list[float]:
    """For each of ``blocks`` (relays that keep their input's shape), the fraction of its
    output spikes on ``values`` equal to its input spikes: 1.0 for a relay that still copies."""
    agreement: dict[int, list[float]] = {index: [] for index in blocks}
    handles = [model.blocks[index].register_forward_hook(
        lambda _module, inputs, output, kept=agreement[index]: kept.append(
            float((inputs[0] == output).float().mean())))
        for index in blocks]
    try:
        with eval_mode(model), torch.no_grad():
            model(values)
    finally:
        for handle in handles:
            handle.remove()
    return [kept[0] for kept in agreement.values()]


def first_samples(dataset: torch.utils.data.Dataset, count: int) -> torch.Tensor:
    """The inputs of ``dataset``'s first ``count`` samples (all, when it has fewer)."""
    return torch.stack([dataset[i][0] for i in range(min(count, len(dataset)))])


def silent_fractions(model: torch.nn.Module, values: torch.Tensor) -> list[float]:
    """Each layer's fraction of neurons that never spike on ``values``."""
    return [layer.silent_fraction for layer in measure_activity(model, values).layers]


def snn_row(config: TrainConfig, lava_samples: int = 0, netx_path: Path | None = None,
            grown_from: dict | None = None) -> dict:
    """Train one SNN row; its accuracies, silent fractions at init and after training, and
    with ``lava_samples`` the NetX export at ``netx_path`` run on Lava fixed_pt on that many
    test signals (SLAYER and Lava accuracy, mismatched spikes); a grown row
    (``config.grow_from``) also its base (``grown_from``) and how much each added relay
    still copies its input after training (:func:`relay_copies`)."""
    plan = plan_training(config)
    train_set, test_set = load_splits(plan)
    values = first_samples(test_set, ACTIVITY_SAMPLES)
    model = build_network(plan, train_set)[0]  # the init train() draws, measured before
    silent_init = silent_fractions(model, values)
    grown = {}
    if grown_from is not None:
        relays = range(grown_from["depth"], plan.model.depth)
        grown = {"grown_from": grown_from, "relay_copies_init": relay_copies(model, values,
                                                                             relays)}
    started = time.perf_counter()
    result = train(plan)
    accuracies = [row["test_acc"] for row in result.metrics]
    if grown_from is not None:
        grown["relay_copies_trained"] = relay_copies(result.model, values, relays)
    lava = {}
    if lava_samples:
        check = export_and_verify(result.model, result.test_set, netx_path, lava_samples)
        lava = {"lava": {"samples": check.samples, "slayer_acc": check.slayer_acc,
                         "lava_acc": check.lava_acc,
                         "mismatches": check.report.total_mismatches}}
    return {**lava, **grown, "config": plan.config.as_dict(), "epoch1_acc": accuracies[0],
            "test_acc": accuracies[-1], "test_acc_per_epoch": accuracies,
            "train_acc_per_epoch": [row["train_acc"] for row in result.metrics],
            "rates_trained": [v for k, v in result.metrics[-1].items() if k.startswith("rate_")],
            "silent_init": silent_init, "silent_trained": silent_fractions(result.model, values),
            "seconds": time.perf_counter() - started}


def spike_counts(model: torch.nn.Module, values: torch.Tensor) -> list[torch.Tensor]:
    """Each hidden block's spike counts over the T steps, one flat row per signal."""
    blocks = spiking_blocks(model)[:-1]
    counts: list[list[torch.Tensor]] = [[] for _ in blocks]
    handles = [block.register_forward_hook(
        lambda _module, _input, output, kept=kept: kept.append(output.sum(-1).flatten(1)))
        for (_, block), kept in zip(blocks, counts, strict=True)]
    try:
        with torch.no_grad():
            for batch in values.split(256):
                model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return [torch.cat(kept) for kept in counts]


def class_information(model: torch.nn.Module, train_set: torch.utils.data.Dataset,
                      test_set: torch.utils.data.Dataset) -> list[float]:
    """How much of the class each hidden block's spikes still carry: the test accuracy of a
    ridge readout (penalty :data:`PROBE_RIDGE`, standardized counts) fitted on the counts of
    the first :data:`PROBE_SAMPLES` training signals, scored on the whole test set."""
    model.eval()
    train_values, test_values = first_samples(train_set, PROBE_SAMPLES), first_samples(
        test_set, len(test_set))
    labels = [torch.tensor([int(dataset[i][1]) for i in range(len(values))])
              for dataset, values in ((train_set, train_values), (test_set, test_values))]
    targets = F.one_hot(labels[0], NUM_CLASSES).float()
    accuracies = []
    for fit, score in zip(spike_counts(model, train_values), spike_counts(model, test_values),
                          strict=True):
        mean, std = fit.mean(0), fit.std(0) + 1e-6
        fit, score = (F.pad((x - mean) / std, (0, 1), value=1.0) for x in (fit, score))
        readout = torch.linalg.solve(fit.T @ fit + PROBE_RIDGE * torch.eye(fit.shape[1]),
                                     fit.T @ targets)
        accuracies.append(float(((score @ readout).argmax(1) == labels[1]).float().mean()))
    return accuracies


def init_diagnosis(args: argparse.Namespace, made_by: dict) -> dict:
    """Per init and depth, before training: each layer's rate and silent fraction on the first
    256 test signals, its weight-gradient norm for a fixed random output gradient
    (:func:`lava_init.backward.weight_gradient_norms`) and the class information its spikes
    carry (:func:`class_information`), the init as each row draws it."""
    rows = {}
    for init in args.inits.split(","):
        for depth in map(int, args.depths.split(",")):
            plan = plan_training(row_config(args, init, depth, 0.01, 0))
            train_set, test_set = load_splits(plan)
            values = first_samples(test_set, ACTIVITY_SAMPLES)
            model = build_network(plan, train_set)[0]
            activity = measure_activity(model, values)
            rows[f"{init} d{depth}"] = {
                "rates": activity.rates,
                "silent": [layer.silent_fraction for layer in activity.layers],
                "gradient_norms": weight_gradient_norms(model, values),
                "class_information": class_information(model, train_set, test_set),
                "provenance": made_by}
            print(f"{init} d{depth}: silent max {max(rows[f'{init} d{depth}']['silent']):.2f}",
                  flush=True)
    return rows


def ann(depth: int, in_channels: int, length: int, channels: int = 32, width: int = 100
        ) -> torch.nn.Sequential:
    """The ReLU CNN of the SNN's shape: ``depth`` 5-wide convolutions (stride 2 at the 2nd
    and 4th), Dense ``width``, Dense 10."""
    layers: list[torch.nn.Module] = []
    for layer in range(depth):
        stride = 2 if layer in (1, 3) else 1
        layers += [torch.nn.Conv1d(in_channels, channels, 5, stride, 2), torch.nn.ReLU()]
        in_channels, length = channels, (length - 1) // stride + 1
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(channels * length,
                               width), torch.nn.ReLU(), torch.nn.Linear(width, NUM_CLASSES))


def ann_row(config: TrainConfig) -> dict:
    """Train the ANN of :func:`ann` on the ON / OFF signals (unquantized), as the SNN rows;
    torch's default init, or He's (``config.init`` "kaiming")."""
    def signals(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        data = load_dataset("mnist1d", train, config.data_dir, 1, limit=config.limit if train
                            else config.test_limit)
        return data.images.squeeze(2), data.labels

    (x, y), (x_test, y_test) = signals(True), signals(False)
    torch.manual_seed(config.seed)
    net = ann(config.depth, x.shape[1], x.shape[2], config.channels, config.width)
    he_init = config.init == "kaiming"
    if he_init:  # He et al. (arXiv 1502.01852): Var[w] = 2 / fan_in, zero biases
        for layer in net:
            if isinstance(layer, (torch.nn.Conv1d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                torch.nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    steps = config.epochs * math.ceil(len(x) / config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    accuracies, started = [], time.perf_counter()
    for epoch in range(config.epochs):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        for batch in order.split(config.batch_size):
            loss = F.cross_entropy(net(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        with torch.no_grad():
            accuracies.append(float((net(x_test).argmax(1) == y_test).float().mean()))
    return {"config": {**config.as_dict(),
                       "init": "ann (kaiming)" if he_init else "ann (torch default)"},
            "epoch1_acc": accuracies[0], "test_acc": accuracies[-1],
            "test_acc_per_epoch": accuracies, "seconds": time.perf_counter() - started}


def label_of(init: str, depth: int, lr: float, epochs: int, seed: int,
             time_steps: int | None = None) -> str:
    """A row's label; ``time_steps``: the T asked on the command line, named when it is not
    the recipe's own (the row's recipe, :func:`lava_init.training.depth_sweep.recipe_of`)."""
    recipe_steps = RECIPES.get(init, {}).get("time_steps", BASE.time_steps)
    steps = "" if time_steps in (None, recipe_steps) else f" T{time_steps}"
    return f"{init}{steps} d{depth} lr{lr:g} e{epochs} s{seed}"


def table(runs: dict) -> str:
    """Per init, depth and seed the row of the best final test accuracy over learning rates."""
    best: dict[tuple, dict] = {}
    for record in runs.values():
        key = (record["init"], record["config"]["time_steps"], record["config"]["epochs"],
               record["config"]["depth"], record["config"]["seed"])
        if key not in best or record["test_acc"] > best[key]["test_acc"]:
            best[key] = record
    headers = ["init", "T", "depth", "seed", "best lr", "epochs", "epoch-1 acc", "test acc",
               "silent at init (max layer)", "silent trained (max layer)", "commit"]
    rows = [[r["init"], r["config"]["time_steps"], depth, seed, r["config"]["lr"],
             r["config"]["epochs"], r["epoch1_acc"], r["test_acc"],
             max(r.get("silent_init", [math.nan])),
             max(r.get("silent_trained", [math.nan])), r["provenance"]["commit"][:12]]
            for (_, _, _, depth, seed), r in sorted(best.items())]
    return format_table(headers, rows)


def store_row(store: Path, label: str, record: dict) -> dict:
    """Add ``record`` to the rows stored in ``store`` now (another sweep may have added rows
    since this one started) and write them atomically; returns all rows."""
    store.parent.mkdir(parents=True, exist_ok=True)
    with open(store.with_name(f".{store.name}.sweeps"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits for another sweep's write
        runs = json.loads(store.read_text()) if store.exists() else {}
        runs[label] = record
        atomic_write_text(json.dumps(runs, indent=1), store)
    return runs


def run_row(args: argparse.Namespace, init: str, depth: int, lr: float, seed: int, label: str,
            bases: dict[tuple[int, int], dict], folder: Path) -> dict:
    """Train the row ``label`` (an ANN, an SNN or a grown SNN) and print its accuracies."""
    grown_from = None
    if init in ANN_SHAPES:
        config = dataclasses.replace(row_config(args, "paper", depth, lr, seed),
                                     **ANN_SHAPES[init])
    elif GROWN_FROM in RECIPES[init]:
        config, grown_from = grown_config(args, init, depth, lr, seed, bases, folder)
    else:
        config = row_config(args, init, depth, lr, seed)
    netx_path = args.out / f"{label.replace(' ', '_')}.net"
    record = ann_row(config) if init in ANN_SHAPES else snn_row(config, args.lava, netx_path,
                                                                grown_from)
    if grown_from is not None:  # the base's label, not the temporary checkpoint
        record["config"]["grow_from"] = grown_from["label"]
    print(f"{label}: epoch 1 {record['epoch1_acc']:.3f}, final {record['test_acc']:.3f} "
          f"({record['seconds']:.0f} s)", flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    made_by = current_provenance(__file__, argv)
    if args.diagnose:
        path = args.out / "init_diagnosis.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        rows = {**stored, **init_diagnosis(args, made_by)}  # the rows run replace their own
        atomic_write_text(json.dumps(rows, indent=1), path)
        return 0
    store = args.out / "runs.json"
    runs = json.loads(store.read_text()) if store.exists() else {}
    bases: dict[tuple[int, int], dict] = {}  # the grown rows' bases, trained once each
    with tempfile.TemporaryDirectory(prefix="mnist1d-bases-") as folder:
        for init in args.inits.split(","):
            if init not in (*RECIPES, *ANN_SHAPES):
                raise SystemExit(f"unknown init {init!r}; valid: "
                                 f"{', '.join((*RECIPES, *ANN_SHAPES))}")
            for depth in map(int, args.depths.split(",")):
                for seed in map(int, args.seeds.split(",")):
                    for lr in map(float, args.lrs.split(",")):
                        label = label_of(init, depth, lr, args.epochs, seed, args.time_steps)
                        if label not in runs or args.rerun:
                            record = run_row(args, init, depth, lr, seed, label, bases,
                                             Path(folder))
                            runs = store_row(store, label, {"init": init, **record,
                                                            "provenance": made_by})
    text = table(json.loads(store.read_text()) if store.exists() else {})
    print(text)
    atomic_write_text(f"# MNIST-1D depth sweep\n\n{text}\n", args.out / "mnist1d_depth.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
