"""NIR's continuous-time neurons on Loihi's fixed-point grids (numpy only).

NIR describes neurons by differential equations; lava-dl's CUBA neuron and Loihi 2 step them
with forward Euler at a time step ``dt``, current first, then voltage from the new current:

    I[t] = (1 - dt/tau_syn) I[t-1] + dt/tau_syn w_in x[t]                       (CubaLIF)
    v[t] = (1 - dt/tau_mem) v[t-1] + dt/tau_mem (r I[t] + v_leak);  spike if v[t] > theta

so one CUBA layer holds ``current_decay = dt/tau_syn`` (1 for LIF and IF: no synaptic state),
``voltage_decay = dt/tau_mem`` (0 for IF), a voltage ``gain`` per unit of synaptic input
(``w_in dt/tau_syn r dt/tau_mem``; LIF ``r dt/tau``; IF ``r dt``) folded into the weights and a
per-step ``bias`` (``v_leak dt/tau_mem``). Spikes are invariant when a layer's voltage is
multiplied by a positive ``voltage_scale``: weights, threshold and bias scale with it.

Where the values meet Loihi's grids: decays are integers in 1/4096 (:func:`decay_units`,
nearest by default; ``"floor"``, rounded down, as the NIR paper's Lava import), weights
even integers in 1/64 (SLAYER's 1/32 step, nearest, in ``[-4, 3.97]``), thresholds
``int(theta * 64)`` (lava-dl truncates), biases integers in 1/64 (nearest). Each rounding is
a :class:`Rounding` of a :class:`RoundingReport`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lava_init.quantization import DECAY_SCALE, SLAYER_8BIT
from lava_init.tables import format_table

#: Units of weights, thresholds and biases in Loihi's integers (NetX's mantissas): 64 = 1.0.
MANTISSA_SCALE = 64
#: Largest threshold and bias mantissa Loihi's 24-bit voltage holds.
MAX_MANTISSA = 1 << 17
#: Ways of putting a decay on the 1/4096 grid: ``nearest`` (SLAYER's own rounding of a decay,
#: the closest to NIR's) or ``floor`` (the NIR paper's Lava import, whose integers its Loihi 2
#: trace was recorded with).
DECAY_ROUNDING = ("nearest", "floor")
#: A value within this relative distance of a grid point is on it (float32 NIR files).
GRID_TOLERANCE = 1e-5


@dataclass(frozen=True)
class NeuronDynamics:
    """A NIR neuron at time step ``dt`` before rounding: ``current_decay`` and
    ``voltage_decay`` (fractions per step), ``gain`` (voltage per unit synaptic input),
    ``bias`` (voltage per step, one per neuron) and ``threshold``, in NIR's voltage units."""

    current_decay: float
    voltage_decay: float
    gain: float
    bias: np.ndarray
    threshold: float


@dataclass(frozen=True)
class Rounding:
    """One parameter put on Loihi's grid: ``node`` and ``parameter`` named as in the NIR
    graph, the ``wanted`` and ``stored`` values (the largest difference over its elements;
    NIR units, decays as fractions per step) and how many elements moved (``changed`` of
    ``count``)."""

    node: str
    parameter: str
    wanted: float
    stored: float
    changed: int
    count: int

    @property
    def error(self) -> float:
        return self.stored - self.wanted

    @property
    def relative_error(self) -> float:
        if not self.error:
            return 0.0
        return abs(self.error) / abs(self.wanted) if self.wanted else math.inf


@dataclass(frozen=True)
class RoundingReport:
    """Every parameter an import put on Loihi's grid; ``str()`` is a table. ``dt``: the time
    step; ``voltage_scales``: SLAYER volts per NIR volt, per spiking node."""

    dt: float
    roundings: tuple[Rounding, ...]
    voltage_scales: tuple[tuple[str, float], ...]

    @property
    def rounded(self) -> tuple[Rounding, ...]:
        """The parameters whose stored value differs from the wanted one."""
        return tuple(r for r in self.roundings if r.changed)

    def __str__(self) -> str:
        headers = ["node", "parameter", "wanted", "stored", "error", "relative", "changed"]
        rows = [[r.node, r.parameter, r.wanted, r.stored, r.error, r.relative_error,
                 f"{r.changed}/{r.count}"] for r in self.roundings]
        scales = ", ".join(f"{node} x{scale:g}" for node, scale in self.voltage_scales)
        return "\n".join([f"NIR -> Loihi grids at dt = {self.dt:g} s; voltage scale: {scales}",
                          format_table(headers, rows),
                          f"{len(self.rounded)} of {len(self.roundings)} parameters rounded"])


