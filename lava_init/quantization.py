"""The fixed-point grids of SLAYER and Loihi (numpy only, no torch state).

SLAYER's ``neuron.quantize_8bit`` rounds weights to a step of ``2 / w_scale`` (1/32 for the
default scale 64) and clamps them to ``[-256, 254] / w_scale``; thresholds are stored as
``int(theta * 64) / 64``; decays as integers in units of 1/4096.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lava_init.checks import check_decay

#: SLAYER/Loihi decay resolution: decays are integers in units of 1/4096.
DECAY_SCALE = 4096
#: SLAYER's state resolution for the default neuron scale 64: states in units of 1/4096.
STATE_SCALE = 4096


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

    def apply(self, weight):
        """Round to the grid and clamp: ``clip(round(w / step) * step, low, high)``.

        Works on numpy arrays and torch tensors alike.

        >>> SLAYER_8BIT.apply(np.array([0.01, 0.02, 9.0])).tolist()
        [0.0, 0.03125, 3.96875]
        """
        return ((weight / self.step).round() * self.step).clip(self.low, self.high)


#: SLAYER's 8-bit weights with the default neuron scale 1 << 6: step 1/32 in [-4, 3.96875].
SLAYER_8BIT = Quantization()


def quantize_decay(decay: float) -> float:
    """The decay SLAYER and Loihi apply: ``round(decay * 4096) / 4096``.

    Args:
        decay: the fraction lost per step, in [0, 1].

    Returns:
        The decay on the 1/4096 grid.

    Example:
        >>> quantize_decay(0.03)
        0.030029296875
    """
    check_decay(decay)
    return round(decay * DECAY_SCALE) / DECAY_SCALE


class QuantizedMoment:
    """``mean(q(s * sample)^2)`` as a function of the scale ``s``, in O(levels * log n).

    The sample's positive and negative parts are sorted once; for each grid level the number
    of draws that round to it comes from a binary search of the level's lower edge.
    """

    def __init__(self, sample: np.ndarray, quantization: Quantization):
        values = np.asarray(sample, dtype=np.float64).ravel()
        self.size = values.size
        self.step = quantization.step
        self.parts = []
        for part, limit in ((values[values > 0], quantization.high),
                            (-values[values < 0], -quantization.low)):
            levels = np.arange(1, int(round(limit / self.step)) + 1)
            self.parts.append((np.sort(part), levels))

    def __call__(self, scale: float) -> float:
        if scale <= 0:
            return 0.0
        total = 0.0
        for part, levels in self.parts:
            at_or_above = part.size - np.searchsorted(part, (levels - 0.5) * self.step / scale)
            counts = at_or_above - np.append(at_or_above[1:], 0)
            total += float(np.sum((levels * self.step) ** 2 * counts))
        return total / self.size


def scale_for_quantized_variance(sample: np.ndarray, variance: float,
                                 quantization: Quantization) -> float:
    """Scale ``s`` with ``mean(q(s * sample)^2)`` closest to ``variance``.

    The moment is a non-decreasing step function of ``s``; scipy's ``brentq`` finds the
    step that crosses ``variance`` and the closer of its two sides is returned. When even
    the largest scale stays below (every weight clipped) that scale is returned.

    Args:
        sample: zero-mean, unit-variance draws (any shape).
        variance: the target second moment of the quantized weights (0 gives scale 0).
        quantization: the grid ``q`` rounds and clamps to.

    Returns:
        The scale ``s`` (>= 0).

    Example:
        >>> sample = np.random.default_rng(0).standard_normal(10_000)
        >>> scale = scale_for_quantized_variance(sample, 0.01, SLAYER_8BIT)
        >>> round(float(np.mean(SLAYER_8BIT.apply(scale * sample) ** 2)), 4)
        0.01
    """
    moment = QuantizedMoment(sample, quantization)
    high = math.sqrt(variance) * 4.0 + quantization.step
    while moment(high) < variance:
        if high > 1e3 * (quantization.high - quantization.low):
            return high
        high *= 2.0
    if variance <= 0:
        return 0.0
    tolerance = 1e-12 * high
    crossing = optimize.brentq(lambda s: moment(s) - variance, 0.0, high, xtol=tolerance)
    sides = (max(crossing - tolerance, 0.0), crossing + tolerance)
    return min(sides, key=lambda s: abs(moment(s) - variance))


def effective_threshold(threshold: float, lattice_step: float | None) -> float:
    """The threshold a Gaussian model of the membrane must use when the membrane is on a lattice.

    SLAYER and Loihi spike when ``v > theta`` (strictly). A membrane that only takes values
    ``k * step`` (a memoryless neuron's membrane is a sum of weights on the weight grid) spikes
    when ``v >= (floor(theta / step) + 1) * step``; the continuity correction puts the Gaussian
    model's threshold half a step below that: ``(floor(theta / step) + 0.5) * step``. A
    threshold on the grid acts as ``theta + step / 2``; one half-way between grid points is
    unchanged.

    Args:
        threshold: theta (weight units).
        lattice_step: the membrane's lattice step; None or <= 0 (a continuous membrane)
            returns ``theta``.

    Returns:
        The threshold for the Gaussian model.

    Example:
        >>> effective_threshold(1.0, 1 / 32), effective_threshold(1.265625, 1 / 32)
        (1.015625, 1.265625)
    """
    if lattice_step is None or lattice_step <= 0:
        return float(threshold)
    levels = math.floor(threshold / lattice_step + 1e-9)
    return (levels + 0.5) * lattice_step
