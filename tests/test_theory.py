"""The closed forms of lava_init.theory against reference values and a Monte-Carlo network."""


import numpy as np
import pytest
import torch

from lava_init import initializers, theory

REFERENCE_GAIN = {0.25: 2.4919, 0.5: 3.2411, 1.0: 6.3030, 1.5: 14.968, 2.0: 43.956}


@pytest.mark.parametrize("threshold, gain", REFERENCE_GAIN.items())
def test_fan_in_times_weight_variance_matches_reference(threshold, gain):
    assert 1000 * theory.weight_variance(1000, threshold) == pytest.approx(gain, rel=1e-4)


def test_firing_probability_is_gaussian_tail():
    assert theory.firing_probability(0.0) == pytest.approx(0.5)
    assert theory.firing_probability(1.0) == pytest.approx(0.158655, rel=1e-5)
    assert theory.firing_probability(2.0, sigma=2.0) == pytest.approx(0.158655, rel=1e-5)


def test_baseline_variances():
    assert theory.kaiming_variance(100) == pytest.approx(0.02)
    assert theory.xavier_variance(100, 300) == pytest.approx(0.005)
    assert theory.slayer_default_variance(100) == pytest.approx(1 / 300)


def test_variance_map_keeps_the_fixed_point_and_kaiming_dies():
    for threshold in (0.25, 0.5, 1.0):
        kept = theory.variance_map(500, theory.weight_variance(500, threshold), threshold, 100)
        np.testing.assert_allclose(kept, 1.0, rtol=1e-9)
    kaiming = theory.variance_map(500, theory.kaiming_variance(500), 1.0, 100)
    assert kaiming[10] < 1e-3 and kaiming[0] == 1.0


def test_fixed_point_slope_and_critical_ratio():
    assert theory.CRITICAL_RATIO == pytest.approx(1.19, abs=0.01)
    assert theory.fixed_point_slope(theory.CRITICAL_RATIO) == pytest.approx(1.0)
    assert theory.is_stable(1.0, 1.0) and not theory.is_stable(1.25, 1.0)
    assert theory.is_stable(1.25, theory.default_sigma(1.25))
    for threshold, sigma in ((0.8, 1.0), (1.25, 1.25), (1.25, 1.0)):
        assert theory.fixed_point_slope(threshold, sigma) == pytest.approx(
            finite_difference_slope(threshold, sigma), rel=1e-4)


def finite_difference_slope(threshold: float, sigma: float, fan_in: int = 1000) -> float:
    """d Var[u_1] / d Var[u_0] of ``variance_map`` at its fixed point Var = sigma^2."""
    weight_var = theory.weight_variance(fan_in, threshold, sigma)
    step = 1e-5 * sigma**2

    def next_variance(variance: float) -> float:
        return float(theory.variance_map(fan_in, weight_var, threshold, 1, variance)[1])

    return (next_variance(sigma**2 + step) - next_variance(sigma**2 - step)) / (2 * step)


@pytest.mark.parametrize("call, message", [
    (lambda: theory.firing_probability(-1.0), r"threshold must be a finite number > 0 \(got -1"),
    (lambda: theory.firing_probability(float("nan")), r"threshold must be .*\(got nan\)"),
    (lambda: theory.firing_probability(1.0, sigma=0.0), r"sigma must be a finite number > 0"),
    (lambda: theory.weight_variance(0, 1.0), r"fan_in must be >= 1 \(got 0\)"),
    (lambda: theory.xavier_variance(10, 0), r"fan_out must be >= 1 \(got 0\)"),
    (lambda: theory.variance_map(10, 0.1, 1.0, -1), r"depth must be >= 0 \(got -1\)"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def heaviside_variances(method: str, threshold: float, depth=100, width=1000, batch=200, seed=0):
    """Var[u_l] of a Heaviside network u_l = W_l H(u_{l-1} - theta), u_0 ~ N(0, 1)."""
    generator = torch.Generator().manual_seed(seed)
    fill = initializers.get_initializer(method).draw
    u = torch.randn(batch, width, generator=generator)
    variances = [float(u.var())]
    weight = torch.empty(width, width)
    for _ in range(depth):
        fill(weight, threshold=threshold, sigma=1.0, generator=generator)
        u = (u > threshold).float() @ weight.T
        variances.append(float(u.var()))
    return np.array(variances)


@pytest.mark.parametrize("threshold", [0.25, 0.5, 1.0])
@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_monte_carlo_network_conserves_variance_over_100_layers(threshold):
    measured = heaviside_variances("variance_conserving", threshold)
    predicted = theory.variance_map(1000, theory.weight_variance(1000, threshold), threshold, 100)
    assert 0.8 <= measured[100] <= 1.25
    np.testing.assert_allclose(measured, predicted, rtol=0.25)


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_monte_carlo_kaiming_goes_silent_at_threshold_one():
    measured = heaviside_variances("kaiming", 1.0)
    assert measured[100] == 0.0
    predicted = theory.variance_map(1000, theory.kaiming_variance(1000), 1.0, 100)
    assert measured[1] == pytest.approx(predicted[1], rel=0.1)
