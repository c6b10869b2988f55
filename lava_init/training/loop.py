"""Training a SLAYER MLP or CNN from any initializer: resumable, DDP-ready.

Adam, a cosine learning-rate schedule over all steps, cross-entropy on the output spike counts
(summed over the T steps). Each epoch appends a row to ``RUN_DIR/metrics.csv`` and saves an
atomic checkpoint (model, optimizer, scheduler, epoch, RNG states); ``--resume`` continues
from it with the same results as an uninterrupted run. Started with ``torchrun`` the same
command trains data-parallel (DDP; gloo on CPU, nccl on GPU), the global batch split between
the processes.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import math
import os
import random
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
from lava_init.backward import calibrate_surrogate
from lava_init.calibration import calibrate
from lava_init.files import atomic_write_text, check_writable_folder, exclusive
from lava_init.network_init import InitReport, initialize
from lava_init.slayer_blocks import eval_mode
from lava_init.training.checkpoints import atomic_save, check_model_state, load_checkpoint
from lava_init.training.config import TrainConfig, relay_lr
from lava_init.training.data import SpikeDataset, load_dataset
from lava_init.training.growth import grow_from_checkpoint
from lava_init.training.models import (
    build_model,
    class_counts,
    count_predictions,
    readout_population,
    silent_outputs,
)
from lava_init.training.plan import OutputPlan, TrainPlan, model_config, plan_training

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.csv"
#: ``test_silent``: fraction of test samples whose output never spiked (counted as wrong).
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "test_silent",
                  "seconds")
#: Test samples whose per-layer spike rates are logged each epoch.
RATE_SAMPLES = 256
#: Config fields that may differ between a run and its resumption.
RESUME_FREE_FIELDS = ("resume", "overwrite", "progress", "out", "data_dir", "download")


@dataclass
class TrainResult:
    """Per-epoch metrics rows, the trained network (unwrapped, CPU; ``model.input_contract``
    says what input it takes), its build config, the run folder, the run's plan and its test
    set (encoded as the network takes it)."""

    metrics: list[dict]
    model: torch.nn.Module
    model_config: dict
    run_dir: Path | None
    plan: TrainPlan
    test_set: SpikeDataset


@dataclass
class _Distributed:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def output_class_counts(model: torch.nn.Module, spikes: torch.Tensor) -> torch.Tensor:
    """``model``'s output spikes summed over the T steps and, per class, over its readout
    population (batch, classes): 0 .. T * population.

    Args:
        model: the network (a ``DistributedDataParallel`` wrapper is looked through for its
            readout population).
        spikes: a batch of input spikes, time last.

    Returns:
        The class spike counts, (batch, classes).

    Example:
        >>> config = {"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1, "width": 3,
        ...           "settings": {"readout_population": 5}}
        >>> counts = output_class_counts(build_model(config), torch.ones(6, 4, 3))
        >>> tuple(counts.shape), bool(counts.max() <= 3 * 5)  # T = 3 steps, 5 neurons a class
        ((6, 2), True)
    """
    net = model.module if isinstance(model, DistributedDataParallel) else model
    return class_counts(model(spikes).sum(-1), readout_population(net))


def readout_loss(counts: torch.Tensor, labels: torch.Tensor, plan: TrainPlan,
                 population: int = 1, reduction: str = "mean") -> torch.Tensor:
    """``plan.optimizer.loss`` on class spike counts (batch, classes) summed over T steps and
    over each class's ``population`` output neurons (:func:`output_class_counts`).

    ``count_ce``: cross-entropy on ``count_scale * counts / sqrt(population)``: the sum of
    ``population`` counts spreads as ``sqrt(population)`` times one neuron's, so the logits keep
    one neuron's range of fluctuations (MLP 10 x 100, T = 3, 8 neurons per class, 2 epochs of
    Fashion-MNIST: 0.845, against 0.829 for the mean count, ``/ population``, and 0.839 /
    0.842 for ``/ 4`` / ``/ 2``). ``rate_mse``:
    the squared error of each class's mean rate ``counts / (T population)`` against 1 (true
    class) and 0. ``plan.optimizer.label_smoothing`` ``e`` replaces either target by
    ``(1 - e) one_hot + e / classes``.

    Args:
        counts: the class spike counts, (batch, classes).
        labels: the true classes, (batch,).
        plan: the run's plan (its loss, count scale, label smoothing and T).
        population: output neurons per class.
        reduction: ``"mean"`` over the batch or ``"sum"``.

    Returns:
        The loss, a scalar tensor.

    Example:
        >>> counts, labels = torch.tensor([[3.0, 0.0]]), torch.tensor([0])
        >>> plan = plan_training(TrainConfig(time_steps=3))  # count_scale 1: logits = counts
        >>> round(float(readout_loss(counts, labels, plan)), 4)  # log(1 + exp(-3))
        0.0486
        >>> plan = plan_training(TrainConfig(time_steps=3, loss="rate_mse"))
        >>> float(readout_loss(counts, labels, plan))  # rates 1 and 0: exactly the targets
        0.0
    """
    optimizer = plan.optimizer
    smoothing = optimizer.label_smoothing
    if optimizer.loss == "rate_mse":
        target = F.one_hot(labels, counts.shape[1]).to(counts.dtype)
        target = target * (1.0 - smoothing) + smoothing / counts.shape[1]
        rates = counts / (plan.input.time_steps * population)
        error = (rates - target).pow(2).sum(1)
        return error.sum() if reduction == "sum" else error.mean()
    logits = counts * (optimizer.count_scale / math.sqrt(population))
    return F.cross_entropy(logits, labels, reduction=reduction, label_smoothing=smoothing)


def check_run_folder(output: OutputPlan) -> None:
    """Before any work: the run folder is writable, and one holding a run is only reused
    with ``resume`` (continue it) or ``overwrite`` (start over).

    Args:
        output: the run's output plan (``out`` None: no folder, nothing to check).

    Returns:
        None; it raises ValueError for a folder that holds a run and is neither resumed nor
        overwritten, or one that cannot be written.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> check_run_folder(OutputPlan(str(folder), resume=False, overwrite=False, progress=False))
        >>> _ = (folder / METRICS_NAME).write_text("epoch")
        >>> check_run_folder(OutputPlan(str(folder), resume=False, overwrite=False, progress=False))
        Traceback (most recent call last):
        ValueError: ... already holds a run (metrics.csv); add --resume to continue it or ...
    """
    if output.out is None:
        return
    folder = Path(output.out)
    check_writable_folder(folder, "--out")
    if not (output.resume or output.overwrite):
        existing = [name for name in (CHECKPOINT_NAME, METRICS_NAME) if (folder / name).exists()]
        if existing:
            raise ValueError(f"{folder} already holds a run ({', '.join(existing)}); add "
                             "--resume to continue it or --overwrite to start it over")


def initialize_for_training(model: torch.nn.Module, plan: TrainPlan,
                            train_set: SpikeDataset) -> list[object]:
    """``plan.init``: the method (with the run's T where it takes them), then, with
    ``grow_from``, the trained blocks loaded around the relays
    (:func:`~lava_init.training.growth.grow_from_checkpoint`), with ``calibrate``,
    calibration on the first batch, and with ``conserve_gradient``, where a
    block has no closed-form surrogate amplitude (integrating neurons),
    :func:`~lava_init.backward.calibrate_surrogate` on that batch; returns the reports to
    print.

    Args:
        model: the freshly built network, initialized in place.
        plan: the run's plan (its ``init`` and ``seed``; the batch size of the calibration).
        train_set: the training set; calibration reads its first batch (epoch 0).

    Returns:
        The reports: the :class:`~lava_init.network_init.InitReport` first, then the
        calibration's and the surrogate calibration's, where they ran.

    Example:
        >>> config = TrainConfig(dataset="digits", depth=1, width=16, limit=8, test_limit=8,
        ...                      epochs=1, batch_size=8, progress=False)
        >>> plan = plan_training(config)
        >>> train_set, _ = load_splits(plan)
        >>> model = build_model(model_config(plan, train_set.input_shape))
        >>> reports = initialize_for_training(model, plan, train_set)
        >>> plan.init.method, [type(report).__name__ for report in reports]  # no calibration
        ('relay', ['InitReport'])
    """
    init = plan.init
    options = {} if init.time_steps is None else {"time_steps": init.time_steps}
    if init.relay_noise is not None:
        options["noise"] = init.relay_noise
    init_report = initialize(model, init.method, sigma=init.sigma,
                             generator=torch.Generator().manual_seed(plan.seed),
                             surrogate=init.conserve_gradient, **options)
    reports: list[object] = [init_report]
    if init.grow_from is not None:
        base_depth = grow_from_checkpoint(model, model_config(plan, train_set.input_shape),
                                          init.grow_from)
        reports.append(f"grown from {init.grow_from}: its {base_depth} hidden blocks and the "
                       f"blocks after them trained, the {plan.model.depth - base_depth} between "
                       "them relays")
    train_set.set_epoch(0)
    batch = torch.stack([train_set[i][0] for i in range(min(plan.optimizer.batch_size,
                                                            len(train_set)))])
    if init.calibrate:
        reports.append(calibrate(model, batch, target=init.hidden_rate,
                                 readout_target=init.readout_rate))
    if init.conserve_gradient and any(row.surrogate_scale is None
                                      for row in init_report.blocks):
        try:
            reports.append(calibrate_surrogate(model, batch))
        except ValueError as error:  # a silent start (e.g. slayer_default): nothing to measure
            reports.append(f"surrogate calibration skipped: {error}")
    return reports


def parameter_groups(model: torch.nn.Module, plan: TrainPlan, report: InitReport
                     ) -> list[dict]:
    """Adam's parameter groups: the relay blocks of ``report`` at ``plan.optimizer.relay_lr``
    (None: :func:`~lava_init.training.config.relay_lr` of their number), every other
    parameter at ``plan.optimizer.lr``.

    Args:
        model: the initialized network.
        plan: the run's plan (its learning rates).
        report: the init's report, which names the relay blocks.

    Returns:
        One group ``{"params", "lr"}`` for the other parameters, and a second for the relay
        blocks' where there are any.

    Example:
        >>> config = TrainConfig(dataset="digits", depth=1, width=16, limit=8, test_limit=8,
        ...                      epochs=1, batch_size=8, progress=False)
        >>> plan = plan_training(config)
        >>> plan = plan_training(dataclasses.replace(config, depth=3))  # blocks 1, 2: 16 x 16
        >>> model, _, reports = build_network(plan, load_splits(plan)[0])
        >>> [(group["lr"], len(group["params"])) for group in parameter_groups(model, plan,
        ...                                                                     reports[0])]
        [(0.003, 6), (0.0015, 6)]
    """
    optimizer = plan.optimizer
    modules = dict(model.named_modules())
    relays = [modules[row.name] for row in report.blocks if row.relay_noise is not None]
    relay_params = [p for block in relays for p in block.parameters()]
    relay_ids = {id(p) for p in relay_params}
    groups = [{"params": [p for p in model.parameters() if id(p) not in relay_ids],
               "lr": optimizer.lr}]
    if relays:
        lr = optimizer.relay_lr if optimizer.relay_lr is not None \
            else relay_lr(optimizer.lr, len(relays))
        groups.append({"params": relay_params, "lr": lr})
    return groups


def load_splits(plan: TrainPlan) -> tuple[SpikeDataset, SpikeDataset]:
    """The run's training and test sets, encoded as its input contract says (augmentation on
    the training set only).

    Args:
        plan: the run's plan (its data and input contract; the seed of the encoding).

    Returns:
        ``(train_set, test_set)``, each a :class:`~lava_init.training.data.SpikeDataset`.

    Example:
        >>> config = TrainConfig(dataset="digits", depth=1, width=16, limit=8, test_limit=8,
        ...                      epochs=1, batch_size=8, progress=False)
        >>> plan = plan_training(config)
        >>> train_set, test_set = load_splits(plan)
        >>> len(train_set), len(test_set), tuple(train_set[0][0].shape), train_set.encoding
        (8, 8, (64, 3), 'regular')
    """
    data, contract = plan.data, plan.input
    common = {"data_dir": data.data_dir, "time_steps": contract.time_steps, "seed": plan.seed,
              "flatten": data.flatten, "download": data.download,
              "encoding": contract.encoding}
    return (load_dataset(data.dataset, True, limit=data.limit, shift=data.shift,
                         flip=data.flip, **common),
            load_dataset(data.dataset, False, limit=data.test_limit, **common))


def build_network(plan: TrainPlan, train_set: SpikeDataset
                  ) -> tuple[torch.nn.Module, dict, list[object]]:
    """The run's network for ``train_set``'s samples, seeded and initialized as planned:
    ``(model, its build config, the init reports)``.

    Args:
        plan: the run's plan (model, init, seed).
        train_set: the training set (its input shape; calibration reads its first batch).

    Returns:
        ``(model, config, reports)``: the initialized network, the JSON-able config
        :func:`~lava_init.training.models.build_model` rebuilds it from, and the reports of
        :func:`initialize_for_training`.

    Example:
        >>> config = TrainConfig(dataset="digits", depth=1, width=16, limit=8, test_limit=8,
        ...                      epochs=1, batch_size=8, progress=False)
        >>> plan = plan_training(config)
        >>> model, config, reports = build_network(plan, load_splits(plan)[0])
        >>> type(model).__name__, config["in_features"], len(model.blocks)
        ('SlayerMLP', 64, 2)
    """
    net_config = model_config(plan, train_set.input_shape)
    torch.manual_seed(plan.seed)
    model = build_model(net_config)
    return model, net_config, initialize_for_training(model, plan, train_set)


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


#: The lock file a training run holds in its --out folder while it trains.
RUN_LOCK = ".lava-init-train.lock"
#: A training checkpoint's entries besides the model's, and their types.
TRAINING_ENTRIES = {"train_config": dict, "optimizer_state": dict, "scheduler_state": dict,
                    "epoch": int, "metrics": list, "rng": dict}


def check_training_checkpoint(checkpoint: dict, path: Path) -> None:
    """ValueError (one line naming the entry) unless ``checkpoint`` holds a model that fits
    its config and every entry a resume needs, of the right type, with RNG states this torch,
    Python and numpy can take.

    Args:
        checkpoint: a checkpoint dict (:func:`~lava_init.training.checkpoints.load_checkpoint`).
        path: the checkpoint's file, named in the error.

    Returns:
        None; it raises ValueError for a checkpoint a resume cannot continue from.

    Example:
        >>> config = {"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1, "width": 3}
        >>> saved_model = {"model_config": config, "model_state": build_model(config).state_dict()}
        >>> check_training_checkpoint(saved_model, Path("model.pt"))
        Traceback (most recent call last):
        ValueError: model.pt: its train_config entry holds nothing, a resume needs a dict; ...
    """
    check_model_state(checkpoint, path)
    for name, kind in TRAINING_ENTRIES.items():
        if not isinstance(checkpoint.get(name), kind):
            found = "nothing" if name not in checkpoint else type(checkpoint[name]).__name__
            raise ValueError(f"{path}: its {name} entry holds {found}, a resume needs a "
                             f"{kind.__name__}; the checkpoint is damaged, start over with "
                             "--overwrite")
    states, numpy_state = checkpoint["rng"], checkpoint["rng"].get("numpy")
    torch_state = states.get("torch")
    if not (isinstance(torch_state, torch.Tensor) and torch_state.dtype == torch.uint8
            and torch_state.shape == torch.get_rng_state().shape
            and isinstance(states.get("python"), tuple) and isinstance(numpy_state, dict)
            and isinstance(numpy_state.get("key"), torch.Tensor)
            and numpy_state["key"].numel() == np.random.get_state()[1].size):
        raise ValueError(f"{path}: its rng entry is not the torch, Python and numpy random "
                         "states lava-init saves; the checkpoint is damaged, start over with "
                         "--overwrite")


def _check_resumable(saved: dict, plan: TrainPlan, path: Path) -> None:
    """Refuse to resume with another plan (the checkpoint stores ``plan.config``, the
    resolved request); a field the checkpoint does not name is newer than the checkpoint,
    which trained with that field's default."""
    current, defaults = plan.config.as_dict(), TrainConfig().as_dict()
    trained = {k: saved.get(k, defaults[k]) for k in current if k not in RESUME_FREE_FIELDS}
    differing = [k for k in trained if trained[k] != current[k]]
    if differing:
        changes = ", ".join(f"{k}: {trained[k]!r} -> {current[k]!r}" for k in differing)
        raise ValueError(f"{path} was trained with other settings ({changes}); resume with the "
                         "same settings or use another --out folder")


def write_metrics_csv(path: Path, rows: list[dict]) -> Path:
    """All rows as CSV, written atomically (temp file in the same folder, then rename).

    Args:
        path: the CSV file to write.
        rows: the metrics rows (dicts with the same keys, the first row's naming the columns).

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> rows = [{"epoch": 1, "test_acc": 0.5}, {"epoch": 2, "test_acc": 0.75}]
        >>> print(write_metrics_csv(Path(tempfile.mkdtemp()) / METRICS_NAME, rows).read_text())
        epoch,test_acc
        1,0.5
        2,0.75
        <BLANKLINE>
    """
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
             distributed: _Distributed | None = None, plan: TrainPlan | None = None
             ) -> tuple[float, float, float]:
    """Mean loss (``plan``'s :func:`readout_loss`; default: the default recipe's at the data
    set's T) on output spike counts, accuracy and the silent fraction over ``dataset``
    (fractions; an output whose counts are all equal is never right:
    :func:`~lava_init.training.models.count_predictions`).

    Args:
        model: the network (put in eval mode while it runs).
        dataset: the samples to evaluate on.
        batch_size: samples per batch (per process).
        distributed: the process's rank and device (None: one process on the CPU).
        plan: the run's plan, for its loss (None: the default recipe's).

    Returns:
        ``(loss, accuracy, silent_fraction)``, the fractions in [0, 1].

    Example:
        >>> config = TrainConfig(dataset="digits", depth=1, width=16, limit=8, test_limit=8,
        ...                      epochs=1, batch_size=8, progress=False)
        >>> plan = plan_training(config)
        >>> train_set, test_set = load_splits(plan)
        >>> model, _, _ = build_network(plan, train_set)
        >>> loss, accuracy, silent = evaluate(model, test_set, 8, plan=plan)
        >>> loss > 0, 0 <= accuracy <= 1, 0 <= silent <= 1
        (True, True, True)
    """
    distributed = distributed or _Distributed()
    plan = plan or plan_training(TrainConfig(time_steps=dataset.time_steps))
    indices = _epoch_order(dataset, 0, 0, distributed, shuffle=False)
    loss_sum = correct = silent = count = 0.0
    with eval_mode(model):
        for spikes, labels in _loader(dataset, indices, batch_size):
            counts = output_class_counts(model, spikes.to(distributed.device))
            labels = labels.to(distributed.device)
            loss_sum += float(readout_loss(counts, labels, plan, readout_population(model),
                                           reduction="sum"))
            correct += float((count_predictions(counts) == labels).sum())
            silent += float(silent_outputs(counts).sum())
            count += len(labels)
    loss_sum, correct, silent, count = _all_sum([loss_sum, correct, silent, count], distributed)
    return loss_sum / count, correct / count, silent / count


