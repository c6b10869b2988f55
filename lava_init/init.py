"""Weight initializers for spiking layers, in the style of ``torch.nn.init``.

Each initializer fills ``tensor`` in place and returns it. Shapes: ``(out, in)`` (Linear),
``(out, in/groups, kh, kw)`` (Conv2d) and SLAYER's 5-D ``(out, in/groups, kh, kw, kt)``
(Dense is ``(out, in, 1, 1, 1)``). All share one signature so that experiments can switch
by name through :data:`INITIALIZERS`::

    init_(tensor, threshold=1.0, sigma=1.0, distribution="normal", generator=None,
          quantization=None, fan_in=None)

``fan_in`` overrides the fan-in read from the shape (transposed convolutions, or recurrent
blocks where two synapses feed one neuron).

With a :class:`Quantization` (e.g. :data:`SLAYER_8BIT`), the weights are written already on
the quantization grid, and scaled so that the variance of the *quantized* weights, the ones
SLAYER trains and Loihi runs, is the target variance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lava_init import theory

DISTRIBUTIONS = ("normal", "uniform")


@dataclass(frozen=True)
class Quantization:
    """A symmetric rounding grid with clamping, as SLAYER's ``neuron.quantize_8bit``.

    ``step`` is the weight resolution, ``low``/``high`` the clamp range (weight units).
    """

    step: float = 2.0 / 64
    low: float = -256.0 / 64
    high: float = 254.0 / 64

    @classmethod
    def from_w_scale(cls, w_scale: int) -> Quantization:
        """The grid of a SLAYER neuron with ``w_scale`` (``scale``; 64 by default)."""
        return cls(step=2.0 / w_scale, low=-256.0 / w_scale, high=254.0 / w_scale)

    def apply(self, weight: torch.Tensor) -> torch.Tensor:
        """Round to the grid and clamp: ``clamp(round(w / step) * step, low, high)``."""
        return (torch.round(weight / self.step) * self.step).clamp(self.low, self.high)


#: SLAYER's 8-bit weights with the default neuron scale 1 << 6: step 1/32 in [-4, 3.96875].
SLAYER_8BIT = Quantization()


def calculate_fan_in(tensor: torch.Tensor) -> int:
    """Inputs per output neuron: ``shape[1] * prod(shape[2:])`` (groups already in ``shape[1]``)."""
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
    """Outputs per input neuron, torch's convention: ``shape[0] * prod(shape[2:])``."""
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


class _QuantizedMoment:
    """``mean(q(s * sample)^2)`` as a function of the scale ``s``, in O(levels * log n).

    The sample's positive and negative parts are sorted once; for each grid level the number
    of draws that round to it comes from a binary search of the level's lower edge.
    """

    def __init__(self, sample: torch.Tensor, quantization: Quantization):
        values = sample.flatten().numpy()
        self.size = values.size
        self.step = quantization.step
        self.parts = []
        for part, limit in ((values[values > 0], quantization.high),
                            (-values[values < 0], -quantization.low)):
            levels = np.arange(1, int(round(limit / self.step)) + 1)
            self.parts.append((np.sort(part), levels))

    def __call__(self, scale: float) -> float:
        total = 0.0
        for part, levels in self.parts:
            at_or_above = part.size - np.searchsorted(part, (levels - 0.5) * self.step / scale)
            counts = at_or_above - np.append(at_or_above[1:], 0)
            total += float(np.sum((levels * self.step) ** 2 * counts))
        return total / self.size


def _scale_for_quantized_variance(
    sample: torch.Tensor, variance: float, quantization: Quantization
) -> float:
    """Scale ``s`` with mean(q(s * sample)^2) closest to ``variance`` (bisection on s)."""
    moment = _QuantizedMoment(sample, quantization)
    low, high = 0.0, math.sqrt(variance) * 4.0 + quantization.step
    while moment(high) < variance:
        if high > 1e3 * (quantization.high - quantization.low):
            return high
        high *= 2.0
    for _ in range(60):
        middle = 0.5 * (low + high)
        if moment(middle) < variance:
            low = middle
        else:
            high = middle
    return low if abs(moment(low) - variance) < abs(moment(high) - variance) else high