def on_grid(values) -> np.ndarray:
    """Where ``values`` (in grid units) lie on whole numbers, up to float32 storage.

    Args:
        values: numbers in units of the grid step (e.g. weights times 64).

    Returns:
        A bool array of ``values``' shape: True within :data:`GRID_TOLERANCE` (relative) of a
        whole number.

    Example:
        >>> on_grid([1.0, 1.5, 2.0000001]).tolist()
        [True, False, True]
    """
    values = np.asarray(values, dtype=np.float64)
    return np.abs(values - np.round(values)) <= GRID_TOLERANCE * np.maximum(1.0, np.abs(values))


def snap(values) -> np.ndarray:
    """``values`` with those on the grid (:func:`on_grid`) made whole, the rest untouched.

    Args:
        values: numbers in units of the grid step.

    Returns:
        A float64 array of ``values``' shape.

    Example:
        >>> snap([1.0000001, 1.5]).tolist()
        [1.0, 1.5]
    """
    values = np.asarray(values, dtype=np.float64)
    return np.where(on_grid(values), np.round(values), values)


def decay_units(decay: float, rounding: str = "nearest") -> int:
    """A decay (fraction per step, in [0, 1]) as Loihi's integer in 1/4096.

    Args:
        decay: the fraction of the state lost per step (``dt / tau``).
        rounding: one of :data:`DECAY_ROUNDING`: ``"nearest"`` or ``"floor"``.

    Returns:
        The decay's integer, ``decay * 4096`` rounded.

    Example:
        >>> decay_units(1e-4 / 0.0025), decay_units(1e-4 / 0.0025, "floor")
        (164, 163)
    """
    if rounding not in DECAY_ROUNDING:
        raise ValueError(f"decay rounding {rounding!r}; valid: {', '.join(DECAY_ROUNDING)}")
    units = snap(decay * DECAY_SCALE)
    return int(np.floor(units) if rounding == "floor" else np.round(units))


def weight_mantissas(weight: np.ndarray) -> np.ndarray:
    """Weights (SLAYER volts) as Loihi's 8-bit mantissas: even integers in [-256, 254]
    (SLAYER's ``quantize_8bit``: nearest multiple of 1/32, clamped).

    Args:
        weight: the weights in SLAYER volts (voltage gain and scale applied).

    Returns:
        An int64 array of ``weight``'s shape, in 1/64.

    Example:
        >>> weight_mantissas(np.array([0.16, -0.04, 9.0])).tolist()
        [10, -2, 254]
    """
    return np.rint(SLAYER_8BIT.apply(snap(weight * MANTISSA_SCALE) / MANTISSA_SCALE)
                   * MANTISSA_SCALE).astype(np.int64)


def threshold_mantissa(threshold: float) -> int:
    """A threshold (SLAYER volts) as lava-dl stores it, ``int(theta * 64)``.

    Args:
        threshold: the threshold in SLAYER volts.

    Returns:
        The mantissa, truncated toward zero (values on the grid made whole first).

    Example:
        >>> threshold_mantissa(0.4), threshold_mantissa(1.0)
        (25, 64)
    """
    return int(snap(threshold * MANTISSA_SCALE))


def bias_mantissas(bias: np.ndarray) -> np.ndarray:
    """Biases (SLAYER volts per step) as integers in 1/64, nearest.

    Args:
        bias: the biases in SLAYER volts per step.

    Returns:
        An int64 array of ``bias``' shape.

    Example:
        >>> bias_mantissas(np.array([0.5, -0.01])).tolist()
        [32, -1]
    """
    return np.rint(snap(np.asarray(bias) * MANTISSA_SCALE)).astype(np.int64)


