"""A training run's plan: its :class:`~lava_init.training.config.TrainConfig` checked and
resolved once, at the entrance (:func:`plan_training`), into frozen records with nothing left
to derive. Everything downstream (data, model, init, optimizer, checkpoints, export) takes the
plan; the network carries its input contract (:class:`~lava_init.records.InputContract`), so
export and the Lava check read it from the network.

A None left in a plan is a documented choice, never a recipe field to fill in later:
``data_dir`` None is the default data folder, ``limit`` None all samples, ``sigma`` None the
method's own, ``hidden_rate`` None each block's input rate, ``relay_lr`` None the relay rule
(:func:`~lava_init.training.config.relay_lr`, which needs the number of relay blocks the init
made), ``relay_noise`` None the relay rule's noise (which needs the same), ``out`` None no run
folder.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from lava_init.checks import (
    check_allocation,
    check_count,
    check_dropout,
    check_label_smoothing,
    check_rate,
    check_shift,
)
from lava_init.encoding import encoding_input_levels
from lava_init.initializers import get_initializer
from lava_init.records import InputContract
from lava_init.training.config import (
    ARCHITECTURES,
    DATASETS,
    ENCODINGS,
    INTEGRATING_HIDDEN_RATE,
    INTEGRATING_READOUT_RATE,
    LOSSES,
    NUM_CLASSES,
    BlockSettings,
    TrainConfig,
    count_scale,
    default_encoding,
    default_lr,
    default_readout_population,
)


@dataclass(frozen=True)
class DataPlan:
    """Which samples a run reads: ``dataset`` from ``data_dir`` (None: the default folder;
    ``download`` fetches what is missing), the first ``limit`` / ``test_limit`` (None: all),
    augmented by ``shift`` pixels and ``flip`` (training only), ``flatten``-ed for an MLP."""

    dataset: str
    data_dir: str | None
    download: bool
    limit: int | None
    test_limit: int | None
    shift: int
    flip: bool
    flatten: bool


@dataclass(frozen=True)
class ModelPlan:
    """The network: ``arch`` of ``depth`` hidden layers (mlp) or convolutions (cnn, cnn1d) of
    ``width`` neurons / ``channels``, every block built with ``settings``."""

    arch: str
    depth: int
    width: int
    channels: int
    settings: BlockSettings


@dataclass(frozen=True)
class InitPlan:
    """The init: ``method`` (``sigma`` None: its own) with ``time_steps`` when it takes them
    (None otherwise) and, for ``relay``, ``relay_noise`` (None: the relay rule's), then
    ``grow_from`` a trained shallower network's checkpoint (None: none), ``calibrate`` to
    ``hidden_rate`` / ``readout_rate`` (None: each block's input rate / as the hidden blocks)
    and ``conserve_gradient``."""

    method: str
    sigma: float | None
    time_steps: int | None
    relay_noise: float | None
    grow_from: str | None
    calibrate: bool
    hidden_rate: float | None
    readout_rate: float | None
    conserve_gradient: bool


@dataclass(frozen=True)
class OptimizerPlan:
    """Adam with a cosine schedule for ``epochs`` of batches of ``batch_size`` at ``lr``
    (relay blocks at ``relay_lr``; None: the relay rule) on ``loss`` (logits per output spike
    ``count_scale``, targets smoothed by ``label_smoothing``)."""

    epochs: int
    batch_size: int
    lr: float
    relay_lr: float | None
    loss: str
    count_scale: float
    label_smoothing: float


@dataclass(frozen=True)
class OutputPlan:
    """Where a run writes (``out``; None: nowhere), whether it ``resume``-s or
    ``overwrite``-s a run there, and whether it prints ``progress``."""

    out: str | None
    resume: bool
    overwrite: bool
    progress: bool


@dataclass(frozen=True)
class TrainPlan:
    """One run, resolved: ``config`` is the request with every recipe field filled in (what
    checkpoints and stored results hold), the records below are read from it once."""

    config: TrainConfig
    input: InputContract
    data: DataPlan
    model: ModelPlan
    init: InitPlan
    optimizer: OptimizerPlan
    output: OutputPlan
    seed: int


def _resolve(config: TrainConfig) -> TrainConfig:
    """``config`` with its None recipe fields filled in: ``init`` ``relay``
    (docs/backward_conservation.md); for integrating neurons (decays < 1) also calibration
    of every block to :data:`INTEGRATING_HIDDEN_RATE` and of the output block to
    :data:`INTEGRATING_READOUT_RATE`, after which ``conserve_gradient`` measures the surrogate
    on the first batch, and the relay blocks train at ``lr`` (calibrated, they are no longer
    copies; measured at depth 20, T = 20: docs/beyond_the_paper.md section 8), as they do in
    a network grown from a trained one (``grow_from``: its trained blocks count as relays in
    the init's report); ``lr``
    :func:`default_lr`; ``encoding`` :func:`default_encoding`; ``readout_population``
    :func:`default_readout_population`. A named ``init`` gets no calibration unless asked
    for. (``count_scale``: :func:`count_scale`, in the optimizer plan.)"""
    recipe = config.init is None and not config.neuron.memoryless
    calibrate = (recipe and config.grow_from is None) if config.calibrate is None \
        else config.calibrate
    readout_rate, hidden_rate = config.readout_rate, config.hidden_rate
    if recipe and calibrate:
        readout_rate = INTEGRATING_READOUT_RATE if readout_rate is None else readout_rate
        hidden_rate = INTEGRATING_HIDDEN_RATE if hidden_rate is None else hidden_rate
    lr = default_lr(config.time_steps) if config.lr is None else config.lr
    full_rate_relays = recipe or config.grow_from is not None
    return dataclasses.replace(
        config, init=config.init or "relay", calibrate=calibrate, readout_rate=readout_rate,
        hidden_rate=hidden_rate,
        lr=lr, relay_lr=lr if full_rate_relays and config.relay_lr is None else config.relay_lr,
        encoding=config.encoding or default_encoding(config.neuron),
        readout_population=(default_readout_population(config.neuron)
                            if config.readout_population is None
                            else config.readout_population))


#: Largest input a data set gives (CIFAR-10's 3 x 32 x 32), for the memory bound.
LARGEST_INPUT = 3 * 32 * 32


def training_bytes(config: TrainConfig) -> int:
    """An upper bound of the memory a training run takes (``config`` resolved): weights with
    their gradients and Adam's two moments, and each block's states and gradients over a
    batch's steps.

    Args:
        config: a resolved run (``plan_training(...).config``: its readout population set).

    Returns:
        The bound in bytes.

    Example:
        >>> config = plan_training(TrainConfig(depth=2, width=10, batch_size=4)).config
        >>> training_bytes(config)  # 4 bytes x (4 x 32,520 weights + 8 x 4 x 3 x 180 states)
        589440
        >>> training_bytes(dataclasses.replace(config, batch_size=8)) > training_bytes(config)
        True
    """
    outputs = NUM_CLASSES * config.readout_population
    if config.arch in ("cnn", "cnn1d"):
        hidden = config.depth * config.channels * LARGEST_INPUT // 3
        weights = config.depth * config.channels ** 2 * 9 + hidden * config.width
    else:
        hidden = config.depth * config.width
        weights = LARGEST_INPUT * config.width + config.depth * config.width ** 2
    weights += config.width * outputs
    return 4 * (4 * weights + 8 * config.batch_size * config.time_steps * (hidden + outputs))


def _check_request(config: TrainConfig) -> None:
    """One clear ValueError for a request that names what does not exist."""
    for name, value, valid in (("dataset", config.dataset, DATASETS),
                               ("architecture", config.arch, ARCHITECTURES),
                               ("loss", config.loss, LOSSES)):
        if value not in valid:
            raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
    for name in ("depth", "width", "channels", "time_steps", "epochs", "batch_size"):
        check_count(getattr(config, name), name.replace("_", "-"))
    if config.encoding is not None and config.encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {config.encoding!r}; valid: {', '.join(ENCODINGS)}")
    for name in ("lr", "relay_lr", "count_scale"):
        value = getattr(config, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name.replace('_', '-')} must be a finite number > 0 (got "
                             f"{value!r})")
    check_dropout(config.dropout)
    check_label_smoothing(config.label_smoothing)
    check_shift(config.shift)
    if config.flip and config.dataset in ("digits", "mnist", "nmnist"):
        raise ValueError(f"--flip mirrors images left-right, which changes what {config.dataset} "
                         "digits mean; use it for fashion-mnist or cifar10")
    if config.resume and config.out is None:
        raise ValueError("--resume continues OUT/checkpoint.pt: give --out RUN_DIR")
    if config.resume and config.overwrite:
        raise ValueError("--resume and --overwrite exclude each other: continue the run or "
                         "start it over")


def _check_resolved(config: TrainConfig) -> None:
    """One clear ValueError for a resolved run that cannot train."""
    get_initializer(config.init)
    check_count(config.readout_population, "readout-population")
    check_allocation(training_bytes(config), f"training a {config.arch} of depth "
                     f"{config.depth} on batches of {config.batch_size} x {config.time_steps} "
                     f"steps with {config.readout_population} output neurons per class",
                     "use smaller --batch-size, --time-steps, --width, --channels, --depth or "
                     "--readout-population")
    if config.encoding == "graded" and not config.neuron.memoryless:
        raise ValueError("--encoding graded needs memoryless neurons (--current-decay 1 "
                         "--voltage-decay 1): only then does Lava run the graded first layer "
                         "exactly as SLAYER; use regular or rate for integrating neurons")
    if config.relay_noise is not None:
        if config.init != "relay":
            raise ValueError(f"--relay-noise is the relay blocks' noise, and --init is "
                             f"{config.init}; use --init relay or drop --relay-noise")
        if not (math.isfinite(config.relay_noise) and config.relay_noise >= 0):
            raise ValueError(f"relay-noise must be a finite number >= 0 (got "
                             f"{config.relay_noise!r}), e.g. 0.5")
    if config.grow_from is not None and (config.init != "relay" or config.calibrate):
        raise ValueError("--grow-from starts from a trained network with relays in the added "
                         "layers: use --init relay (the default) without --calibrate, which "
                         "would rescale the trained layers")
    for name, blocks in (("readout_rate", "the output block's"),
                         ("hidden_rate", "the hidden blocks'")):
        option = name.replace("_", "-")
        if getattr(config, name) is not None:
            if not config.calibrate:
                raise ValueError(f"{option} is {blocks} calibration target; add --calibrate")
            check_rate(getattr(config, name), option)


def plan_training(config: TrainConfig) -> TrainPlan:
    """Check ``config`` and resolve it, once, into the plan everything downstream takes.

    Args:
        config: the run as asked for (the command line's options; None recipe fields take
            the project's recipe for the neuron: :func:`_resolve`).

    Returns:
        The :class:`TrainPlan`. Raises one clear ValueError for a setting that cannot train.

    Example:
        >>> plan = plan_training(TrainConfig(time_steps=20))
        >>> plan.init.method, plan.optimizer.lr, plan.input
        ('relay', 0.00045, InputContract(encoding='regular', time_steps=20, levels=None))
    """
    _check_request(config)
    config = _resolve(config)
    _check_resolved(config)
    settings = BlockSettings(neuron=config.neuron, delay_shift=config.delay_shift,
                             readout_population=config.readout_population,
                             dropout=config.dropout, mean_norm=config.mean_norm)
    takes_steps = "time_steps" in get_initializer(config.init).options
    return TrainPlan(
        config=config,
        input=InputContract(config.encoding, config.time_steps,
                            encoding_input_levels(config.encoding)),
        data=DataPlan(config.dataset, None if config.data_dir is None else str(config.data_dir),
                      config.download, config.limit, config.test_limit, config.shift,
                      config.flip, flatten=config.arch == "mlp"),
        model=ModelPlan(config.arch, config.depth, config.width, config.channels, settings),
        init=InitPlan(config.init, config.sigma, config.time_steps if takes_steps else None,
                      config.relay_noise,
                      None if config.grow_from is None else str(config.grow_from),
                      config.calibrate, config.hidden_rate, config.readout_rate,
                      config.conserve_gradient),
        optimizer=OptimizerPlan(config.epochs, config.batch_size, config.lr, config.relay_lr,
                                config.loss, count_scale(config.time_steps, config.count_scale),
                                config.label_smoothing),
        output=OutputPlan(None if config.out is None else str(config.out), config.resume,
                          config.overwrite, config.progress),
        seed=config.seed)


def model_config(plan: TrainPlan, input_shape: tuple[int, ...]) -> dict:
    """The JSON-able network config checkpoints store
    (:func:`lava_init.training.models.build_model` builds it) for data of ``input_shape``.

    Args:
        plan: the run's plan (its model and input contract).
        input_shape: one sample's shape without time (the data set's ``input_shape``).

    Returns:
        ``{"arch", "in_features" | "in_shape", "out_features", "depth", "width",
        ["channels"], "settings", "input"}``.

    Example:
        >>> config = model_config(plan_training(TrainConfig(depth=2)), (64,))
        >>> config["in_features"], config["settings"]["readout_population"]
        (64, 16)
    """
    model = plan.model
    common = {"out_features": NUM_CLASSES, "depth": model.depth, "width": model.width,
              "settings": dataclasses.asdict(model.settings),
              "input": dataclasses.asdict(plan.input)}
    if model.arch == "mlp":
        return {"arch": "mlp", "in_features": math.prod(input_shape), **common}
    return {"arch": model.arch, "in_shape": list(input_shape), "channels": model.channels,
            **common}
