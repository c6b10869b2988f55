"""Weight initializers for spiking layers, in the style of ``torch.nn.init``.

Each initializer fills ``tensor`` in place and returns it, and takes only what it uses.
Shapes: ``(out, in)`` (Linear), ``(out, in/groups, kh, kw)`` (Conv2d) and SLAYER's 5-D
``(out, in/groups, kh, kw, kt)`` (Dense is ``(out, in, 1, 1, 1)``). Common keywords:

* ``fan_in`` overrides the fan-in read from the shape (transposed convolutions, or
  recurrent blocks where two synapses feed one neuron);
* ``quantization`` (e.g. :data:`lava_init.quantization.SLAYER_8BIT`) writes the weights on
  that grid, scaled so that the variance of the *quantized* weights, the ones SLAYER trains
  and Loihi runs, is the target variance;
* ``threshold`` and ``sigma`` (weight units) for the rules that depend on the neuron.

``generator``, ``quantization`` and ``fan_in`` are keyword-only in every initializer.
Methods are registered by name in :data:`INITIALIZERS`, each with the block quantities it
takes (:data:`BLOCK_QUANTITIES`), its options and, for methods that depend on the network's
structure (relay), a planning hook; :meth:`InitMethod.draw` passes each one what it declared,
so that experiments can switch by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from lava_init import temporal, theory
from lava_init.quantization import (
    Quantization,
    quantize_decay,
    scale_for_quantized_variance,
)

DISTRIBUTIONS = ("normal", "uniform")


def calculate_fan_in(tensor: torch.Tensor) -> int:
    """Inputs per output neuron: ``shape[1] * prod(shape[2:])`` (groups already in ``shape[1]``).

    Args:
        tensor: a weight of at least 2 dimensions; ValueError otherwise or for a fan-in of 0.

    Returns:
        The fan-in.

    Example:
        >>> calculate_fan_in(torch.empty(10, 784, 1, 1, 1))
        784
    """
    if tensor.dim() < 2:
        raise ValueError(
            f"fan-in needs a weight with at least 2 dimensions (got shape {tuple(tensor.shape)}); "
            "pass a Linear, Conv or SLAYER synapse weight"
        )
    fan_in = tensor.shape[1] * math.prod(tensor.shape[2:])
    if fan_in == 0:
        raise ValueError(f"fan-in is 0 for a weight of shape {tuple(tensor.shape)}")
    return fan_in


def calculate_fan_out(tensor: torch.Tensor) -> int:
    """Outputs per input neuron, torch's convention: ``shape[0] * prod(shape[2:])``.

    Args:
        tensor: the weight, checked as in :func:`calculate_fan_in`.

    Returns:
        The fan-out.

    Example:
        >>> calculate_fan_out(torch.empty(8, 3, 5, 5))  # 8 channels x a 5 x 5 kernel
        200
    """
    calculate_fan_in(tensor)
    return tensor.shape[0] * math.prod(tensor.shape[2:])


def _standard_sample(
    tensor: torch.Tensor, distribution: str, generator: torch.Generator | None
) -> torch.Tensor:
    """Zero-mean, unit-variance draws of ``tensor``'s shape: N(0, 1) or U(+-sqrt(3))."""
    if distribution == "normal":
        return torch.randn(tensor.shape, generator=generator, dtype=torch.float32)
    if distribution == "uniform":
        unit = torch.rand(tensor.shape, generator=generator, dtype=torch.float32)
        return (2.0 * unit - 1.0) * math.sqrt(3.0)
    raise ValueError(f"distribution must be one of {DISTRIBUTIONS} (got {distribution!r})")