@torch.no_grad()
def fill_with_variance_(
    tensor: torch.Tensor,
    variance: float,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` with zero-mean weights of the given variance (of the quantized weights).

    Normal: N(0, variance). Uniform: U(+-sqrt(3 * variance)). With ``quantization`` the weights
    land on its grid and the scale is solved on this very sample so that
    ``mean(q(w)^2) = variance`` as closely as the grid allows.
    """
    if not math.isfinite(variance) or variance < 0:
        raise ValueError(f"weight variance must be finite and >= 0 (got {variance!r})")
    sample = _standard_sample(tensor, distribution, generator)
    if quantization is None:
        values = sample * math.sqrt(variance)
    else:
        scale = _scale_for_quantized_variance(sample, variance, quantization)
        values = quantization.apply(sample * scale)
    tensor.copy_(values.to(tensor.dtype))
    return tensor


def variance_conserving_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    """Micheli et al.'s rule: ``Var[w] = sigma^2 / (fan_in * P(u > threshold))``.

    ``P(u > threshold) = 0.5 * erfc(threshold / (sigma * sqrt(2)))`` keeps the membrane
    potential at ``Var[u] = sigma^2`` in every layer of a network of threshold neurons.
    ``threshold`` and ``sigma`` are in weight units (SLAYER's floating-point units).
    """
    variance = theory.weight_variance(fan_in or calculate_fan_in(tensor), threshold, sigma)
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)


def kaiming_normal_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    """Kaiming/He (ReLU): ``Var[w] = 2 / fan_in``; ``threshold`` and ``sigma`` are ignored."""
    variance = theory.kaiming_variance(fan_in or calculate_fan_in(tensor))
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)


def xavier_normal_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    """Xavier/Glorot: ``Var[w] = 2 / (fan_in + fan_out)``; ``threshold``/``sigma`` are ignored."""
    variance = theory.xavier_variance(fan_in or calculate_fan_in(tensor), calculate_fan_out(tensor))
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)


def slayer_default_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "uniform",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    """SLAYER's (torch's Conv3d) default: ``kaiming_uniform_(a=sqrt(5))`` = U(+-1/sqrt(fan_in)).

    ``Var[w] = 1 / (3 * fan_in)``; ``threshold`` and ``sigma`` are ignored.
    """
    variance = theory.slayer_default_variance(fan_in or calculate_fan_in(tensor))
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)


Initializer = Callable[..., torch.Tensor]
#: ``variance(fan_in, fan_out, threshold, sigma)``: the target Var[w] of a method.
VarianceRule = Callable[[int, int, float, float], float]


@dataclass(frozen=True)
class InitMethod:
    """A registered initializer; ``quantization_aware`` methods get SLAYER's grid by default.

    ``uses_dynamics`` methods also take the block's ``current_decay`` and ``voltage_decay``
    (and the extra options of :func:`lava_init.initialize`) as keywords.
    """

    name: str
    fn: Initializer
    quantization_aware: bool
    uses_threshold: bool
    variance: VarianceRule | None
    uses_dynamics: bool = False


#: Initializers by name: the names accepted by ``lava_init.initialize`` and the experiments.
INITIALIZERS: dict[str, InitMethod] = {}


def register_initializer(
    name: str,
    fn: Initializer,
    *,
    variance: VarianceRule | None = None,
    quantization_aware: bool = False,
    uses_threshold: bool = False,
    uses_dynamics: bool = False,
) -> None:
    """Make ``fn`` (same signature as :func:`variance_conserving_`) available by ``name``.

    ``variance`` gives the method's closed-form Var[w] for reports and theory curves.
    """
    INITIALIZERS[name] = InitMethod(name, fn, quantization_aware, uses_threshold, variance,
                                    uses_dynamics)


def get_initializer(name: str) -> InitMethod:
    """The registered method ``name``; a clear error lists the valid names otherwise."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        valid = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown init method {name!r}; valid methods: {valid}") from None


register_initializer(
    "variance_conserving",
    variance_conserving_,
    variance=lambda fan_in, fan_out, threshold, sigma: theory.weight_variance(
        fan_in, threshold, sigma),
    quantization_aware=True,
    uses_threshold=True,
)
register_initializer(
    "kaiming", kaiming_normal_, variance=lambda fan_in, *_: theory.kaiming_variance(fan_in))
register_initializer(
    "xavier", xavier_normal_,
    variance=lambda fan_in, fan_out, *_: theory.xavier_variance(fan_in, fan_out))
register_initializer(
    "slayer_default", slayer_default_,
    variance=lambda fan_in, *_: theory.slayer_default_variance(fan_in))