def fits(dynamics: NeuronDynamics, weight: np.ndarray, scale: float) -> bool:
    """True when ``scale`` keeps the weights in 8 bits and threshold and biases in Loihi's
    range, with a threshold of at least one mantissa unit.

    Args:
        dynamics: the layer's neuron at ``dt``.
        weight: the synapse's weights in NIR units (before the gain).
        scale: SLAYER volts per NIR volt.

    Returns:
        Whether the layer fits Loihi's ranges at ``scale``.

    Example:
        >>> dynamics = NeuronDynamics(1.0, 0.04, 0.04, np.zeros(1), 0.1)
        >>> fits(dynamics, np.ones((1, 1)), 64.0), fits(dynamics, np.ones((1, 1)), 128.0)
        (True, False)
    """
    largest = float(np.abs(weight).max(initial=0.0)) * dynamics.gain * scale
    threshold = dynamics.threshold * scale * MANTISSA_SCALE
    bias = float(np.abs(dynamics.bias).max(initial=0.0)) * scale * MANTISSA_SCALE
    return largest <= SLAYER_8BIT.high and 1 <= threshold <= MAX_MANTISSA and bias <= MAX_MANTISSA


def exact_at(dynamics: NeuronDynamics, weight: np.ndarray, scale: float) -> bool:
    """True when nothing but the decays needs rounding at ``scale``.

    Args:
        dynamics: the layer's neuron at ``dt``.
        weight: the synapse's weights in NIR units (before the gain).
        scale: SLAYER volts per NIR volt.

    Returns:
        Whether the layer fits (:func:`fits`) with weights, threshold and biases on their grids.

    Example:
        >>> weight = np.ones((1, 1))
        >>> exact_at(NeuronDynamics(1.0, 0.5, 0.5, np.zeros(1), 1.0), weight, 1.0)  # w 0.5
        True
        >>> exact_at(NeuronDynamics(1.0, 0.04, 0.04, np.zeros(1), 0.1), weight, 1.0)  # w 0.04
        False
    """
    weights = np.asarray(weight) * dynamics.gain * scale * MANTISSA_SCALE
    return (fits(dynamics, weight, scale) and bool(on_grid(weights / 2).all())
            and bool(on_grid(dynamics.threshold * scale * MANTISSA_SCALE))
            and bool(on_grid(np.asarray(dynamics.bias) * scale * MANTISSA_SCALE).all()))


def voltage_scale(dynamics: NeuronDynamics, weight: np.ndarray) -> float:
    """The SLAYER volts per NIR volt of one layer: 1 when its parameters lie on Loihi's grid
    at 1 (a graph :func:`lava_init.nir.to_nir` wrote), else the largest power of two that
    keeps its weights in 8 bits and threshold and biases in range (the finest grid).

    Args:
        dynamics: the layer's neuron at ``dt``.
        weight: the synapse's weights in NIR units (before the gain).

    Returns:
        The scale; ValueError when no power of two fits.

    Example:
        >>> dynamics = NeuronDynamics(1.0, 0.04, 0.04, np.zeros(1), 0.1)
        >>> voltage_scale(dynamics, np.ones((1, 1)))
        64.0
    """
    if exact_at(dynamics, weight, 1.0):
        return 1.0
    for exponent in range(40, -41, -1):
        if fits(dynamics, weight, 2.0 ** exponent):
            return 2.0 ** exponent
    raise ValueError("no power-of-two voltage scale fits the layer's weights, threshold and "
                     "biases into Loihi's ranges together")


def rounding(node: str, parameter: str, wanted, stored) -> Rounding:
    """The :class:`Rounding` of ``wanted`` -> ``stored`` (arrays: the element that moved most).

    Args:
        node: the NIR node's name.
        parameter: the parameter's name as the report shows it.
        wanted: the value(s) NIR asks for.
        stored: the value(s) on Loihi's grid (broadcast to ``wanted``).

    Returns:
        The record: the worst element's wanted and stored values, and how many elements moved.

    Example:
        >>> moved = rounding("lif", "v_threshold", [1.0, 0.3], [1.0, 0.296875])
        >>> moved.wanted, moved.stored, moved.changed, moved.count, round(moved.relative_error, 4)
        (0.3, 0.296875, 1, 2, 0.0104)
    """
    wanted = np.atleast_1d(np.asarray(wanted, dtype=np.float64)).ravel()
    stored = np.broadcast_to(np.asarray(stored, dtype=np.float64).ravel(), wanted.shape)
    worst = int(np.argmax(np.abs(stored - wanted)))
    changed = int((~np.isclose(stored, wanted, rtol=GRID_TOLERANCE, atol=0)).sum())
    return Rounding(node, parameter, float(wanted[worst]), float(stored[worst]), changed,
                    int(wanted.size))
