"""Tensor initializers: fan-in, distributions, determinism and the 8-bit grid."""

import pytest
import torch
from lava.lib.dl import slayer

from lava_init import initializers, theory
from lava_init.quantization import SLAYER_8BIT, Quantization

SHAPES_AND_FAN_IN = [
    ((30, 20), 20),                        # Linear
    ((16, 8, 3, 3), 72),                   # Conv2d
    ((16, 2, 3, 3), 18),                   # Conv2d with groups=4 over 8 channels
    ((50, 100, 1, 1, 1), 100),             # SLAYER Dense
    ((64, 32, 3, 3, 1), 288),              # SLAYER Conv
]


@pytest.mark.parametrize("shape, fan_in", SHAPES_AND_FAN_IN)
def test_fan_in_of_supported_shapes(shape, fan_in):
    assert initializers.calculate_fan_in(torch.empty(shape)) == fan_in


def test_fan_in_matches_real_layers():
    conv = torch.nn.Conv2d(8, 16, 3, groups=4)
    assert initializers.calculate_fan_in(conv.weight) == 2 * 9
    dense = slayer.synapse.Dense(100, 50)
    assert initializers.calculate_fan_in(dense.weight) == 100
    conv3 = slayer.synapse.Conv(32, 64, 3, groups=2)
    assert initializers.calculate_fan_in(conv3.weight) == 16 * 9


@pytest.mark.parametrize("shape", [(5,), (3, 0), (4, 0, 3)])
def test_fan_in_errors(shape):
    with pytest.raises(ValueError, match="fan-in"):
        initializers.calculate_fan_in(torch.empty(shape))


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_variance_conserving_variance_for_both_distributions(distribution):
    weight = torch.empty(400, 500)
    generator = torch.Generator().manual_seed(1)
    initializers.variance_conserving_(weight, threshold=0.5, distribution=distribution,
                                      generator=generator)
    assert float(weight.var()) == pytest.approx(theory.weight_variance(500, 0.5), rel=0.02)
    if distribution == "uniform":
        bound = (3 * theory.weight_variance(500, 0.5)) ** 0.5
        assert float(weight.abs().max()) <= bound
    else:
        kurtosis = float((weight**4).mean() / weight.var() ** 2)
        assert kurtosis == pytest.approx(3.0, rel=0.05)


def test_unknown_distribution_is_a_clear_error():
    with pytest.raises(ValueError, match="distribution must be one of"):
        initializers.variance_conserving_(torch.empty(3, 3), distribution="cauchy")


@pytest.mark.parametrize("name", ["variance_conserving", "kaiming", "xavier", "slayer_default"])
def test_same_generator_seed_gives_the_same_weights(name):
    fill = initializers.get_initializer(name).draw
    a = fill(torch.empty(20, 30), threshold=1.0, generator=torch.Generator().manual_seed(7))
    b = fill(torch.empty(20, 30), threshold=1.0, generator=torch.Generator().manual_seed(7))
    c = fill(torch.empty(20, 30), threshold=1.0, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_baselines_have_their_textbook_variances():
    generator = torch.Generator().manual_seed(0)
    weight = torch.empty(300, 600)
    initializers.kaiming_normal_(weight, generator=generator)
    assert float(weight.var()) == pytest.approx(2 / 600, rel=0.02)
    initializers.xavier_normal_(weight, generator=generator)
    assert float(weight.var()) == pytest.approx(2 / 900, rel=0.02)
    initializers.slayer_default_(weight, generator=generator)
    assert float(weight.abs().max()) <= 600**-0.5
    assert float(weight.var()) == pytest.approx(1 / 1800, rel=0.02)


def test_slayer_default_matches_torch_default_conv3d_init():
    reference = slayer.synapse.Dense(256, 128).weight.detach()
    ours = initializers.slayer_default_(torch.empty_like(reference))
    assert float(ours.var()) == pytest.approx(float(reference.var()), rel=0.05)


def test_quantization_matches_slayer_quantize_8bit():
    neuron = slayer.neuron.cuba.Neuron(threshold=1.0, current_decay=0.25, voltage_decay=0.03)
    weight = torch.linspace(-5, 5, 2001)
    assert torch.equal(SLAYER_8BIT.apply(weight), neuron.quantize_8bit(weight))
    assert Quantization.from_w_scale(neuron.w_scale) == SLAYER_8BIT


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid methods: .*variance_conserving"):
        initializers.get_initializer("lecun")


def test_unrepresentable_requests_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"theta/sigma = 10 leaves P\(u > theta\) = 7.62e-24"):
        initializers.variance_conserving_(torch.empty(4, 4), threshold=10.0)
    with pytest.raises(ValueError, match=r"theta/sigma = 40 leaves"):  # was ZeroDivisionError
        initializers.variance_conserving_(torch.empty(4, 4), threshold=40.0)
    with pytest.raises(ValueError, match=r"does not fit the weight grid.*clipped at \+-3.96875"):
        initializers.variance_conserving_(torch.empty(4, 4), threshold=2.0, sigma=2.0,
                                          quantization=SLAYER_8BIT, fan_in=1)
    with pytest.raises(ValueError, match=r"floating-point tensor \(got torch.int64\)"):
        initializers.variance_conserving_(torch.empty(4, 4, dtype=torch.int64))
