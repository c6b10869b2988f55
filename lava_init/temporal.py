"""Membrane statistics of SLAYER/Loihi CUBA neurons over T time steps (pure numpy, no torch).

The paper's rule (:mod:`lava_init.theory`) treats one step of a memoryless neuron. A CUBA
neuron filters its synaptic input ``I[t] = sum_j w_j x_j[t]`` twice and resets::

    c[t] = (1 - a) c[t-1] + I[t]          (current, decay a, never reset)
    v[t] = (1 - b) v[t-1] + c[t]          (voltage, decay b)
    spike when v[t] > theta, then v[t] = 0   (hard reset, Loihi's order)

Without reset ``v[t] = sum_k h[k] I[t-k]`` with the PSP kernel
``h[k] = sum_{m<=k} (1-a)^m (1-b)^(k-m)``. For presynaptic trains ``x_j`` and weights drawn
independently with mean ``m`` and variance ``s^2``, the drive of a neuron is Gaussian across
neurons (central limit over the fan-in ``N``) with

    E[I[t]] = N m E_j[x_j[t]],   Cov[I[t], I[t']] = N s^2 E_j[x_j[t] x_j[t']].

For Bernoulli inputs of rate ``p`` the second moment ``p^2 + p(1-p) delta(t, t')`` splits the
free voltage into a frozen offset ``N s^2 p^2 H_t^2`` (``H_t = sum_{k<=t} h[k]``, the DC gain
so far: the same weights see the mean rate at every step) and a fluctuating part
``N s^2 p(1-p) E_t`` (``E_t = sum_{k<=t} h[k]^2``, the filter energy). The reset bounds v from
above, so the spike rate has no closed form; :func:`layer_response` evaluates it on Gaussian
drive paths with SLAYER's own fixed-point arithmetic (decays in 1/4096 steps, states in
1/4096 units, shifts rounding toward zero). Every window starts from rest, so its first
step is the paper's memoryless network: :func:`temporal_drive_scale` keeps that onset step
at the paper's stable fixed point (otherwise each layer starts later than the one before and
activity slides out of the window with depth) and raises the drive ``N Var[w]`` when a
requested rate over the T steps needs more. With T = 1 or decays 1 it is the paper's rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special

from lava_init import theory
from lava_init.checks import check_count, check_decay, check_fan_in, check_rate
from lava_init.quantization import DECAY_SCALE, STATE_SCALE, quantize_decay

#: Largest |current| Lava's fixed-point CUBA holds before its 24-bit register wraps (SLAYER units).
LAVA_CURRENT_LIMIT = 2**23 / STATE_SCALE
#: Gaussian drive paths used by the mean-field evaluation (fixed seed: results are reproducible).
DEFAULT_SAMPLES = 4096
#: Layers of the mean-field stack iterated to reach the deep-layer spike statistics.
DEFAULT_LAYERS = 30
#: The balanced drive is searched from the onset drive down to this factor below it.
BALANCE_SEARCH_RANGE = 20.0


def psp_kernel(current_decay: float, voltage_decay: float, time_steps: int) -> np.ndarray:
    """Voltage response ``h[k]``, ``k < time_steps``, to one unit input spike at step 0.

    ``h[k] = sum_{m=0..k} (1 - a)^m (1 - b)^(k - m)``; decays 1 give ``h = [1, 0, 0, ...]``.

    Args:
        current_decay: ``a``, the current's fraction lost per step, in [0, 1].
        voltage_decay: ``b``, the voltage's, in [0, 1].
        time_steps: the kernel's length.

    Returns:
        The kernel, an array of ``time_steps`` floats.

    Example:
        >>> psp_kernel(0.5, 0.5, 4)
        array([1.  , 1.  , 0.75, 0.5 ])
    """
    check_decay(current_decay, "current_decay")
    check_decay(voltage_decay, "voltage_decay")
    check_count(time_steps, "time_steps")
    current = (1.0 - current_decay) ** np.arange(time_steps)
    kernel = np.zeros(time_steps)
    voltage = 0.0
    for step in range(time_steps):
        voltage = (1.0 - voltage_decay) * voltage + current[step]
        kernel[step] = voltage
    return kernel


def kernel_integrals(current_decay: float, voltage_decay: float) -> tuple[float, float]:
    """Stationary integral and squared integral of the PSP kernel, ``(sum h, sum h^2)``.

    With ``alpha = 1 - a``, ``beta = 1 - b``: ``sum h = 1 / (a b)`` and, for alpha != beta,
    ``sum h^2 = [alpha^2/(1-alpha^2) - 2 alpha beta/(1-alpha beta) + beta^2/(1-beta^2)]
    / (alpha - beta)^2``; for alpha = beta, ``sum (k+1)^2 x^k = (1+x)/(1-x)^3`` with x = alpha^2.

    Args:
        current_decay: ``a`` in (0, 1] (0 never forgets: the sums diverge).
        voltage_decay: ``b`` in (0, 1].

    Returns:
        ``(sum h, sum h^2)`` over the infinite kernel.

    Example:
        >>> kernel_integrals(0.5, 0.25)[0], round(kernel_integrals(0.5, 0.5)[1], 4)
        (8.0, 2.963)
    """
    check_decay(current_decay, "current_decay", allow_zero=False)
    check_decay(voltage_decay, "voltage_decay", allow_zero=False)
    alpha, beta = 1.0 - current_decay, 1.0 - voltage_decay
    integral = 1.0 / (current_decay * voltage_decay)
    if math.isclose(alpha, beta, rel_tol=0.0, abs_tol=1e-12):
        x = alpha * alpha
        return integral, (1.0 + x) / (1.0 - x) ** 3
    squared = (alpha**2 / (1.0 - alpha**2) - 2.0 * alpha * beta / (1.0 - alpha * beta)
               + beta**2 / (1.0 - beta**2)) / (alpha - beta) ** 2
    return integral, squared


@dataclass(frozen=True)
class MembraneMoments:
    """Free (reset-less) voltage statistics across neurons at each step ``t = 0..T-1``.

    ``mean``: common mean (weight mean ``m``); ``frozen_variance``: per-neuron offset that
    the same weights give at every step; ``fluctuating_variance``: step-to-step part.
    """

    mean: np.ndarray
    frozen_variance: np.ndarray
    fluctuating_variance: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        return self.frozen_variance + self.fluctuating_variance


def free_membrane_moments(
    fan_in: int,
    weight_variance: float,
    rate: float,
    current_decay: float,
    voltage_decay: float,
    time_steps: int,
    weight_mean: float = 0.0,
) -> MembraneMoments:
    """Closed-form free-voltage moments for Bernoulli(rate) inputs (weight units).

    ``mean = N m p H_t``, ``frozen = N s^2 p^2 H_t^2``, ``fluctuating = N s^2 p (1-p) E_t``
    with ``H_t = sum_{k<=t} h[k]`` and ``E_t = sum_{k<=t} h[k]^2``.

    Args:
        fan_in: ``N``.
        weight_variance: ``s^2``.
        rate: ``p``, the input rate, in (0, 1).
        current_decay: as in :func:`psp_kernel`.
        voltage_decay: as in :func:`psp_kernel`.
        time_steps: T.
        weight_mean: ``m``.

    Returns:
        A :class:`MembraneMoments` with one value per step.

    Example:
        >>> free_membrane_moments(100, 0.01, 0.5, 1.0, 1.0, 2).variance
        array([0.5, 0.5])
    """
    check_rate(rate, "input rate")
    kernel = psp_kernel(current_decay, voltage_decay, time_steps)
    gain, energy = np.cumsum(kernel), np.cumsum(kernel**2)
    return MembraneMoments(
        mean=fan_in * weight_mean * rate * gain,
        frozen_variance=fan_in * weight_variance * rate**2 * gain**2,
        fluctuating_variance=fan_in * weight_variance * rate * (1.0 - rate) * energy,
    )


def bernoulli_second_moment(rate: float, time_steps: int) -> np.ndarray:
    """``E[x[t] x[t']]`` of independent Bernoulli(rate) spikes: ``p^2 + p (1 - p) delta``.

    Args:
        rate: ``p`` in (0, 1).
        time_steps: T, the size of the matrix.

    Returns:
        A T x T matrix.

    Example:
        >>> bernoulli_second_moment(0.5, 2)
        array([[0.5 , 0.25],
               [0.25, 0.5 ]])
    """
    check_rate(rate, "input rate")
    check_count(time_steps, "time_steps")
    return np.full((time_steps, time_steps), rate**2) + np.eye(time_steps) * rate * (1 - rate)


def _to_state(values: np.ndarray) -> np.ndarray:
    return np.trunc(values * STATE_SCALE).astype(np.int64)


def _decay_state(state: np.ndarray, decay: float) -> np.ndarray:
    """``state * (1 - decay)`` with SLAYER's integer decay and right shift rounding to zero."""
    kept = DECAY_SCALE - round(decay * DECAY_SCALE)
    return np.sign(state) * ((np.abs(state) * kept) >> 12)


def simulate_cuba(
    drive: np.ndarray, threshold: float, current_decay: float, voltage_decay: float
) -> np.ndarray:
    """Spikes (0/1, same shape) of CUBA neurons given their synaptic input ``drive[..., t]``.

    Fixed-point arithmetic as SLAYER's ``leaky_integrator`` on CPU: states in 1/4096 units,
    spike when ``v > threshold``, hard reset of v, current kept.

    Args:
        drive: synaptic input, time last (weight units).
        threshold: theta.
        current_decay: the current's decay in [0, 1].
        voltage_decay: the voltage's decay in [0, 1].

    Returns:
        Float spikes of ``drive``'s shape.

    Example:
        >>> drive = np.array([[0.5, 0.6, 2.0]])
        >>> simulate_cuba(drive, 1.0, 0.5, 0.5), simulate_cuba(drive, 1.0, 1.0, 1.0)
        (array([[0., 1., 1.]]), array([[0., 0., 1.]]))
    """
    check_decay(current_decay, "current_decay")
    check_decay(voltage_decay, "voltage_decay")
    limit = round(threshold * STATE_SCALE)
    inputs = _to_state(drive)
    current = np.zeros(drive.shape[:-1], dtype=np.int64)
    voltage = np.zeros_like(current)
    spikes = np.zeros(drive.shape, dtype=np.float64)
    for step in range(drive.shape[-1]):
        current = _decay_state(current, current_decay) + inputs[..., step]
        voltage = _decay_state(voltage, voltage_decay) + current
        fired = voltage > limit
        spikes[..., step] = fired
        voltage = np.where(fired, 0, voltage)
    return spikes


@dataclass(frozen=True)
class LayerResponse:
    """Mean-field output of one layer: spikes of ``samples`` model neurons over T steps."""

    spikes: np.ndarray

    @property
    def rate(self) -> float:
        """Spikes per neuron per step."""
        return float(self.spikes.mean())

    @property
    def active_fraction(self) -> float:
        """Fraction of neurons with at least one spike in the T steps."""
        return float((self.spikes.sum(axis=-1) > 0).mean())

    @property
    def second_moment(self) -> np.ndarray:
        """``E[x[t] x[t']]`` of the output spikes: the next layer's input statistics."""
        return self.spikes.T @ self.spikes / self.spikes.shape[0]


@lru_cache(maxsize=16)
def _standard_normals(samples: int, steps: int, seed: int) -> np.ndarray:
    """The (samples, steps) standard normals of ``seed`` (read-only): every layer of a
    mean-field stack draws the same ones, so they are drawn once."""
    normals = np.random.default_rng(seed).standard_normal((samples, steps))
    normals.flags.writeable = False
    return normals


def _gaussian_paths(second_moment: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """``samples`` standard paths with covariance ``second_moment`` (Cholesky with jitter)."""
    steps = second_moment.shape[0]
    jitter = 1e-12 * max(float(np.trace(second_moment)) / steps, 1e-12)
    factor = np.linalg.cholesky(second_moment + jitter * np.eye(steps))
    return _standard_normals(samples, steps, seed) @ factor.T


def layer_response(
    second_moment: np.ndarray,
    drive_scale: float,
    threshold: float,
    current_decay: float,
    voltage_decay: float,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> LayerResponse:
    """Spikes of a layer whose inputs have second moment ``E[x x^T]`` (T x T), zero-mean weights.

    The drive is Gaussian with covariance ``drive_scale * second_moment``.

    Args:
        second_moment: the input spikes' ``E[x x^T]`` (T x T).
        drive_scale: ``N Var[w]`` (weight units squared, >= 0).
        threshold: theta.
        current_decay: as in :func:`simulate_cuba`.
        voltage_decay: as in :func:`simulate_cuba`.
        samples: model neurons (drive paths).
        seed: the paths' seed; the result is deterministic for a given seed.

    Returns:
        A :class:`LayerResponse`.

    Example:
        >>> moment = bernoulli_second_moment(0.2, 1)
        >>> layer_response(moment, 5.0, 1.0, 1.0, 1.0).rate  # about P(N(0, 1) > 1)
        0.157470703125
    """
    if not math.isfinite(drive_scale) or drive_scale < 0:
        raise ValueError(f"drive_scale = fan_in * Var[w] must be >= 0 (got {drive_scale!r})")
    paths = _gaussian_paths(second_moment, samples, seed)
    return LayerResponse(simulate_cuba(math.sqrt(drive_scale) * paths, threshold,
                                       current_decay, voltage_decay))


def predicted_rate(
    fan_in: int,
    weight_variance: float,
    input_rate: float,
    threshold: float,
    current_decay: float,
    voltage_decay: float,
    time_steps: int,
) -> LayerResponse:
    """Mean-field response of a CUBA layer to Bernoulli(input_rate) spikes over T steps.

    Args:
        fan_in: inputs per neuron.
        weight_variance: Var[w] of zero-mean weights.
        input_rate: the rate of the Bernoulli inputs.
        threshold: theta.
        current_decay: the current's decay.
        voltage_decay: the voltage's decay.
        time_steps: T.

    Returns:
        The :class:`LayerResponse` (its ``rate``, ``active_fraction``, ...).

    Example:
        >>> predicted_rate(100, 0.063, 0.1587, 1.0, 1.0, 1.0, 1).rate  # the paper's fixed point
        0.157470703125
    """
    moment = bernoulli_second_moment(input_rate, time_steps)
    return layer_response(moment, fan_in * weight_variance, threshold, current_decay,
                          voltage_decay)


def memoryless_drive_scale(threshold: float, target_rate: float, input_rate: float) -> float:
    """``N Var[w]`` giving ``P(u > theta) = target_rate`` for a memoryless neuron (decays 1).

    ``u ~ N(0, N Var[w] p_in)`` at every step (``E[x^2] = p_in`` for binary x), so
    ``N Var[w] = sigma^2 / p_in`` with ``sigma = theta / (sqrt(2) erfcinv(2 target_rate))``:
    the paper's rule when ``target_rate = input_rate = P(u > theta | sigma)``.

    Args:
        threshold: theta.
        target_rate: the layer's spike rate, in (0, 1).
        input_rate: the rate of its inputs, in (0, 1).

    Returns:
        The drive ``N Var[w]``.

    Example:
        >>> round(memoryless_drive_scale(1.0, 0.1587, 0.1587), 2)
        6.3
    """
    check_rate(target_rate, "target rate")
    check_rate(input_rate, "input rate")
    sigma = threshold / (math.sqrt(2.0) * float(special.erfcinv(2.0 * target_rate)))
    return sigma**2 / input_rate


def onset_drive_scale(threshold: float, sigma: float | None = None) -> float:
    """``N Var[w]`` of the paper's rule, ``sigma^2 / P(u > theta)``: the onset-step drive.

    Every T-step window starts from rest, so at its first step ``v = c = I`` and a deep stack is
    exactly the paper's memoryless network; below this drive's stable fixed point (theta/sigma
    beyond ~1.19) the first spikes of each layer come later than those of the layer before,
    and over many layers activity slides out of the window.

    Args:
        threshold: theta.
        sigma: the onset-step membrane std; None is ``default_sigma(threshold)`` (the memoryless
            default operating point).

    Returns:
        The drive (weight units squared).

    Example:
        >>> round(onset_drive_scale(1.0, sigma=1.0), 3)
        6.303
    """
    sigma = theory.default_sigma(threshold) if sigma is None else sigma
    return theory.weight_variance(1, threshold, sigma)


def deep_stack_response(
    drive_scale: float,
    threshold: float,
    current_decay: float,
    voltage_decay: float,
    time_steps: int,
    input_rate: float,
    layers: int = DEFAULT_LAYERS,
    samples: int = DEFAULT_SAMPLES,
) -> list[LayerResponse]:
    """Mean-field responses of ``layers`` identical CUBA layers fed Bernoulli(input_rate) spikes.

    Each layer's output second moment (heterogeneous, temporally correlated spikes) is the
    next layer's input; ``drive_scale = N Var[w]`` is the same in every layer. The stack stops
    early at the first silent layer.

    Args:
        drive_scale: ``N Var[w]`` of every layer.
        threshold: theta.
        current_decay: the current's decay.
        voltage_decay: the voltage's decay.
        time_steps: T.
        input_rate: the first layer's Bernoulli input rate.
        layers: depth of the stack.
        samples: model neurons per layer.

    Returns:
        One :class:`LayerResponse` per layer evaluated.

    Example:
        >>> stack = deep_stack_response(6.3, 1.0, 1.0, 1.0, 1, 0.1587, layers=3, samples=1000)
        >>> [round(layer.rate, 3) for layer in stack]
        [0.149, 0.141, 0.135]
    """
    moment = bernoulli_second_moment(input_rate, time_steps)
    responses = []
    for _ in range(layers):
        response = layer_response(moment, drive_scale, threshold, current_decay, voltage_decay,
                                  samples)
        responses.append(response)
        moment = response.second_moment
        if response.rate == 0.0:
            break
    return responses


def _memoryless_target_drive(threshold: float, target_rate: float) -> float:
    """``N Var[w]`` holding a memoryless stack at ``target_rate``, refused below the robust
    range (:data:`lava_init.theory.SMALLEST_ROBUST_RATE`)."""
    if target_rate < theory.SMALLEST_ROBUST_RATE * (1 - 1e-9):
        raise ValueError(
            f"a deep memoryless stack cannot hold a rate of {target_rate:.3g}: below "
            f"{theory.SMALLEST_ROBUST_RATE:.3f} (P(u > theta) at theta/sigma = "
            f"{theory.DEFAULT_RATIO}) the rule's operating point nears the saddle-node, where "
            "finite-width stacks fall silent; ask for a target_rate >= "
            f"{theory.SMALLEST_ROBUST_RATE:.3f} or set the readout's rate with calibrate")
    return memoryless_drive_scale(threshold, target_rate, target_rate)


def _integrating_target_drive(threshold: float, current_decay: float, voltage_decay: float,
                              time_steps: int, target_rate: float, onset: float) -> float:
    """The smallest ``N Var[w]`` from the onset drive up whose mean-field stack holds
    ``target_rate`` in its deep layers; targets below the onset drive's deep rate are refused
    (a deep CUBA stack is bistable: silence, or a rate set by integration)."""

    def deep_rate(log_scale: float) -> float:
        return deep_stack_response(math.exp(log_scale), threshold, current_decay, voltage_decay,
                                   time_steps, target_rate)[-1].rate

    low = math.log(onset)
    smallest = deep_rate(low)
    if target_rate < smallest * (1 - 1e-9):
        raise ValueError(
            f"a deep stack of these CUBA neurons (decays {current_decay}, {voltage_decay}, "
            f"T = {time_steps}) cannot hold a rate of {target_rate:.3g}: below the onset drive "
            f"it falls silent and from it on integration holds at least {smallest:.3f}; ask "
            f"for a target_rate >= {smallest:.3f} or set the readout's rate with calibrate")
    high = low
    while deep_rate(high) < target_rate:
        low, high = high, high + math.log(2.0)
        if high > math.log(onset * 1e4):
            raise ValueError(
                f"no weight scale keeps a rate of {target_rate:.3g} over {time_steps} steps "
                f"with threshold {threshold} and decays ({current_decay}, {voltage_decay}); "
                "lower the target rate")
    if high == low:
        return math.exp(high)
    # the deep rate is a noisy step function of the drive: brentq finds a crossing
    return math.exp(optimize.brentq(lambda x: deep_rate(x) - target_rate, low, high,
                                    xtol=1e-6, maxiter=20, disp=False))


def balanced_drive_scale(threshold: float, current_decay: float, voltage_decay: float,
                         time_steps: int, onset: float, input_rate: float,
                         layers: int = DEFAULT_LAYERS) -> float:
    """The drive (``N Var[w]``, at most ``onset``) under which a ``layers``-deep mean-field
    stack of these CUBA neurons ends at the rate its first layer fires, fed Bernoulli spikes
    at ``input_rate`` (the onset operating point's ``P(u > theta)``).

    Above it, each layer's membrane integrates more than the last one passes on and the rate
    climbs to the saturated fixed point (the paper's weights: ~0.41 at the tutorial decays,
    T = 20); below it, each layer fires later than the one before and activity slides out of
    the T-step window.

    Args:
        threshold: theta.
        current_decay: the current's decay.
        voltage_decay: the voltage's decay.
        time_steps: T.
        onset: :func:`onset_drive_scale`, the upper end of the search (returned when even the
            onset drive slides).
        input_rate: the Bernoulli input rate.
        layers: the stack's depth.

    Returns:
        The balanced drive.

    Example:
        >>> round(balanced_drive_scale(1.0, 0.25, 0.03, 5, 6.3, 0.1587, layers=3), 2)
        1.92
    """
    def excess(log_scale: float) -> float:
        stack = deep_stack_response(math.exp(log_scale), threshold, current_decay,
                                    voltage_decay, time_steps, input_rate, layers)
        return stack[-1].rate / stack[0].rate - 1.0 if len(stack) == layers else -1.0

    high = math.log(onset)
    if excess(high) <= 0.0:
        return onset
    low = high - math.log(BALANCE_SEARCH_RANGE)
    if excess(low) >= 0.0:
        return math.exp(low)
    return math.exp(optimize.brentq(excess, low, high, xtol=1e-3, maxiter=30, disp=False))


@lru_cache(maxsize=256)
def temporal_drive_scale(
    threshold: float,
    current_decay: float,
    voltage_decay: float,
    time_steps: int,
    target_rate: float | None = None,
    sigma: float | None = None,
    depth: int = DEFAULT_LAYERS,
) -> float:
    """``N Var[w]`` of the time-aware rule: the balanced drive, or the drive for a target rate.

    Without ``target_rate``: for decays 1 or T = 1 the onset drive
    (:func:`onset_drive_scale`, the paper's rule), which holds every step at the paper's
    stable fixed point; for integrating neurons over T steps the balanced drive
    (:func:`balanced_drive_scale`) for a stack of ``depth`` blocks, below the onset drive
    (whose integrating stack saturates at ~0.41 for the tutorial decays, T = 20), under which
    the stack's last layer keeps its first layer's rate (30 blocks: 0.63 x onset and rate
    0.26 there). With it (spikes per neuron per step over
    the T steps), the drive under which a deep stack holds that rate, growing with the target:
    for decays 1 or T = 1 the closed form :func:`memoryless_drive_scale` (refused below
    :data:`lava_init.theory.SMALLEST_ROBUST_RATE`, where no robust fixed point exists), else
    the smallest drive from the onset drive up whose mean-field stack
    (:func:`deep_stack_response`, input at the target rate) fires at least that much in its
    deep layers (refused below the onset drive's deep rate: lower drives fall silent).
    Results are cached.

    Args:
        threshold: theta.
        current_decay: the current's decay (taken as given: quantize it first).
        voltage_decay: the voltage's decay.
        time_steps: T.
        target_rate: spikes per neuron per step to hold, or None for the balanced drive.
        sigma: the onset-step membrane std (None: :func:`lava_init.theory.default_sigma`).
        depth: blocks in the stack the balanced drive is found for.

    Returns:
        The drive ``N Var[w]`` (weight units squared).

    Example:
        >>> round(temporal_drive_scale(1.0, 1.0, 1.0, 5), 3)  # memoryless: the onset drive
        8.434
        >>> round(temporal_drive_scale(1.0, 0.25, 0.03, 5, depth=3), 2)
        1.92
    """
    check_decay(current_decay, "current_decay")
    check_decay(voltage_decay, "voltage_decay")
    check_count(time_steps, "time_steps")
    memoryless = quantize_decay(current_decay) == 1.0 and quantize_decay(voltage_decay) == 1.0
    sigma = theory.default_sigma(threshold, memoryless) if sigma is None else sigma
    onset = onset_drive_scale(threshold, sigma)
    if target_rate is None:
        if memoryless or time_steps == 1:
            return onset
        check_count(depth, "depth")
        return balanced_drive_scale(threshold, current_decay, voltage_decay, time_steps, onset,
                                    theory.firing_probability(threshold, sigma), depth)
    check_rate(target_rate, "target rate")
    if memoryless or time_steps == 1:
        return _memoryless_target_drive(threshold, target_rate)
    return _integrating_target_drive(threshold, current_decay, voltage_decay, time_steps,
                                     target_rate, onset)


def temporal_weight_variance(fan_in: int, threshold: float, current_decay: float,
                             voltage_decay: float, time_steps: int,
                             target_rate: float | None = None,
                             sigma: float | None = None, depth: int = DEFAULT_LAYERS) -> float:
    """Var[w] of the time-aware rule: ``temporal_drive_scale(...) / fan_in`` (weight units^2).

    Decays are taken as SLAYER quantizes them (1/4096 steps).

    Args:
        fan_in: inputs per neuron.
        threshold: theta.
        current_decay: the current's decay.
        voltage_decay: the voltage's decay.
        time_steps: T.
        target_rate: as in :func:`temporal_drive_scale`.
        sigma: the onset-step membrane std (None: :func:`lava_init.theory.default_sigma` for
            the decays).
        depth: as in :func:`temporal_drive_scale`.

    Returns:
        The weight variance.

    Example:
        >>> round(temporal_weight_variance(100, 1.0, 1.0, 1.0, 5), 5)
        0.08434
    """
    check_fan_in(fan_in)
    drive = temporal_drive_scale(float(threshold), quantize_decay(current_decay),
                                 quantize_decay(voltage_decay), int(time_steps),
                                 None if target_rate is None else float(target_rate),
                                 None if sigma is None else float(sigma), int(depth))
    return drive / fan_in


def fluctuation_driven_moments(
    fan_in: int,
    rate: float,
    threshold: float,
    current_decay: float,
    voltage_decay: float,
    xi: float = 2.0,
    membrane_mean: float = 0.0,
) -> tuple[float, float]:
    """Rossbroich, Gygax & Zenke (2022) weights ``(mean, variance)`` for the discrete CUBA kernel.

    Targets ``sigma_U = (theta - mu_U) / xi`` with Campbell's theorem for the stationary
    membrane: ``mu_U = N nu m eps_bar``, ``sigma_U^2 = N nu (s^2 + m^2) eps_hat`` where
    ``eps_bar = sum h``, ``eps_hat = sum h^2`` (:func:`kernel_integrals`) and ``nu`` is the
    presynaptic rate per step. So ``m = mu_U / (N nu eps_bar)`` and
    ``s^2 = sigma_U^2 / (N nu eps_hat) - m^2``; ``membrane_mean = 0`` is the centred variant.

    Args:
        fan_in: ``N``.
        rate: ``nu``, in (0, 1).
        threshold: theta.
        current_decay: in (0, 1].
        voltage_decay: in (0, 1].
        xi: how many membrane stds the threshold lies above the mean (> 0).
        membrane_mean: ``mu_U``, below the threshold.

    Returns:
        The weights' ``(mean, variance)``.

    Example:
        >>> fluctuation_driven_moments(100, 0.1, 1.0, 0.5, 0.5)
        (0.0, 0.0084375)
    """
    check_fan_in(fan_in)
    check_rate(rate, "presynaptic rate nu")
    if not math.isfinite(xi) or xi <= 0:
        raise ValueError(f"xi must be > 0 (got {xi!r}); the paper uses xi ~ 2")
    if membrane_mean >= threshold:
        raise ValueError(
            f"membrane_mean {membrane_mean} must be below the threshold {threshold}; "
            "use 0 for the centred variant"
        )
    integral, squared = kernel_integrals(current_decay, voltage_decay)
    sigma_u = (threshold - membrane_mean) / xi
    mean = membrane_mean / (fan_in * rate * integral)
    variance = sigma_u**2 / (fan_in * rate * squared) - mean**2
    if variance < 0:
        raise ValueError(
            f"membrane_mean {membrane_mean} needs a weight mean whose square exceeds the "
            "target weight variance; lower membrane_mean or xi"
        )
    return mean, variance


def worst_case_current(fan_in: int, max_abs_weight: float, current_decay: float) -> float:
    """Largest |current| (SLAYER units) with every input spiking at every step: N w_max / a.

    Compare with :data:`LAVA_CURRENT_LIMIT` (2048 for the default scale): above it Lava's
    24-bit current register can wrap while SLAYER's does not.

    Args:
        fan_in: N.
        max_abs_weight: the largest |w|.
        current_decay: ``a``, in (0, 1] (0 is refused: the current would grow forever).

    Returns:
        The bound.

    Example:
        >>> worst_case_current(100, 4.0, 0.25) < LAVA_CURRENT_LIMIT
        True
    """
    check_decay(current_decay, "current_decay")
    return fan_in * max_abs_weight / current_decay
