"""``lava-init train``: train a SLAYER MLP or CNN from any initializer, resumable, DDP-ready.

Adam, a cosine learning-rate schedule over all steps, cross-entropy on the output spike counts
(summed over the T steps). Each epoch appends a row to ``RUN_DIR/metrics.csv`` and saves an
atomic checkpoint (model, optimizer, scheduler, epoch, RNG states); ``--resume`` continues
from it with the same results as an uninterrupted run. Started with ``torchrun`` the same
command trains data-parallel (DDP; gloo on CPU, nccl on GPU), the global batch split between
the processes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import inspect
import io
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from lava_init.activity import measure_activity
from lava_init.calibrate import calibrate
from lava_init.checkpoint import atomic_save, atomic_write_text, load_checkpoint
from lava_init.data import DATASETS, NUM_CLASSES, SpikeDataset, load_dataset
from lava_init.init import INITIALIZERS, get_initializer
from lava_init.models import (
    ARCHITECTURES,
    MEMORYLESS,
    NeuronConfig,
    build_model,
    pad_for_lava,
    spiking_layers,
)
from lava_init.network import initialize
from lava_init.report import format_table

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.csv"
NETX_NAME = "network.net"
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")
#: Test samples whose per-layer spike rates are logged each epoch.
RATE_SAMPLES = 256
#: The default neuron for training: the paper's memoryless CUBA neuron (threshold 1.25, decays
#: 1.0) with a surrogate gradient that reaches the first layers of a deep net. lava-dl's
#: tutorial surrogate (tau_grad 0.03, scale_grad 3) shrinks the gradient ~10x per block
#: (benchmarks/gradient_flow.py); see docs/training.md.
TRAIN_NEURON = dataclasses.replace(MEMORYLESS, tau_grad=0.01, scale_grad=10.0)
#: Config fields that may differ between a run and its resumption.
RESUME_FREE_FIELDS = ("resume", "progress", "out", "data_dir", "download")


@dataclass
class TrainConfig:
    """One training run. ``depth``: hidden Dense layers (mlp) or convolutions (cnn);
    ``width``: hidden Dense neurons; ``channels``: convolution channels (cnn);
    ``limit`` / ``test_limit``: use only the first N training / test samples;
    ``neuron``: :data:`TRAIN_NEURON` by default;
    ``delay_shift``: SLAYER's one-step delay per block (off: every layer sees the T steps,
    the paper's setting; see :mod:`lava_init.models`); ``calibrate``: after the init, run
    :func:`lava_init.calibrate` on the first ``batch_size`` training samples (every block to
    their input rate, the output block to ``readout_rate`` when given)."""

    dataset: str = "mnist"
    arch: str = "mlp"
    depth: int = 10
    width: int = 100
    channels: int = 64
    init: str = "variance_conserving"
    sigma: float | None = None
    calibrate: bool = False
    readout_rate: float | None = None
    time_steps: int = 3
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    limit: int | None = None
    test_limit: int | None = None
    neuron: NeuronConfig = TRAIN_NEURON
    delay_shift: bool = False
    data_dir: str | None = None
    download: bool = False
    out: str | None = None
    resume: bool = False
    progress: bool = True

    def as_dict(self) -> dict:
        """JSON-able (and ``torch.load(weights_only=True)``-able) form."""
        values = dataclasses.asdict(self)
        values["data_dir"] = None if self.data_dir is None else str(self.data_dir)
        values["out"] = None if self.out is None else str(self.out)
        return values


@dataclass
class TrainResult:
    """Per-epoch metrics rows, the trained network (unwrapped, CPU) and its build config."""

    metrics: list[dict]
    model: torch.nn.Module
    model_config: dict
    run_dir: Path | None


@dataclass
class _Distributed:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def validate(config: TrainConfig) -> None:
    """Raise one clear ValueError for a setting that cannot train."""
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; valid: {', '.join(DATASETS)}")
    if config.arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {config.arch!r}; valid: "
                         f"{', '.join(ARCHITECTURES)}")
    if config.init not in INITIALIZERS:
        raise ValueError(f"unknown init method {config.init!r}; valid methods: "
                         f"{', '.join(sorted(INITIALIZERS))}")
    for name in ("depth", "width", "channels", "time_steps", "epochs", "batch_size"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name.replace('_', '-')} must be >= 1 "
                             f"(got {getattr(config, name)})")
    if not config.lr > 0:
        raise ValueError(f"lr must be > 0 (got {config.lr})")
    if config.readout_rate is not None:
        if not config.calibrate:
            raise ValueError("readout-rate is the output block's calibration target; add "
                             "--calibrate")
        if not 0.0 < config.readout_rate < 1.0:
            raise ValueError(f"readout-rate must be in (0, 1) spikes per neuron per step "
                             f"(got {config.readout_rate})")


def initialize_for_training(model: torch.nn.Module, config: TrainConfig,
                            train_set: SpikeDataset) -> list[object]:
    """``config.init`` (methods with a ``time_steps`` option get the run's T), then, with
    ``config.calibrate``, calibration on the first batch; returns the reports to print."""
    options = {}
    if "time_steps" in inspect.signature(get_initializer(config.init).fn).parameters:
        options["time_steps"] = config.time_steps
    reports: list[object] = [initialize(model, config.init, sigma=config.sigma,
                                        generator=torch.Generator().manual_seed(config.seed),
                                        **options)]
    if config.calibrate:
        train_set.set_epoch(0)
        batch = torch.stack([train_set[i][0] for i in range(min(config.batch_size,
                                                                len(train_set)))])
        reports.append(calibrate(model, batch, readout_target=config.readout_rate))
    return reports


def model_config(config: TrainConfig, input_shape: tuple[int, ...]) -> dict:
    """The :func:`lava_init.models.build_model` config for this run's data."""
    common = {"out_features": NUM_CLASSES, "depth": config.depth, "width": config.width,
              "neuron": config.neuron.params(), "delay_shift": config.delay_shift}
    if config.arch == "mlp":
        return {"arch": "mlp", "in_features": int(np.prod(input_shape)), **common}
    return {"arch": "cnn", "in_shape": list(input_shape), "channels": config.channels, **common}


def _setup_distributed() -> _Distributed:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return _Distributed(device=torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return _Distributed(dist.get_rank(), dist.get_world_size(), device)


def _all_sum(values: list[float], distributed: _Distributed) -> list[float]:
    if distributed.world == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=distributed.device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def _rng_states() -> dict:
    kind, key, position, has_gauss, cached_gaussian = np.random.get_state()
    return {"torch": torch.get_rng_state(), "python": random.getstate(),
            "numpy": {"kind": kind, "key": torch.from_numpy(key.astype(np.int64)),
                      "position": position, "has_gauss": has_gauss,
                      "cached_gaussian": cached_gaussian}}


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    random.setstate(states["python"])
    numpy_state = states["numpy"]
    np.random.set_state((numpy_state["kind"], numpy_state["key"].numpy().astype(np.uint32),
                         numpy_state["position"], numpy_state["has_gauss"],
                         numpy_state["cached_gaussian"]))


def _check_resumable(saved: dict, config: TrainConfig, path: Path) -> None:
    current = config.as_dict()
    differing = [k for k in current if k not in RESUME_FREE_FIELDS and saved.get(k) != current[k]]
    if differing:
        changes = ", ".join(f"{k}: {saved.get(k)!r} -> {current[k]!r}" for k in differing)
        raise ValueError(f"{path} was trained with other settings ({changes}); resume with the "
                         "same settings or use another --out folder")


def write_metrics_csv(path: Path, rows: list[dict]) -> Path:
    """All rows as CSV, written atomically (temp file in the same folder, then rename)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(buffer.getvalue(), path)


def _epoch_order(dataset: SpikeDataset, seed: int, epoch: int, distributed: _Distributed,
                 shuffle: bool) -> list[int]:
    """This process's sample indices: a seeded permutation, every world-th from the rank on,
    so the union of the processes' k-th batches is the single-process k-th batch. Training
    orders are padded (by repeating the first samples) to a multiple of the processes."""
    if shuffle:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(len(dataset), generator=generator).tolist()
        order += order[:-len(order) % distributed.world]  # equal batches in every process
    else:
        order = list(range(len(dataset)))
    return order[distributed.rank::distributed.world]


def _loader(dataset: SpikeDataset, indices: list[int], batch_size: int):
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=indices)


@torch.no_grad()
def evaluate(model: torch.nn.Module, dataset: SpikeDataset, batch_size: int,
             distributed: _Distributed | None = None) -> tuple[float, float]:
    """Mean cross-entropy on output spike counts and accuracy (fraction) over ``dataset``."""
    distributed = distributed or _Distributed()
    was_training = model.training
    model.eval()
    indices = _epoch_order(dataset, 0, 0, distributed, shuffle=False)
    loss_sum = correct = count = 0.0
    for spikes, labels in _loader(dataset, indices, batch_size):
        counts = model(spikes.to(distributed.device)).sum(-1)
        labels = labels.to(distributed.device)
        loss_sum += float(F.cross_entropy(counts, labels, reduction="sum"))
        correct += float((counts.argmax(1) == labels).sum())
        count += len(labels)
    model.train(was_training)
    loss_sum, correct, count = _all_sum([loss_sum, correct, count], distributed)
    return loss_sum / count, correct / count


def layer_rates(model: torch.nn.Module, dataset: SpikeDataset, device: torch.device) -> dict:
    """``{"rate_<block>": spikes per neuron per step}`` on the first test samples."""
    samples = [dataset[i][0] for i in range(min(RATE_SAMPLES, len(dataset)))]
    was_training = model.training
    model.eval()
    report = measure_activity(model, torch.stack(samples).to(device))
    model.train(was_training)
    return {f"rate_{layer.name}": layer.rate for layer in report.layers}


def train(config: TrainConfig, callback: Callable[[dict], None] | None = None) -> TrainResult:
    """Train as configured; ``callback(row)`` is called after each epoch's checkpoint.

    Returns the metrics rows (``epoch, train_loss, train_acc, test_loss, test_acc, seconds,
    rate_<block>...``; accuracies are fractions) and the trained network.
    """
    validate(config)
    distributed = _setup_distributed()
    if config.batch_size % distributed.world:
        raise ValueError(f"batch-size {config.batch_size} must be a multiple of the "
                         f"{distributed.world} processes")
    flatten = config.arch == "mlp"
    train_set = load_dataset(config.dataset, True, config.data_dir, config.time_steps,
                             config.seed, flatten, config.limit, config.download)
    test_set = load_dataset(config.dataset, False, config.data_dir, config.time_steps,
                            config.seed, flatten, config.test_limit, config.download)
    net_config = model_config(config, train_set.input_shape)
    torch.manual_seed(config.seed)
    model = build_model(net_config)
    init_reports = initialize_for_training(model, config, train_set)
    model.to(distributed.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    local_batch = config.batch_size // distributed.world
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=config.epochs * steps_per_epoch)

    run_dir = Path(config.out) if config.out is not None else None
    checkpoint_path = run_dir / CHECKPOINT_NAME if run_dir else None
    rows: list[dict] = []
    start_epoch = 0
    if config.resume and checkpoint_path is not None and checkpoint_path.is_file():
        checkpoint = load_checkpoint(checkpoint_path)
        _check_resumable(checkpoint["train_config"], config, checkpoint_path)
        model.load_state_dict(checkpoint["model_state"])
        optimizer.load_state_dict(checkpoint["optimizer_state"])
        scheduler.load_state_dict(checkpoint["scheduler_state"])
        _set_rng_states(checkpoint["rng"])
        rows = list(checkpoint["metrics"])
        start_epoch = int(checkpoint["epoch"])
        if distributed.main:
            print(f"resuming {checkpoint_path} after epoch {start_epoch}")
    elif distributed.main and config.progress:
        if config.resume:
            print(f"no checkpoint in {run_dir}; starting from epoch 1")
        print(*init_reports, sep="\n")

    # tqdm's default lock is a multiprocessing RLock, which fixes the start method; Lava (netx)
    # sets it at import and then fails, so a later export in this process would break.
    tqdm.set_lock(threading.RLock())
    ddp_model = (DistributedDataParallel(model) if distributed.world > 1 else model)
    for epoch in range(start_epoch, config.epochs):
        started = time.perf_counter()
        train_set.set_epoch(epoch)
        indices = _epoch_order(train_set, config.seed, epoch, distributed, shuffle=True)
        batches = tqdm(_loader(train_set, indices, local_batch), disable=not (
            config.progress and distributed.main), desc=f"epoch {epoch + 1}/{config.epochs}",
            leave=False)
        ddp_model.train()
        loss_sum = correct = count = 0.0
        for spikes, labels in batches:
            spikes, labels = spikes.to(distributed.device), labels.to(distributed.device)
            counts = ddp_model(spikes).sum(-1)
            loss = F.cross_entropy(counts, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss) * len(labels)
            correct += float((counts.argmax(1) == labels).sum())
            count += len(labels)
            batches.set_postfix(loss=f"{loss_sum / count:.4f}", acc=f"{correct / count:.4f}")
        loss_sum, correct, count = _all_sum([loss_sum, correct, count], distributed)
        test_loss, test_acc = evaluate(model, test_set, local_batch, distributed)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / count, "train_acc": correct / count,
               "test_loss": test_loss, "test_acc": test_acc,
               "seconds": time.perf_counter() - started,
               **layer_rates(model, test_set, distributed.device)}
        rows.append(row)
        if distributed.main and run_dir is not None:
            atomic_save({"model_config": net_config, "model_state": model.state_dict(),
                         "optimizer_state": optimizer.state_dict(),
                         "scheduler_state": scheduler.state_dict(), "epoch": epoch + 1,
                         "train_config": config.as_dict(), "metrics": rows,
                         "rng": _rng_states()}, checkpoint_path)
            write_metrics_csv(run_dir / METRICS_NAME, rows)
        if distributed.main and config.progress:
            print(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in row.items() if k in METRIC_COLUMNS))
        if callback is not None:
            callback(row)
    if distributed.world > 1:
        dist.barrier()
    return TrainResult(rows, model.cpu(), net_config, run_dir)


@dataclass
class LavaCheck:
    """The trained network exported to NetX and run on Lava fixed_pt on test samples."""

    path: Path
    samples: int
    slayer_acc: float
    lava_acc: float
    report: object  # netx_export.VerifyReport: per-layer rates and mismatches

    def __str__(self) -> str:
        return (f"{self.report}\nNetX network: {self.path}\non the first {self.samples} test "
                f"samples: SLAYER accuracy {self.slayer_acc:.4f}, Lava fixed_pt accuracy "
                f"{self.lava_acc:.4f}")


@torch.no_grad()
def export_and_verify(model: torch.nn.Module, dataset: SpikeDataset, path: str | Path,
                      samples: int = 16) -> LavaCheck:
    """Export ``model`` with ``netx_export.export_netx``, run it on Lava's fixed-point simulator
    on the first ``samples`` of ``dataset`` (each followed by one silent step per layer, see
    :func:`lava_init.models.pad_for_lava`) and compare: accuracy from the output spike counts
    in SLAYER (steps 0 .. T-1) and on Lava (steps L .. L+T-1), and ``verify``'s per-layer
    mismatches."""
    from netx_export import export_netx, run_lava, verify

    items = [dataset[i] for i in range(min(samples, len(dataset)))]
    spikes = torch.stack([spikes for spikes, _ in items])
    labels = torch.tensor([label for _, label in items])
    model = model.cpu().eval()
    path = export_netx(model, path, input_shape=dataset.model_input_shape)
    slayer_counts = model(spikes).sum(-1)
    padded = pad_for_lava(spikes, model)
    layers, time_steps = spiking_layers(model), spikes.shape[-1]
    lava_counts = torch.as_tensor(run_lava(path, padded)[-1][..., layers:layers + time_steps]
                                  ).sum(-1)
    return LavaCheck(
        path=path, samples=len(items),
        slayer_acc=float((slayer_counts.argmax(1) == labels).float().mean()),
        lava_acc=float((lava_counts.argmax(1) == labels).float().mean()),
        report=verify(model, path, padded))


def add_neuron_arguments(parser: argparse.ArgumentParser, neuron: NeuronConfig) -> None:
    """``--threshold --current-decay --voltage-decay --tau-grad --scale-grad``, defaulting
    to ``neuron``; read them back with :func:`neuron_from_args`."""
    parser.add_argument("--threshold", type=float, default=neuron.threshold,
                        help=f"neuron threshold (default {neuron.threshold})")
    parser.add_argument("--current-decay", type=float, default=neuron.current_decay,
                        help=f"per step; 1 forgets at once (default {neuron.current_decay}, "
                             "the paper's memoryless neuron; lava-dl tutorials: 0.25)")
    parser.add_argument("--voltage-decay", type=float, default=neuron.voltage_decay,
                        help=f"per step (default {neuron.voltage_decay}; tutorials: 0.03)")
    parser.add_argument("--tau-grad", type=float, default=neuron.tau_grad,
                        help=f"surrogate gradient width (default {neuron.tau_grad}; "
                             "tutorials: 0.03)")
    parser.add_argument("--scale-grad", type=float, default=neuron.scale_grad,
                        help=f"surrogate gradient scale (default {neuron.scale_grad}; "
                             "tutorials: 3)")


def neuron_from_args(args: argparse.Namespace) -> NeuronConfig:
    """The CUBA neuron given by :func:`add_neuron_arguments`' options."""
    return NeuronConfig(threshold=args.threshold, current_decay=args.current_decay,
                        voltage_decay=args.voltage_decay, tau_grad=args.tau_grad,
                        scale_grad=args.scale_grad)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    neuron = defaults.neuron
    parser.add_argument("--dataset", default=defaults.dataset,
                        help=f"one of {', '.join(DATASETS)} (default {defaults.dataset})")
    parser.add_argument("--arch", default=defaults.arch,
                        help=f"one of {', '.join(ARCHITECTURES)} (default {defaults.arch})")
    parser.add_argument("--depth", type=int, default=defaults.depth,
                        help="hidden Dense layers (mlp) or 3x3 convolutions (cnn) (default 10)")
    parser.add_argument("--width", type=int, default=defaults.width,
                        help="neurons per hidden Dense layer (default 100)")
    parser.add_argument("--channels", type=int, default=defaults.channels,
                        help="channels per convolution, cnn only (default 64)")
    parser.add_argument("--init", default=defaults.init,
                        help=f"one of {', '.join(sorted(INITIALIZERS))} (default {defaults.init})")
    parser.add_argument("--sigma", type=float, default=None,
                        help="target membrane std; default: the threshold, per block")
    parser.add_argument("--calibrate", action="store_true",
                        help="after the init, calibrate every block on the first batch to its "
                             "input rate (lava_init.calibrate)")
    parser.add_argument("--readout-rate", type=float, default=None,
                        help="with --calibrate: the output block's target rate (spikes per "
                             "neuron per step; default: the input rate)")
    parser.add_argument("--time-steps", type=int, default=defaults.time_steps,
                        help="time steps per sample (default 3)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size,
                        help="global batch, split between torchrun processes (default 64)")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N training samples only")
    parser.add_argument("--test-limit", type=int, default=None,
                        help="test on the first N test samples only")
    add_neuron_arguments(parser, neuron)
    parser.add_argument("--delay-shift", action="store_true",
                        help="SLAYER's one-step delay per block, as on Lava (needs more time "
                             "steps than blocks)")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the data set's files (e.g. ../shared/data/mnist)")
    parser.add_argument("--download", action="store_true",
                        help="fetch missing data with torchvision / tonic (needs internet)")
    parser.add_argument("--out", default=None,
                        help="run folder: metrics.csv and checkpoint.pt (default: none written)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.pt")
    parser.add_argument("--export", action="store_true",
                        help="at the end, write OUT/network.net (NetX) and run it on Lava "
                             "fixed_pt: SLAYER vs Lava accuracy and mismatches per layer")
    parser.add_argument("--export-samples", type=int, default=16,
                        help="test samples run on Lava with --export (default 16)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or tables")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    neuron = neuron_from_args(args)
    return TrainConfig(
        dataset=args.dataset, arch=args.arch, depth=args.depth, width=args.width,
        channels=args.channels, init=args.init, sigma=args.sigma, calibrate=args.calibrate,
        readout_rate=args.readout_rate, time_steps=args.time_steps,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        limit=args.limit, test_limit=args.test_limit, neuron=neuron,
        delay_shift=args.delay_shift, data_dir=args.data_dir, download=args.download,
        out=args.out, resume=args.resume, progress=not args.no_progress)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.export and config.out is None:
        raise ValueError("--export writes OUT/network.net: give --out RUN_DIR")
    if args.export_samples < 1:
        raise ValueError(f"export-samples must be >= 1 (got {args.export_samples})")
    result = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        print(format_table(list(METRIC_COLUMNS),
                           [[row[c] for c in METRIC_COLUMNS] for row in result.metrics]))
        if result.run_dir is not None:
            print(f"metrics: {result.run_dir / METRICS_NAME}\n"
                  f"checkpoint: {result.run_dir / CHECKPOINT_NAME}")
        if args.export:
            test_set = load_dataset(config.dataset, False, config.data_dir, config.time_steps,
                                    config.seed, config.arch == "mlp", config.test_limit,
                                    config.download)
            print(export_and_verify(result.model, test_set, result.run_dir / NETX_NAME,
                                    args.export_samples))
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