def layer_rates(model: torch.nn.Module, dataset: SpikeDataset, device: torch.device) -> dict:
    """``{"rate_<block>": spikes per neuron per step}`` on the first test samples.

    Args:
        model: the network.
        dataset: the test set; its first :data:`RATE_SAMPLES` samples are run.
        device: where the model is.

    Returns:
        One spike rate per spiking block, keyed ``rate_`` and the block's name.

    Example:
        >>> digits = load_dataset("digits", train=False, limit=8, time_steps=4, flatten=True)
        >>> model = build_model({"arch": "mlp", "in_features": 64, "out_features": 10,
        ...                      "depth": 1, "width": 16})
        >>> rates = layer_rates(model, digits, torch.device("cpu"))
        >>> sorted(rates), all(0 <= rate <= 1 for rate in rates.values())
        (['rate_blocks.0', 'rate_blocks.1'], True)
    """
    samples = [dataset[i][0] for i in range(min(RATE_SAMPLES, len(dataset)))]
    with eval_mode(model):
        report = measure_activity(model, torch.stack(samples).to(device))
    return {f"rate_{layer.name}": layer.rate for layer in report.layers}


@dataclass
class _Run:
    """Everything one training run holds: data, network, optimizer, where it writes."""

    plan: TrainPlan
    distributed: _Distributed
    train_set: SpikeDataset
    test_set: SpikeDataset
    net_config: dict
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    init_reports: list[object]
    rows: list[dict] = dataclasses.field(default_factory=list)
    start_epoch: int = 0

    @property
    def run_dir(self) -> Path | None:
        out = self.plan.output.out
        return Path(out) if out is not None else None

    @property
    def checkpoint_path(self) -> Path | None:
        return self.run_dir / CHECKPOINT_NAME if self.run_dir is not None else None

    @property
    def local_batch(self) -> int:
        return self.plan.optimizer.batch_size // self.distributed.world

    @property
    def speaks(self) -> bool:
        """True in the process that prints (rank 0, progress on)."""
        return self.distributed.main and self.plan.output.progress


