"""A training run's settings: plain dataclasses and names, importable without torch or
lava-dl.

Command-line parsing (``lava-init ... --help``) reads its defaults and choices from here, so
it starts in well under a second; the modules that do the work import torch and lava-dl.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass

from lava_init.checks import check_decay, check_threshold

#: Data sets ``lava-init train`` reads (lava_init.training.data), all with 10 classes.
DATASETS = ("digits", "mnist", "fashion-mnist", "nmnist", "cifar10", "mnist1d")
NUM_CLASSES = 10
#: Network builders of lava_init.training.models.
ARCHITECTURES = ("mlp", "cnn", "cnn1d")
#: How static images become input (lava_init.encoding): Bernoulli spikes with the pixel's
#: intensity as probability per step, round(intensity * T) spikes spread evenly, or graded
#: values, the intensity ramped over the steps (``ramp_encode``; Lava gets them as messages).
ENCODINGS = ("rate", "regular", "graded")


@dataclass(frozen=True)
class NeuronConfig:
    """CUBA neuron parameters (SLAYER units). Decays are fractions per step: 1.0 forgets at
    once (the paper's memoryless neuron), lava-dl's tutorials use current 0.25, voltage 0.03."""

    threshold: float = 1.25
    current_decay: float = 0.25
    voltage_decay: float = 0.03
    tau_grad: float = 0.03
    scale_grad: float = 3.0
    requires_grad: bool = False

    def __post_init__(self) -> None:
        """One validation for the command line and the API: a clear error per bad value."""
        check_threshold(self.threshold, allow_zero=False)
        check_decay(self.current_decay, "current_decay")
        check_decay(self.voltage_decay, "voltage_decay")
        for name in ("tau_grad", "scale_grad"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0 (got {value!r}); "
                                 "lava-dl's tutorials use tau_grad 0.03, scale_grad 3")

    @property
    def memoryless(self) -> bool:
        """Both decays 1: the membrane is this step's input only (the paper's neuron)."""
        return self.current_decay == 1.0 and self.voltage_decay == 1.0

    def params(self) -> dict:
        """The ``neuron_params`` dict SLAYER blocks take."""
        return asdict(self)


#: lava-dl's tutorial neuron (the NeuronConfig defaults).
TUTORIAL_NEURON = NeuronConfig()
#: The paper's memoryless neuron: the membrane is this step's weighted input only.
MEMORYLESS = NeuronConfig(current_decay=1.0, voltage_decay=1.0)

#: The default neuron for training: the paper's memoryless CUBA neuron (threshold 1.25, decays
#: 1.0) with a surrogate of width tau_grad 0.02 (measured best of 0.005-0.05 for 10 x 100,
#: T = 3: docs/training.md); its amplitude is set per block by the default recipe
#: (``conserve_gradient``).
TRAIN_NEURON = dataclasses.replace(MEMORYLESS, tau_grad=0.02, scale_grad=10.0)


@dataclass(frozen=True)
class BlockSettings:
    """What the blocks of a lava-init network share (``SlayerMLP`` / ``SlayerCNN``):
    ``neuron`` (every block's CUBA parameters); ``delay_shift`` (SLAYER's one-step delay per
    block); ``readout_population`` (output neurons per class); ``dropout`` (the probability
    that a hidden neuron is silenced for a training sample: lava-dl's neuron dropout);
    ``mean_norm`` (lava-dl's ``MeanOnlyBatchNorm`` on each hidden block's current but the
    first's; NetX: the neuron bias)."""

    neuron: NeuronConfig = TUTORIAL_NEURON
    delay_shift: bool = True
    readout_population: int = 1
    dropout: float = 0.0
    mean_norm: bool = False


#: lava-dl's tutorial blocks: the tutorial neuron, SLAYER's delay, one output neuron per class.
TUTORIAL_BLOCKS = BlockSettings()


#: Losses on the output spike counts, per class summed over its readout population:
#: cross-entropy on ``count_scale * counts / sqrt(population)`` (logits), or the mean squared
#: error of the classes' mean rates against 1 (true class) and 0 (others).
LOSSES = ("count_ce", "rate_mse")
#: The default ``count_scale`` is ``READOUT_STEPS / T``: logits span 0..3 at any T, the range
#: measured best at T = 3 (scales 0.5-3 tried: docs/training.md).
READOUT_STEPS = 3
#: Output neurons per class of the memoryless recipe. At T = 3 one neuron per class counts
#: 0..3 spikes and the top classes tie often (17 % of Fashion-MNIST test samples after 2
#: epochs); 16 neurons count 0..48 (2 % ties). MLP 10 x 100, 2 epochs of Fashion-MNIST, seed 0:
#: 0.847 with 16, 0.845 with 8, 0.816 with 1 (MNIST, 8 neurons: 0.958 against 0.951;
#: docs/training.md).
READOUT_POPULATION = 16


def count_scale(time_steps: int, scale: float | None = None) -> float:
    """``scale`` or, when None, ``READOUT_STEPS / time_steps``.

    Args:
        time_steps: T, the steps of one sample.
        scale: an explicit scale (logits per output spike), or None for the default.

    Returns:
        The count scale.

    Example:
        >>> count_scale(3), count_scale(20), count_scale(20, 0.5)
        (1.0, 0.15, 0.5)
    """
    return READOUT_STEPS / time_steps if scale is None else scale


#: Adam's default learning rate up to ``READOUT_STEPS`` time steps; beyond, a block's gradient
#: sums over T steps, so the default falls as ``READOUT_STEPS / T`` (4.5e-4 at T = 20: measured
#: best of 3e-3, 1e-3, 5e-4 for integrating neurons, docs/beyond_the_paper.md section 8).
BASE_LR = 3e-3
#: The integrating recipe's output-block rate (spikes per neuron per step), set by calibration.
INTEGRATING_READOUT_RATE = 0.02
#: The integrating recipe's rate for every other block: a low fixed rate, not the input's
#: (seed 0, T = 20, 3 x 3,000 samples: N-MNIST-format CNN 0.855 against 0.813 at the input's
#: 0.053 and 0.720 at 0.2; MNIST MLP depth 10 0.874 = 0.874, depth 20 0.778 against 0.780 at
#: the input's 0.13: docs/beyond_the_paper.md section 8).
INTEGRATING_HIDDEN_RATE = 0.025


def default_lr(time_steps: int) -> float:
    """``BASE_LR * min(1, READOUT_STEPS / time_steps)``.

    Args:
        time_steps: T, the steps of one sample.

    Returns:
        Adam's default learning rate at ``time_steps``.

    Example:
        >>> default_lr(3), round(default_lr(20), 6)
        (0.003, 0.00045)
    """
    return BASE_LR * min(1.0, READOUT_STEPS / time_steps)


def default_readout_population(neuron: NeuronConfig) -> int:
    """:data:`READOUT_POPULATION` output neurons per class for memoryless neurons, 1 for
    integrating ones (the readout the integrating recipe was measured with).

    Args:
        neuron: the network's neuron.

    Returns:
        Output neurons per class.

    Example:
        >>> default_readout_population(MEMORYLESS), default_readout_population(TUTORIAL_NEURON)
        (16, 1)
    """
    return READOUT_POPULATION if neuron.memoryless else 1


def default_encoding(neuron: NeuronConfig) -> str:
    """``regular`` for memoryless neurons, ``rate`` for integrating ones.

    At T = 3 with one output neuron per class the Bernoulli noise of ``rate`` cost accuracy
    (MLP 10 x 100, 2 epochs of MNIST, 0.951 against 0.947; 1 epoch of 10,000 samples, 0.854
    against 0.848 over 3 seeds; with the readout population the 1-epoch runs are even, 0.883
    against 0.884); ``rate`` is the encoding the integrating recipe was measured with.

    Args:
        neuron: the network's neuron.

    Returns:
        One of :data:`ENCODINGS`.

    Example:
        >>> default_encoding(MEMORYLESS), default_encoding(TUTORIAL_NEURON)
        ('regular', 'rate')
    """
    return "regular" if neuron.memoryless else "rate"


#: Relay blocks that train at the full learning rate; a deeper relay stack gets
#: ``lr * RELAY_LR_DEPTH / relays``: its blocks start alike and learn alike, so their updates
#: add up over the stack, and the stack as a whole moves at ``lr`` (measured at depth 100:
#: docs/backward_conservation.md).
RELAY_LR_DEPTH = 1


def relay_lr(lr: float, relays: int) -> float:
    """Learning rate of each of ``relays`` relay blocks: ``lr * min(1, RELAY_LR_DEPTH / relays)``.

    Args:
        lr: the learning rate of the other blocks.
        relays: how many relay blocks the network has (0 counts as 1).

    Returns:
        The relay blocks' learning rate.

    Example:
        >>> relay_lr(3e-3, 1), round(relay_lr(3e-3, 30), 6)
        (0.003, 0.0001)
    """
    return lr * min(1.0, RELAY_LR_DEPTH / max(relays, 1))


@dataclass
class TrainConfig:
    """One training run. ``depth``: hidden Dense layers (mlp) or convolutions (cnn);
    ``width``: hidden Dense neurons; ``channels``: convolution channels (cnn);
    ``limit`` / ``test_limit``: use only the first N training / test samples;
    ``encoding``: how static images become spikes (:data:`ENCODINGS`; None:
    :func:`default_encoding`); ``readout_population``: output neurons per class, their
    counts summed (None: :func:`default_readout_population`); ``dropout``: probability that a
    hidden neuron is silenced for a training sample (lava-dl's neuron dropout; 0: off);
    ``mean_norm``: lava-dl's ``MeanOnlyBatchNorm`` on each hidden block's current (NetX: the
    neuron bias);
    ``shift`` / ``flip``: augment the training images, moved by up to ``shift`` pixels along
    each axis / mirrored left-right at random, anew each epoch (the test set never);
    ``neuron``: :data:`TRAIN_NEURON` by default;
    ``delay_shift``: SLAYER's one-step delay per block (off: every layer sees the T steps,
    the paper's setting; see :mod:`lava_init.training.models`); ``conserve_gradient``: also set
    the surrogate amplitude for backward conservation (``initialize(surrogate=True)``);
    ``calibrate``: after the init, run
    :func:`lava_init.calibrate` on the first ``batch_size`` training samples (every block to
    ``hidden_rate``, or when None to their input rate; the output block to ``readout_rate``
    when given); ``relay_lr``: Adam's
    learning rate of the relay blocks (``init="relay"``), default :func:`relay_lr`;
    ``relay_noise``: the relay blocks' noise in units of the variance-conserving weights
    (``init="relay"``; None: :func:`lava_init.theory.relay_noise` of their number); ``loss``:
    one of :data:`LOSSES`; ``count_scale``: logits per output spike, for a readout
    population of several neurons over ``sqrt(population)`` (default :func:`count_scale`);
    ``label_smoothing``: the share of each training target spread evenly over the classes
    (0: one-hot targets); ``grow_from``: a checkpoint of this network trained at a smaller
    ``depth``, whose blocks the run starts from, relays in the added places
    (:mod:`lava_init.training.growth`; needs ``init="relay"``, no calibration).
    ``init``, ``calibrate`` and ``lr`` left at None take the project's
    recipe for the neuron (:func:`lava_init.training.plan.plan_training`)."""

    dataset: str = "mnist"
    arch: str = "mlp"
    depth: int = 10
    width: int = 100
    channels: int = 64
    init: str | None = None
    sigma: float | None = None
    calibrate: bool | None = None
    conserve_gradient: bool = True
    readout_rate: float | None = None
    hidden_rate: float | None = None
    time_steps: int = 3
    encoding: str | None = None
    readout_population: int | None = None
    dropout: float = 0.0
    mean_norm: bool = False
    shift: int = 0
    flip: bool = False
    epochs: int = 10
    batch_size: int = 16
    lr: float | None = None
    relay_lr: float | None = None
    relay_noise: float | None = None
    loss: str = "count_ce"
    count_scale: float | None = None
    label_smoothing: float = 0.0
    grow_from: str | None = None
    seed: int = 0
    limit: int | None = None
    test_limit: int | None = None
    neuron: NeuronConfig = TRAIN_NEURON
    delay_shift: bool = False
    data_dir: str | None = None
    download: bool = False
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True

    def as_dict(self) -> dict:
        """JSON-able (and ``torch.load(weights_only=True)``-able) form."""
        values = dataclasses.asdict(self)
        values["data_dir"] = None if self.data_dir is None else str(self.data_dir)
        values["out"] = None if self.out is None else str(self.out)
        values["grow_from"] = None if self.grow_from is None else str(self.grow_from)
        return values
