"""Closed forms of the variance-conserving initialization (pure functions, no torch state).

The network model is the paper's (Micheli et al., arXiv 2410.00580): layer ``l`` computes
``u_l = W_l x_l`` with binary inputs ``x_l = H(u_{l-1} - theta)``. With zero-mean weights,
``Var[u_l] = fan_in * Var[w] * E[x^2] = fan_in * Var[w] * P(u_{l-1} > theta)``, so keeping
``Var[u] = sigma^2`` at every layer needs ``Var[w] = sigma^2 / (fan_in * P(u > theta))``.

All quantities are in the neuron's own (floating-point, SLAYER) units.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from lava_init.checks import check_count, check_fan_in, check_sigma, check_threshold


def firing_probability(threshold: float, sigma: float = 1.0) -> float:
    """P(u > threshold) for u ~ N(0, sigma^2): ``0.5 * erfc(threshold / (sigma * sqrt(2)))``.

    Args:
        threshold: the neuron's threshold theta (>= 0, weight units).
        sigma: the membrane potential's standard deviation (> 0, same units).

    Returns:
        The probability that the neuron spikes in one step.

    Example:
        >>> round(firing_probability(1.0), 4), firing_probability(0.0)
        (0.1587, 0.5)
    """
    check_threshold(threshold)
    check_sigma(sigma)
    return 0.5 * math.erfc(threshold / (sigma * math.sqrt(2.0)))


#: Smallest P(u > theta) the rule accepts (theta/sigma up to 4.75): below it the weights it
#: asks for are absurd (std > 1000 sigma / sqrt(fan_in)) and the fixed point long unstable.
MIN_FIRING_PROBABILITY = 1e-6


def weight_variance(fan_in: int, threshold: float, sigma: float = 1.0) -> float:
    """The paper's variance-conserving rule: ``Var[w] = sigma^2 / (fan_in * P(u > threshold))``.

    Args:
        fan_in: inputs per neuron (>= 1).
        threshold: theta, as in :func:`firing_probability`.
        sigma: the target membrane std; ValueError when ``P(u > theta)`` falls below
            :data:`MIN_FIRING_PROBABILITY`.

    Returns:
        The weight variance ``Var[w]``.

    Example:
        >>> round(weight_variance(100, 1.0, 1.0), 5)
        0.06303
    """
    check_fan_in(fan_in)
    probability = firing_probability(threshold, sigma)
    if probability < MIN_FIRING_PROBABILITY:
        raise ValueError(
            f"theta/sigma = {threshold / sigma:.3g} leaves P(u > theta) = {probability:.3g}: "
            "the rule would ask for weights that never let a neuron spike at its fixed point; "
            f"use sigma >= theta / {CRITICAL_RATIO:.2f} (the stable range), e.g. sigma = theta")
    return sigma**2 / (fan_in * probability)


def kaiming_variance(fan_in: int) -> float:
    """Kaiming/He variance for ReLU networks: ``Var[w] = 2 / fan_in``.

    Args:
        fan_in: inputs per neuron.

    Returns:
        ``2 / fan_in``.

    Example:
        >>> kaiming_variance(100)
        0.02
    """
    check_fan_in(fan_in)
    return 2.0 / fan_in


def xavier_variance(fan_in: int, fan_out: int) -> float:
    """Xavier/Glorot variance: ``Var[w] = 2 / (fan_in + fan_out)``.

    Args:
        fan_in: inputs per output neuron (>= 1).
        fan_out: outputs per input neuron (>= 1).

    Returns:
        The Glorot variance.

    Example:
        >>> xavier_variance(100, 300)
        0.005
    """
    check_fan_in(fan_in)
    check_fan_in(fan_out, "fan_out")
    return 2.0 / (fan_in + fan_out)


def slayer_default_variance(fan_in: int) -> float:
    """Variance of torch's ``kaiming_uniform_(a=sqrt(5))``, U(+-1/sqrt(fan_in)): 1/(3 fan_in).

    This is what a SLAYER block holds before any initializer runs.

    Args:
        fan_in: the layer's inputs per neuron.

    Returns:
        ``1 / (3 fan_in)``.

    Example:
        >>> round(slayer_default_variance(100), 6)
        0.003333
    """
    check_fan_in(fan_in)
    return 1.0 / (3.0 * fan_in)


def variance_map(
    fan_in: int,
    weight_var: float | np.ndarray,
    threshold: float,
    depth: int,
    input_variance: float = 1.0,
) -> np.ndarray:
    """Predicted ``Var[u_l]`` for layers ``l = 0..depth`` of a Heaviside network.

    Recursion: ``Var[u_l] = fan_in * Var[w_l] * P(u_{l-1} > theta | Var[u_{l-1}])`` with
    ``Var[u_0] = input_variance``. A silent layer gives 0.

    Args:
        fan_in: inputs per neuron, the same in every layer.
        weight_var: one weight variance for every layer, or an array of ``depth`` values.
        threshold: theta (weight units).
        depth: the number of layers after the input (>= 0).
        input_variance: ``Var[u_0]``.

    Returns:
        An array of ``depth + 1`` variances.

    Example:
        >>> variance_map(100, weight_variance(100, 1.0), 1.0, 3)
        array([1., 1., 1., 1.])
        >>> variance_map(100, 0.001, 1.0, 2).round(4)  # too little drive: activity dies out
        array([1.    , 0.0159, 0.    ])
    """
    check_threshold(threshold)
    check_fan_in(fan_in)
    if depth < 0:
        raise ValueError(f"depth must be >= 0 (got {depth})")
    weight_vars = np.broadcast_to(np.asarray(weight_var, dtype=float), (depth,))
    variances = np.empty(depth + 1)
    variances[0] = input_variance
    for layer in range(1, depth + 1):
        previous = variances[layer - 1]
        p = firing_probability(threshold, math.sqrt(previous)) if previous > 0 else 0.0
        if previous > 0 and threshold == 0:
            p = 0.5
        variances[layer] = fan_in * weight_vars[layer - 1] * p
    return variances


def fixed_point_slope(threshold: float, sigma: float = 1.0) -> float:
    """Slope of the variance map at its fixed point ``Var[u] = sigma^2`` (variance-conserving init).

    ``r * phi(r) / (2 * P(u > theta))`` with ``r = theta / sigma``. Above 1 the fixed point is
    unstable: finite-width noise drives the variance away (activity dies out or saturates).

    Args:
        threshold: theta (weight units).
        sigma: the membrane std at the fixed point.

    Returns:
        The slope (dimensionless).

    Example:
        >>> round(fixed_point_slope(1.0, 1.0), 3)
        0.763
    """
    p = firing_probability(threshold, sigma)
    r = threshold / sigma
    phi = math.exp(-0.5 * r * r) / math.sqrt(2.0 * math.pi)
    return r * phi / (2.0 * p)


def _critical_ratio() -> float:
    return float(optimize.brentq(lambda r: fixed_point_slope(r, 1.0) - 1.0, 0.5, 3.0))


#: theta / sigma above which the variance-conserving fixed point is unstable (~1.19).
CRITICAL_RATIO = _critical_ratio()


def is_stable(threshold: float, sigma: float) -> bool:
    """True when the variance-conserving fixed point for ``(threshold, sigma)`` is stable.

    Args:
        threshold: theta.
        sigma: the target membrane std; stable while ``theta / sigma`` < :data:`CRITICAL_RATIO`.

    Returns:
        Whether :func:`fixed_point_slope` is below 1.

    Example:
        >>> is_stable(1.0, 1.0), is_stable(2.0, 1.0)
        (True, False)
    """
    return fixed_point_slope(threshold, sigma) < 1.0


#: ``max_r r^2 P(u > r)`` for u ~ N(0, 1), reached at r = CRITICAL_RATIO: the variance map
#: ``V -> c P(u > theta | V)`` has a fixed point only while ``c >= theta^2 / SADDLE_NODE_PEAK``.
SADDLE_NODE_PEAK = CRITICAL_RATIO**2 * 0.5 * math.erfc(CRITICAL_RATIO / math.sqrt(2.0))


def saddle_node_drive(threshold: float) -> float:
    """The smallest drive ``c = fan_in Var[w]`` at which the variance map has a fixed point.

    ``theta^2 / max_r r^2 P(u > r)``: below it every layer's variance shrinks and activity dies
    out at any width (a saddle-node bifurcation at ``r = theta / sigma = CRITICAL_RATIO``).

    Args:
        threshold: theta (> 0, weight units).

    Returns:
        The critical drive (weight units squared).

    Example:
        >>> round(saddle_node_drive(1.0), 3)
        6.034
    """
    return check_threshold(threshold, allow_zero=False) ** 2 / SADDLE_NODE_PEAK


def drive_margin(threshold: float, sigma: float) -> float:
    """The rule's drive for ``(threshold, sigma)`` over the saddle-node drive (>= 1).

    ``SADDLE_NODE_PEAK / (r^2 P(u > r))`` with ``r = theta / sigma``: 1 at the bifurcation,
    1.045 for the paper's ``sigma = theta``. Finite-width noise moves the rate of a deep
    layer at random; the margin is how far it can move before no fixed point catches it.

    Args:
        threshold: theta (> 0).
        sigma: the membrane std the rule targets.

    Returns:
        The ratio of the two drives.

    Example:
        >>> round(drive_margin(1.0, 1.0), 3)
        1.045
    """
    return weight_variance(1, threshold, sigma) / saddle_node_drive(threshold)


#: theta / sigma of the default operating point of memoryless neurons, chosen from the
#: finite-width study (benchmarks/operating_point.py): memoryless SLAYER stacks of width >= 64
#: keep the rate of layer 100 within [0.5, 2] of layer 1 there, on and off the weight grid.
DEFAULT_RATIO = 0.7
#: theta / sigma of the default for integrating neurons (decays < 1): the paper's
#: sigma = theta. Their integration over T steps sustains narrow stacks at it, and more drive
#: only saturates them (the same study with --decays: docs/robust_init.md).
INTEGRATING_RATIO = 1.0
#: Drive margin of the memoryless default; initialize warns below it (memoryless blocks).
DEFAULT_MARGIN = drive_margin(DEFAULT_RATIO, 1.0)
#: Spike rate of a memoryless layer at the default point, P(u > DEFAULT_RATIO): the smallest
#: rate a deep memoryless stack holds robustly (a lower one needs r beyond the default, toward
#: the saddle-node, where finite-width stacks fall silent).
SMALLEST_ROBUST_RATE = 0.5 * math.erfc(DEFAULT_RATIO / math.sqrt(2.0))


def default_sigma(threshold: float, memoryless: bool = True) -> float:
    """Membrane std chosen for a neuron with this threshold (weight units).

    Memoryless neurons: ``threshold / DEFAULT_RATIO``, a drive margin of
    :data:`DEFAULT_MARGIN` to the saddle-node. Integrating neurons (``memoryless=False``):
    ``threshold / INTEGRATING_RATIO``, the paper's ``sigma = theta``. A threshold of 0 keeps
    the paper's sigma = 1.

    Args:
        threshold: the neuron's threshold (>= 0).
        memoryless: True for neurons without memory (decays of 1), False for integrating ones.

    Returns:
        sigma, in the threshold's units.

    Example:
        >>> round(default_sigma(1.0) * DEFAULT_RATIO, 6), default_sigma(1.25, memoryless=False)
        (1.0, 1.25)
    """
    check_threshold(threshold)
    if threshold == 0:
        return 1.0
    return threshold / (DEFAULT_RATIO if memoryless else INTEGRATING_RATIO)


def surrogate_moment(threshold: float, sigma: float, tau: float) -> float:
    """``E[f'(u)^2]`` for SLAYER's surrogate ``f'(u) = exp(-|u - theta| / tau) / (2 tau)`` (unit
    scale) under ``u ~ N(0, sigma^2)``.

    With ``c = 2 / tau``: ``E[exp(-c |u - theta|)] = exp(c^2 sigma^2 / 2) [exp(c theta)
    Q(theta / sigma + c sigma) + exp(-c theta) Phi(theta / sigma - c sigma)]``, divided by
    ``(2 tau)^2``. Each exponential is combined with its Gaussian tail in log space.

    Args:
        threshold: theta, where the surrogate peaks.
        sigma: the membrane std.
        tau: the surrogate's width (> 0, weight units).

    Returns:
        The second moment of the surrogate derivative.

    Example:
        >>> round(surrogate_moment(1.0, 1.0, 1e3) * (2e3) ** 2, 2)  # tau >> sigma: f' flat
        1.0
    """
    check_threshold(threshold)
    check_sigma(sigma)
    if not math.isfinite(tau) or tau <= 0:
        raise ValueError(f"surrogate width tau must be a finite number > 0 (got {tau!r})")
    c = 2.0 / tau
    r = threshold / sigma
    above = c * threshold + 0.5 * (c * sigma) ** 2 + special.log_ndtr(-(r + c * sigma))
    below = -c * threshold + 0.5 * (c * sigma) ** 2 + special.log_ndtr(r - c * sigma)
    return float(np.exp(above) + np.exp(below)) / (2.0 * tau) ** 2


def backward_gain(drive: float, threshold: float, sigma: float, tau: float, scale: float,
                  fan_ratio: float = 1.0) -> float:
    """Factor by which a memoryless spiking layer multiplies the variance of the gradient it
    passes back: ``fan_ratio * drive * scale^2 * surrogate_moment``.

    Args:
        drive: ``fan_in Var[w]``.
        threshold: theta.
        sigma: the membrane std.
        tau: the surrogate's width.
        scale: the surrogate's amplitude.
        fan_ratio: ``fan_out / fan_in``.

    Returns:
        The gain (1: the gradient keeps its variance).

    Example:
        >>> round(backward_gain(6.3, 1.0, 1.0, 0.5, 1.0), 3)
        0.758
    """
    return fan_ratio * drive * scale**2 * surrogate_moment(threshold, sigma, tau)


def conserving_surrogate_scale(drive: float, threshold: float, sigma: float, tau: float,
                               fan_ratio: float = 1.0) -> float:
    """The surrogate amplitude whose :func:`backward_gain` is 1: the backpropagated gradient
    keeps its variance from layer to layer at initialization.

    Args:
        drive: ``fan_in Var[w]`` of the layer.
        threshold: theta.
        sigma: the membrane std.
        tau: the surrogate's width.
        fan_ratio: ``fan_out / fan_in``.

    Returns:
        The scale.

    Example:
        >>> scale = conserving_surrogate_scale(6.3, 1.0, 1.0, 0.5)
        >>> round(backward_gain(6.3, 1.0, 1.0, 0.5, scale), 6)
        1.0
    """
    return 1.0 / math.sqrt(fan_ratio * drive * surrogate_moment(threshold, sigma, tau))


#: Membrane noise of a relay block around each of its two modes, as a fraction of the block's
#: sigma (``relay_``), and the most :func:`relay_noise` chooses: a 100-layer relay stack at it
#: keeps its input's spikes (:func:`relay_flip_probability` ~2e-4 per neuron and layer at the
#: memoryless default) and the noise breaks the symmetry between neurons.
RELAY_NOISE = 0.2
#: Share of the backpropagated gradient's variance that :func:`relay_noise` keeps on the copy
#: path (the identity) through the whole relay stack; the rest is mixed by the noise weights.
RELAY_GRADIENT_SHARE = 0.5


def relay_weight(threshold: float) -> float:
    """The self-connection of a relay block, ``2 theta``: a relayed spike puts the membrane at
    ``2 theta`` and a relayed silence at 0, both ``theta`` from the threshold, so SLAYER's
    surrogate (symmetric in ``|v - theta|``) passes the same gradient through either.

    Args:
        threshold: theta (>= 0).

    Returns:
        ``2 * threshold``.

    Example:
        >>> relay_weight(1.25)
        2.5
    """
    return 2.0 * check_threshold(threshold)


def relay_flip_probability(threshold: float, noise_std: float) -> float:
    """Probability that one relay neuron does not copy its input in one step: its membrane
    noise (std ``noise_std``, weight units) crosses the distance ``theta`` to the threshold,
    ``P(n > theta)``, the same for a relayed spike and a relayed silence.

    Args:
        threshold: theta.
        noise_std: the std of the noise on the membrane.

    Returns:
        The flip probability per neuron and step.

    Example:
        >>> f"{relay_flip_probability(1.0, 0.2):.2g}"
        '2.9e-07'
    """
    return firing_probability(threshold, noise_std)


def relay_rate(rate: float, flip: float, depth: int) -> float:
    """Spike rate after ``depth`` relay layers that each flip a neuron with probability
    ``flip``: ``1/2 - (1/2 - rate) (1 - 2 flip)^depth`` (the rate drifts toward 1/2).

    Args:
        rate: the input's spike rate.
        flip: :func:`relay_flip_probability` of each layer.
        depth: how many relay layers.

    Returns:
        The rate after the stack.

    Example:
        >>> relay_rate(0.2, 0.0, 100), round(relay_rate(0.2, 0.5, 1), 6)
        (0.2, 0.5)
    """
    return 0.5 - (0.5 - rate) * (1.0 - 2.0 * flip) ** depth


def relay_noise(depth: int, threshold: float, sigma: float) -> float:
    """The relay noise (in units of sigma) for a stack of ``depth`` relay blocks.

    A relay block passes the gradient back through its copy weight ``a = 2 theta`` and its noise
    weights (``fan_in s^2 = noise^2 sigma^2 / P(u > theta)``, as in ``relay_``), so the copy
    path keeps the share ``(1 + fan_in s^2 / a^2)^-depth`` of the gradient's variance. The noise
    that keeps :data:`RELAY_GRADIENT_SHARE` of it,
    ``noise = a sqrt(P(u > theta) (share^(-1/depth) - 1)) / sigma``, at most
    :data:`RELAY_NOISE`: ~0.18 for 10 blocks, ~0.06 for 100 at the memoryless default.

    Args:
        depth: the number of relay blocks (>= 1).
        threshold: theta of the blocks.
        sigma: their membrane std.

    Returns:
        The noise, a fraction of sigma.

    Example:
        >>> [round(relay_noise(d, 1.25, 1.25 / DEFAULT_RATIO), 3) for d in (10, 30, 100)]
        [0.184, 0.105, 0.057]
    """
    check_count(depth, "depth")
    mixing = RELAY_GRADIENT_SHARE ** (-1.0 / depth) - 1.0
    noise = relay_weight(threshold) * math.sqrt(
        firing_probability(threshold, sigma) * mixing) / sigma
    return min(RELAY_NOISE, noise)