def _build(plan: TrainPlan) -> _Run:
    """Data, the initialized network, Adam and the cosine schedule over all steps."""
    check_run_folder(plan.output)
    distributed = _setup_distributed()
    batch_size = plan.optimizer.batch_size
    if batch_size % distributed.world:
        raise ValueError(f"batch-size {batch_size} must be a multiple of the "
                         f"{distributed.world} processes")
    train_set, test_set = load_splits(plan)
    model, net_config, init_reports = build_network(plan, train_set)
    model.to(distributed.device)
    optimizer = torch.optim.Adam(parameter_groups(model, plan, init_reports[0]),
                                 lr=plan.optimizer.lr)
    steps_per_epoch = -(-len(train_set) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=plan.optimizer.epochs * steps_per_epoch)
    return _Run(plan, distributed, train_set, test_set, net_config, model, optimizer,
                scheduler, init_reports)


def _restore(run: _Run) -> None:
    """With ``--resume`` and a checkpoint: its weights, optimizer, schedule, RNG and rows."""
    path = run.checkpoint_path
    if not (run.plan.output.resume and path is not None and path.is_file()):
        if run.speaks:
            if run.plan.output.resume:
                print(f"no checkpoint in {run.run_dir}; starting from epoch 1")
            print(*run.init_reports, sep="\n")
        return
    checkpoint = load_checkpoint(path)
    if "train_config" not in checkpoint:
        raise ValueError(f"{path} holds a saved model, not a training run's checkpoint; "
                         "--resume continues a run that 'lava-init train --out DIR' wrote")
    check_training_checkpoint(checkpoint, path)
    _check_resumable(checkpoint["train_config"], run.plan, path)
    run.model.load_state_dict(checkpoint["model_state"])
    try:
        run.optimizer.load_state_dict(checkpoint["optimizer_state"])
        run.scheduler.load_state_dict(checkpoint["scheduler_state"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: its optimizer or schedule state does not fit the network "
                         f"({type(error).__name__}: {error}); the checkpoint is damaged, "
                         "start over with --overwrite") from None
    _set_rng_states(checkpoint["rng"])
    run.rows = list(checkpoint["metrics"])
    run.start_epoch = int(checkpoint["epoch"])
    if run.distributed.main:
        print(f"resuming {path} after epoch {run.start_epoch}")


def _train_epoch(run: _Run, model: torch.nn.Module, epoch: int) -> dict:
    """One pass over the training set; returns the epoch's metrics row."""
    plan, distributed = run.plan, run.distributed
    started = time.perf_counter()
    run.train_set.set_epoch(epoch)
    indices = _epoch_order(run.train_set, plan.seed, epoch, distributed, shuffle=True)
    batches = tqdm(_loader(run.train_set, indices, run.local_batch),
                   disable=None if run.speaks else True,
                   desc=f"epoch {epoch + 1}/{plan.optimizer.epochs}", leave=False)
    model.train()
    loss_sum = correct = count = 0.0
    for spikes, labels in batches:
        spikes, labels = spikes.to(distributed.device), labels.to(distributed.device)
        counts = output_class_counts(model, spikes)
        loss = readout_loss(counts, labels, plan, readout_population(run.model))
        run.optimizer.zero_grad()
        loss.backward()
        run.optimizer.step()
        run.scheduler.step()
        loss_sum += float(loss) * len(labels)
        correct += float((count_predictions(counts.detach()) == labels).sum())
        count += len(labels)
        batches.set_postfix(loss=f"{loss_sum / count:.4f}", acc=f"{correct / count:.4f}")
    loss_sum, correct, count = _all_sum([loss_sum, correct, count], distributed)
    test_loss, test_acc, test_silent = evaluate(run.model, run.test_set, run.local_batch,
                                                distributed, plan)
    return {"epoch": epoch + 1, "train_loss": loss_sum / count, "train_acc": correct / count,
            "test_loss": test_loss, "test_acc": test_acc, "test_silent": test_silent,
            "seconds": time.perf_counter() - started,
            **layer_rates(run.model, run.test_set, distributed.device)}


def _save(run: _Run, epoch: int) -> None:
    """Checkpoint (model, optimizer, schedule, RNG, rows) and metrics.csv, atomically."""
    if not (run.distributed.main and run.run_dir is not None):
        return
    atomic_save({"model_config": run.net_config, "model_state": run.model.state_dict(),
                 "optimizer_state": run.optimizer.state_dict(),
                 "scheduler_state": run.scheduler.state_dict(), "epoch": epoch + 1,
                 "train_config": run.plan.config.as_dict(), "metrics": run.rows,
                 "rng": _rng_states()}, run.checkpoint_path)
    write_metrics_csv(run.run_dir / METRICS_NAME, run.rows)


def train(config: TrainConfig | TrainPlan, callback: Callable[[dict], None] | None = None
          ) -> TrainResult:
    """Train as configured; ``callback(row)`` is called after each epoch's checkpoint.

    Args:
        config: the run (data, network, init, optimizer budget, output folder): a
            :class:`~lava_init.training.config.TrainConfig`, planned here once
            (:func:`~lava_init.training.plan.plan_training`), or a plan made already.
        callback: called with each epoch's metrics row after it is saved.

    Returns:
        A :class:`TrainResult`: the metrics rows (``epoch, train_loss, train_acc, test_loss,
        test_acc, seconds, rate_<block>...``; accuracies are fractions), the network, the
        plan and the test set.

    Example:
        One optimizer step (8 digits, one batch, one epoch), a callback collecting the rows:

        >>> config = TrainConfig(dataset="digits", depth=1, width=16, limit=8, test_limit=8,
        ...                      epochs=1, batch_size=8, progress=False)
        >>> plan = plan_training(config)
        >>> epochs = []
        >>> result = train(plan, callback=lambda row: epochs.append(row["epoch"]))
        >>> epochs, type(result.model).__name__, 0 <= result.metrics[0]["test_acc"] <= 1
        ([1], 'SlayerMLP', True)

        A real run (the 60,000 MNIST images, 10 epochs of a 10 x 100 MLP; it prints a metrics
        line per epoch and writes ``runs/mnist/checkpoint.pt`` and ``metrics.csv``):

        >>> result = train(TrainConfig(dataset="mnist", data_dir="data", out="runs/mnist"))
        ... # doctest: +SKIP
    """
    plan = config if isinstance(config, TrainPlan) else plan_training(config)
    out = plan.output.out
    holds_folder = out is not None and int(os.environ.get("RANK", "0")) == 0
    if holds_folder:  # a second run into the same folder is refused while this one trains
        check_writable_folder(out, "--out")
    with exclusive(out, "--out", Path(out) / RUN_LOCK) if holds_folder \
            else contextlib.nullcontext():
        return _train(plan, callback)


def _train(plan: TrainPlan, callback: Callable[[dict], None] | None) -> TrainResult:
    run = _build(plan)
    _restore(run)
    model = DistributedDataParallel(run.model) if run.distributed.world > 1 else run.model
    for epoch in range(run.start_epoch, plan.optimizer.epochs):
        row = _train_epoch(run, model, epoch)
        run.rows.append(row)
        _save(run, epoch)
        if run.speaks:
            print(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in row.items() if k in METRIC_COLUMNS))
        if callback is not None:
            callback(row)
    if run.distributed.world > 1:
        dist.barrier()
    return TrainResult(run.rows, run.model.cpu(), run.net_config, run.run_dir, plan,
                       run.test_set)