@torch.no_grad()
def fill_with_variance_(
    tensor: torch.Tensor,
    variance: float,
    *,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` with zero-mean weights of the given variance (of the quantized weights).

    Normal: N(0, variance). Uniform: U(+-sqrt(3 * variance)). With ``quantization`` the weights
    land on its grid and the scale is solved on this very sample so that
    ``mean(q(w)^2) = variance`` as closely as the grid allows.

    Args:
        tensor: the weight to fill in place (floating point).
        variance: the target ``Var[w]`` (of the quantized weights with ``quantization``).
        distribution: ``"normal"`` or ``"uniform"``.
        generator: the random generator (None: torch's global one).
        quantization: the weight grid to land on, e.g. ``SLAYER_8BIT`` (None: float weights).

    Returns:
        ``tensor``, filled.

    Example:
        >>> from lava_init.quantization import SLAYER_8BIT
        >>> w = fill_with_variance_(torch.empty(256, 256), 0.01, quantization=SLAYER_8BIT)
        >>> round(float(w.pow(2).mean()), 3)
        0.01
    """
    if not math.isfinite(variance) or variance < 0:
        raise ValueError(f"weight variance must be finite and >= 0 (got {variance!r})")
    if not tensor.is_floating_point():
        raise ValueError(f"weights must be a floating-point tensor (got {tensor.dtype}); "
                         "initialize the float weight, e.g. torch.empty(..., dtype=torch.float32)")
    if quantization is not None and variance > grid_capacity(quantization):
        raise ValueError(
            f"target weight std {math.sqrt(variance):.4g} does not fit the weight grid: "
            f"weights are clipped at +-{quantization.high:g}, so at most std "
            f"{math.sqrt(grid_capacity(quantization)):.4g} keeps them unclipped; lower the "
            "threshold or sigma, or raise the fan-in")
    sample = _standard_sample(tensor, distribution, generator)
    if quantization is None:
        values = sample * math.sqrt(variance)
    else:
        scale = scale_for_quantized_variance(sample.numpy(), variance, quantization)
        values = quantization.apply(sample * scale)
    tensor.copy_(values.to(tensor.dtype))
    return tensor


def grid_capacity(quantization: Quantization) -> float:
    """The largest weight variance a grid holds with at most ~1% of normal draws clipped:
    ``(high / 2.576)^2`` (2.576: the two-sided 1% point of the normal distribution).

    Args:
        quantization: the weight grid; the narrower of its two clamps counts.

    Returns:
        The variance (weight units squared).

    Example:
        >>> from lava_init.quantization import SLAYER_8BIT
        >>> round(grid_capacity(SLAYER_8BIT), 3)
        2.374
    """
    return (min(quantization.high, -quantization.low) / 2.576) ** 2


def variance_conserving_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    *,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the variance-conserving rule for threshold neurons.

    .. math::
        \mathrm{Var}[w] = \frac{\sigma^2}{\text{fan\_in} \; P(u > \theta)}, \quad
        P(u > \theta) = \tfrac{1}{2} \operatorname{erfc}\big(\theta / (\sigma \sqrt{2})\big)

    keeps the membrane potential at ``Var[u] = sigma^2`` in every layer of a deep network of
    threshold neurons. From Micheli, Booij, van Gemert, Tömen, "Deep activity propagation via
    weight initialization in spiking neural networks", arXiv:2410.00580.

    Args:
        tensor: the weight to fill in place.
        threshold: the neuron's threshold theta (weight units).
        sigma: the target membrane std (weight units).
        distribution: ``"normal"`` or ``"uniform"`` (same variance).
        generator: the random generator (None: torch's global one).
        quantization: the weight grid to land on, e.g.
            :data:`lava_init.quantization.SLAYER_8BIT`; the variance is that of the
            quantized weights (None: float weights).
        fan_in: inputs per neuron (None: read from the shape).

    Returns:
        ``tensor``, filled.

    Example:
        >>> w = variance_conserving_(torch.empty(100, 1000), threshold=1.0, sigma=1.0)
        >>> abs(float(w.var() * 1000) - 6.30) < 0.1  # sigma^2 / P(u > 1) = 6.30
        True
    """
    variance = theory.weight_variance(fan_in or calculate_fan_in(tensor), threshold, sigma)
    return fill_with_variance_(tensor, variance, distribution=distribution, generator=generator,
                               quantization=quantization)


def is_relayable(shape: Sequence[int]) -> bool:
    """True for a weight shape that maps a layer onto one of its own size: Linear / Dense with
    ``out == in``, or a convolution with ``out == in`` channels (no groups).

    Args:
        shape: the weight's shape, ``(out, in, ...)``.

    Returns:
        Whether :func:`relay_` can fill it.

    Example:
        >>> is_relayable((64, 64, 1, 1, 1)), is_relayable((10, 64))
        (True, False)
    """
    return len(shape) >= 2 and shape[0] == shape[1]


@torch.no_grad()
def relay_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    *,
    noise: float = theory.RELAY_NOISE,
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    r"""Fill a square ``tensor`` with a spike relay: the identity at twice the threshold plus
    noise.

    .. math::
        w = 2 \theta I + \mathcal{N}\Big(0, \frac{\text{noise}^2 \sigma^2}
        {\text{fan\_in} \; P(u > \theta)}\Big)

    Each neuron copies its input neuron's spike (membrane ``2 theta``) or silence (0), both
    ``theta`` from the threshold, plus ``noise`` times the variance-conserving weights
    (arXiv:2410.00580; membrane noise ``~noise * sigma`` around each mode). A deep relay stack
    passes its input's spikes on unchanged, where random weights, however scaled, scramble
    them within a few layers; the surrogate gradient passes back alike through spiking and
    silent neurons (:func:`lava_init.theory.relay_weight`). ``I`` is the identity (Dense) or
    the Dirac kernel (convolution); a weight that is not square (:func:`is_relayable`) gets
    the variance-conserving rule alone. lava-init's own rule (no paper).

    Args:
        tensor: the weight to fill in place.
        threshold: the neuron's threshold theta (weight units).
        sigma: the membrane std of the variance-conserving noise (weight units).
        noise: the noise in units of the variance-conserving weights (>= 0).
        generator, quantization, fan_in: as in :func:`variance_conserving_`.

    Example:
        >>> w = relay_(torch.empty(64, 64), threshold=1.25, sigma=1.25 / 0.7)
        >>> float(w.diagonal().mean()) > 2.3, abs(float(w.fill_diagonal_(0).mean())) < 0.02
        (True, True)
    """
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"relay noise must be a finite number >= 0 (got {noise!r}); it is "
                         f"the membrane noise in units of sigma, e.g. {theory.RELAY_NOISE}")
    if not is_relayable(tensor.shape):
        return variance_conserving_(tensor, threshold, sigma, generator=generator,
                                    quantization=quantization, fan_in=fan_in)
    variance = noise**2 * theory.weight_variance(fan_in or calculate_fan_in(tensor), threshold,
                                                 sigma)
    fill_with_variance_(tensor, variance, generator=generator, quantization=quantization)
    identity = (torch.eye(*tensor.shape, dtype=tensor.dtype) if tensor.dim() == 2
                else torch.nn.init.dirac_(torch.empty_like(tensor)))
    tensor.add_(identity * theory.relay_weight(threshold))
    if quantization is not None:
        tensor.copy_(quantization.apply(tensor))
    return tensor

def kaiming_normal_(tensor: torch.Tensor, *, generator: torch.Generator | None = None,
                    quantization: Quantization | None = None, fan_in: int | None = None
                    ) -> torch.Tensor:
    r"""Fill ``tensor`` with Kaiming/He's rule for ReLU, normal:
    :math:`\mathrm{Var}[w] = 2 / \text{fan\_in}`.

    He, Zhang, Ren, Sun, "Delving deep into rectifiers", arXiv:1502.01852. Returns ``tensor``.

    Args:
        tensor: the weight to fill in place.
        generator, quantization, fan_in: as in :func:`variance_conserving_`.

    Example:
        >>> round(float(kaiming_normal_(torch.empty(100, 1000)).var() * 1000), 1)
        2.0
    """
    variance = theory.kaiming_variance(fan_in or calculate_fan_in(tensor))
    return fill_with_variance_(tensor, variance, generator=generator, quantization=quantization)


def xavier_normal_(tensor: torch.Tensor, *, generator: torch.Generator | None = None,
                   quantization: Quantization | None = None, fan_in: int | None = None
                   ) -> torch.Tensor:
    r"""Fill ``tensor`` with Xavier/Glorot's rule, normal:
    :math:`\mathrm{Var}[w] = 2 / (\text{fan\_in} + \text{fan\_out})`.

    Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
    networks", AISTATS 2010 (no arXiv id). Returns ``tensor``.

    Args:
        tensor: the weight to fill in place; fan-out is read from its shape.
        generator, quantization, fan_in: as in :func:`variance_conserving_`.

    Example:
        >>> weight = torch.empty(1000, 1000)
        >>> xavier_normal_(weight, generator=torch.Generator().manual_seed(0)) is weight
        True
    """
    variance = theory.xavier_variance(fan_in or calculate_fan_in(tensor), calculate_fan_out(tensor))
    return fill_with_variance_(tensor, variance, generator=generator, quantization=quantization)


def slayer_default_(tensor: torch.Tensor, *, generator: torch.Generator | None = None,
                    quantization: Quantization | None = None, fan_in: int | None = None
                    ) -> torch.Tensor:
    r"""Fill ``tensor`` as SLAYER does by default (torch's Conv3d init,
    ``kaiming_uniform_(a=sqrt(5))``): :math:`U(\pm 1/\sqrt{\text{fan\_in}})`, so
    :math:`\mathrm{Var}[w] = 1 / (3 \, \text{fan\_in})`.

    Shrestha & Orchard, "SLAYER: Spike Layer Error Reassignment in Time", arXiv:1810.08646
    (lava-dl's SLAYER keeps torch's default). Returns ``tensor``.

    Args:
        tensor: the weight to fill in place.
        generator, quantization, fan_in: as in :func:`variance_conserving_`.

    Example:
        >>> bool(slayer_default_(torch.empty(100, 300)).abs().max() <= 300 ** -0.5)
        True
    """
    variance = theory.slayer_default_variance(fan_in or calculate_fan_in(tensor))
    return fill_with_variance_(tensor, variance, distribution="uniform", generator=generator,
                               quantization=quantization)


def temporal_(
    tensor: torch.Tensor, threshold: float = 1.0, sigma: float = 1.0, *,
    current_decay: float = 1.0, voltage_decay: float = 1.0, time_steps: int = 1,
    target_rate: float | None = None, depth: int = temporal.DEFAULT_LAYERS,
    distribution: str = "normal", generator: torch.Generator | None = None,
    quantization: Quantization | None = None, fan_in: int | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the time-aware rule for CUBA neurons over ``time_steps``
    (:mod:`lava_init.temporal`): :math:`\mathrm{Var}[w] = s^2 \sigma^2 /
    (\text{fan\_in} \, P(u > \theta))`, the drive scale ``s`` from the neuron's decays.

    Without ``target_rate``: for memoryless neurons (decays 1) or T = 1, ``s = 1``, the rule
    of arXiv:2410.00580; for integrating ones over T steps the balanced drive
    (:func:`lava_init.temporal.balanced_drive_scale`), under which a stack of ``depth``
    blocks keeps its first layer's rate in its last instead of integrating up to saturation.
    With ``target_rate`` (spikes per neuron per step over the T steps): the drive under which
    a deep stack of these CUBA neurons holds that rate
    (:func:`lava_init.temporal.temporal_drive_scale`; it grows with the target). lava-init's
    extension of arXiv:2410.00580 to time.

    Args:
        tensor: the weight to fill in place.
        threshold: the neuron's threshold theta (weight units).
        sigma: the target membrane std (weight units).
        current_decay: the CUBA current decay per step, in [0, 1].
        voltage_decay: the CUBA voltage decay per step, in [0, 1].
        time_steps: the steps T a sample lasts.
        target_rate: spikes per neuron per step to hold (None: the balanced drive).
        depth: the blocks of the stack (:func:`lava_init.initialize` passes the network's).
        distribution, generator, quantization, fan_in: as in :func:`variance_conserving_`.

    Example:
        >>> w = temporal_(torch.empty(100, 1000), threshold=1.0, time_steps=1)
        >>> abs(float(w.var() * 1000) - 6.30) < 0.1  # memoryless at T = 1: the paper's rule
        True
    """
    variance = temporal.temporal_weight_variance(
        fan_in or calculate_fan_in(tensor), threshold, current_decay, voltage_decay,
        time_steps, target_rate, sigma, depth)
    return fill_with_variance_(tensor, variance, distribution=distribution, generator=generator,
                               quantization=quantization)


@torch.no_grad()
def fluctuation_driven_(
    tensor: torch.Tensor, threshold: float = 1.0, *, current_decay: float = 1.0,
    voltage_decay: float = 1.0, rate: float | None = None, xi: float = 2.0,
    membrane_mean: float = 0.0, distribution: str = "normal",
    generator: torch.Generator | None = None, quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the fluctuation-driven rule for the discrete CUBA kernel: weights
    of the mean and variance that put the membrane's std at :math:`(\theta - \mu_u) / \xi`.

    Rossbroich, Gygax & Zenke, "Fluctuation-driven initialization for spiking neural network
    training", arXiv:2206.10226; the moments from
    :func:`lava_init.temporal.fluctuation_driven_moments`. ``membrane_mean = 0`` is the
    centred variant (zero-mean weights, quantized variance exact); otherwise the mean is
    added and the weights rounded to the grid.

    Args:
        tensor: the weight to fill in place.
        threshold: the neuron's threshold theta (weight units).
        current_decay: the CUBA current decay per step, in [0, 1].
        voltage_decay: the CUBA voltage decay per step, in [0, 1].
        rate: presynaptic spikes per step (None: the paper's operating point
            ``P(u > theta)`` at ``sigma = theta``).
        xi: the threshold's distance from the mean membrane in membrane stds.
        membrane_mean: the target mean membrane (weight units).
        distribution, generator, quantization, fan_in: as in :func:`variance_conserving_`.

    Example:
        >>> w = fluctuation_driven_(torch.empty(100, 1000), threshold=1.0)
        >>> abs(float(w.mean())) < 0.01
        True
    """
    if rate is None:
        rate = theory.firing_probability(threshold, threshold)
    mean, variance = temporal.fluctuation_driven_moments(
        fan_in or calculate_fan_in(tensor), rate, threshold, quantize_decay(current_decay),
        quantize_decay(voltage_decay), xi, membrane_mean)
    if mean == 0.0:
        return fill_with_variance_(tensor, variance, distribution=distribution,
                                   generator=generator, quantization=quantization)
    fill_with_variance_(tensor, variance, distribution=distribution, generator=generator)
    tensor.add_(mean)
    if quantization is not None:
        tensor.copy_(quantization.apply(tensor))
    return tensor


Initializer = Callable[..., torch.Tensor]
#: ``variance(fan_in, fan_out, threshold, sigma)``: the target Var[w] of a method.
VarianceRule = Callable[[int, int, float, float], float]
#: What an initializer may take of the block it draws: its operating point and its decays.
BLOCK_QUANTITIES = ("threshold", "sigma", "current_decay", "voltage_decay")
#: The block quantities of a method that models the neuron over time.
DYNAMICS = ("current_decay", "voltage_decay")


@dataclass(frozen=True)
class BlockPoint:
    """What a planning hook knows of one weighted block, in the network's order: whether its
    weight is square (:func:`is_relayable`), the threshold the rule uses and its sigma."""

    square: bool
    threshold: float
    sigma: float


#: ``plan(points, options) -> [(method name, options)]``: per block, the registered method to
#: draw it with and that method's options (a method that depends on the network's structure).
Planner = Callable[[Sequence[BlockPoint], dict], list[tuple[str, dict]]]


@dataclass(frozen=True)
class InitMethod:
    """A registered initializer and what it declared.

    ``takes``: the :data:`BLOCK_QUANTITIES` ``fn`` takes; ``options``: the keywords users may
    set; ``quantization_aware`` methods get SLAYER's grid by default in
    :func:`lava_init.initialize`; ``variance`` is the closed-form Var[w] for reports and
    theory curves (None if none); ``plan`` a planning hook (:data:`Planner`) for methods that
    depend on the network's structure; ``relay``: the weights copy the input (two membrane
    modes, ``theta`` from the threshold), which the report and the surrogate amplitude use.
    """

    name: str
    fn: Initializer
    quantization_aware: bool = False
    variance: VarianceRule | None = None
    takes: frozenset[str] = frozenset()
    options: tuple[str, ...] = ()
    plan: Planner | None = None
    relay: bool = False

    @property
    def uses_threshold(self) -> bool:
        return "threshold" in self.takes

    @property
    def uses_dynamics(self) -> bool:
        return set(DYNAMICS) <= self.takes

    def draw(self, tensor: torch.Tensor, *, generator: torch.Generator | None = None,
             quantization: Quantization | None = None, fan_in: int | None = None,
             options: dict | None = None, **quantities: float) -> torch.Tensor:
        """Call ``fn(tensor, ...)`` with the block ``quantities`` it takes, the generator, grid,
        fan-in and ``options``."""
        taken = {name: value for name, value in quantities.items() if name in self.takes}
        return self.fn(tensor, generator=generator, quantization=quantization, fan_in=fan_in,
                       **taken, **(options or {}))


#: Initializers by name: the names accepted by ``lava_init.initialize`` and the experiments.
INITIALIZERS: dict[str, InitMethod] = {}


def register_initializer(
    name: str,
    fn: Initializer,
    *,
    variance: VarianceRule | None = None,
    quantization_aware: bool = False,
    takes: Sequence[str] = (),
    options: Sequence[str] = (),
    plan: Planner | None = None,
    relay: bool = False,
) -> None:
    """Make ``fn`` (``fn(tensor, *, generator, quantization, fan_in, ...)``, in-place)
    available by ``name``.

    Args:
        name: the name :func:`lava_init.initialize` and the experiments accept.
        fn: the initializer.
        variance: the method's closed-form Var[w] for reports and theory curves.
        quantization_aware: draw on SLAYER's grid by default.
        takes: the :data:`BLOCK_QUANTITIES` ``fn`` takes (e.g. ``("threshold", "sigma")``).
        options: the keywords of ``fn`` users may set (e.g. ``("time_steps",)``).
        plan: a planning hook for a method that depends on the network's structure.
        relay: ``fn`` copies its input (see :class:`InitMethod`).

    Example:
        >>> register_initializer("half_kaiming", lambda w, **kw: kaiming_normal_(w, **kw).mul_(0.5))
        >>> get_initializer("half_kaiming").takes
        frozenset()
        >>> del INITIALIZERS["half_kaiming"]
    """
    unknown = sorted(set(takes) - set(BLOCK_QUANTITIES))
    if unknown:
        raise ValueError(f"initializer {name!r} takes unknown block quantities {unknown}; "
                         f"choose from {', '.join(BLOCK_QUANTITIES)}")
    INITIALIZERS[name] = InitMethod(name, fn, quantization_aware, variance, frozenset(takes),
                                    tuple(options), plan, relay)


def get_initializer(name: str) -> InitMethod:
    """The registered method ``name``; a clear error lists the valid names otherwise.

    Args:
        name: a key of :data:`INITIALIZERS`, e.g. ``"variance_conserving"``.

    Returns:
        Its :class:`InitMethod`.

    Example:
        >>> get_initializer("relay").relay, sorted(get_initializer("temporal").options)
        (True, ['depth', 'target_rate', 'time_steps'])
    """
    try:
        return INITIALIZERS[name]
    except KeyError:
        valid = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown init method {name!r}; valid methods: {valid}") from None


def plan_relays(points: Sequence[BlockPoint], options: dict) -> list[tuple[str, dict]]:
    """The relay method's planning hook: every square block but the readout (the last of a
    deeper network) relays, with ``noise`` per the number of relays
    (:func:`lava_init.theory.relay_noise`) unless given; the others get the
    variance-conserving rule.

    Args:
        points: the network's weighted blocks, in order.
        options: the relay options given (``noise``).

    Returns:
        Per block, ``("relay", {"noise": ...})`` or ``("variance_conserving", {})``.

    Example:
        >>> point = BlockPoint(square=True, threshold=1.25, sigma=1.25 / 0.7)
        >>> [name for name, _ in plan_relays([point, point, point], {})]
        ['relay', 'relay', 'variance_conserving']
    """
    candidates = len(points) - 1 if len(points) > 1 else len(points)
    relays = sum(point.square for point in points[:candidates])
    return [("relay", {"noise": options.get("noise", theory.relay_noise(
                relays, point.threshold, point.sigma))})
            if point.square and index < candidates else ("variance_conserving", {})
            for index, point in enumerate(points)]


def plan_depth(points: Sequence[BlockPoint], options: dict) -> list[tuple[str, dict]]:
    """The temporal method's planning hook: its ``depth`` is the network's number of weighted
    blocks unless given.

    Args:
        points: the network's weighted blocks, in order.
        options: the temporal options given.

    Returns:
        Per block, ``("temporal", options with depth)``.

    Example:
        >>> point = BlockPoint(square=False, threshold=1.0, sigma=1.0)
        >>> plan_depth([point, point], {"time_steps": 20})[0]
        ('temporal', {'depth': 2, 'time_steps': 20})
    """
    return [("temporal", {"depth": len(points), **options})] * len(points)


POINT = ("threshold", "sigma")
register_initializer(
    "variance_conserving", variance_conserving_, quantization_aware=True, takes=POINT,
    variance=lambda fan_in, fan_out, threshold, sigma: theory.weight_variance(
        fan_in, threshold, sigma))
register_initializer(
    "kaiming", kaiming_normal_, variance=lambda fan_in, *_: theory.kaiming_variance(fan_in))
register_initializer(
    "xavier", xavier_normal_,
    variance=lambda fan_in, fan_out, *_: theory.xavier_variance(fan_in, fan_out))
register_initializer(
    "slayer_default", slayer_default_,
    variance=lambda fan_in, *_: theory.slayer_default_variance(fan_in))
register_initializer("temporal", temporal_, quantization_aware=True,
                     takes=(*POINT, *DYNAMICS), options=("time_steps", "target_rate", "depth"),
                     plan=plan_depth)
register_initializer("relay", relay_, quantization_aware=True, takes=POINT, options=("noise",),
                     plan=plan_relays, relay=True)
register_initializer("fluctuation_driven", fluctuation_driven_, quantization_aware=True,
                     takes=("threshold", *DYNAMICS), options=("rate", "xi", "membrane_mean"))
