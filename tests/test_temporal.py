"""The time-aware rule, its mean-field rate prediction and the fluctuation-driven baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from lava.lib.dl import slayer

import lava_init
from lava_init import temporal, theory
from lava_init.initializers import fill_with_variance_, fluctuation_driven_
from lava_init.quantization import SLAYER_8BIT
from lava_init.training.config import MEMORYLESS, BlockSettings, NeuronConfig
from lava_init.training.models import SlayerMLP

TUTORIAL = (0.25, 0.03)
FAST = (0.5, 0.2)


@pytest.mark.parametrize("threshold", [0.5, 1.25, 2.0])
@pytest.mark.parametrize("decays, time_steps", [((1.0, 1.0), 1), ((1.0, 1.0), 20),
                                                (TUTORIAL, 1)])
def test_reduces_to_the_papers_rule(threshold, decays, time_steps):
    """Decays 1 or T = 1: asking for the paper's rate gives the paper's weights."""
    sigma = theory.default_sigma(threshold)
    paper = theory.weight_variance(100, threshold, sigma)
    paper_rate = theory.firing_probability(threshold, sigma)
    with_rate = temporal.temporal_weight_variance(100, threshold, *decays, time_steps,
                                                  target_rate=paper_rate)
    assert with_rate == pytest.approx(paper, rel=1e-9)


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_integrating_neurons_over_many_steps_do_not_reduce_to_the_papers_rule():
    memoryless = temporal.temporal_weight_variance(100, 1.25, 1.0, 1.0, 20, target_rate=0.45)
    integrating = temporal.temporal_weight_variance(100, 1.25, *TUTORIAL, 20, target_rate=0.45)
    assert integrating < 0.5 * memoryless  # the membrane integrates: far less drive holds it


@pytest.mark.parametrize("decays, time_steps", [
    ((1.0, 1.0), 1), pytest.param(TUTORIAL, 20, marks=pytest.mark.integration)])  # seconds
def test_drive_grows_with_the_target_rate(decays, time_steps):
    targets = (0.25, 0.3, 0.4) if time_steps == 1 else (0.42, 0.46)  # each T = 20 point: 4 s
    drives = [temporal.temporal_drive_scale(1.25, *decays, time_steps, target_rate=rate)
              for rate in targets]
    assert drives == sorted(drives) and drives[0] < drives[-1]


def test_integrating_target_below_the_onset_rate_names_the_smallest_rate():
    with pytest.raises(ValueError, match=r"cannot hold a rate of 0.2: .* at least 0.4\d\d"):
        temporal.temporal_drive_scale(1.25, *TUTORIAL, 20, target_rate=0.2)


def test_memoryless_target_below_the_robust_range_names_the_smallest_rate():
    with pytest.raises(ValueError, match=r"cannot hold a rate of 0.02: below 0.242"):
        temporal.temporal_drive_scale(1.25, 1.0, 1.0, 3, target_rate=0.02)


def test_temporal_method_without_target_rate_is_the_papers_rule_for_memoryless_neurons():
    nets = [SlayerMLP(32, 10, depth=3, width=64,
                      settings=BlockSettings(neuron=MEMORYLESS)) for _ in range(2)]
    lava_init.initialize(nets[0], "variance_conserving", generator=torch.Generator().manual_seed(3))
    lava_init.initialize(nets[1], "temporal", generator=torch.Generator().manual_seed(3),
                         time_steps=5)
    for a, b in zip(nets[0].blocks, nets[1].blocks, strict=True):
        assert torch.equal(a.synapse.weight, b.synapse.weight)


@pytest.mark.integration
def test_time_aware_default_differs_from_the_paper_and_holds_its_rate_over_30_layers():
    """Integrating neurons over T = 20: weaker than the paper's weights (which integrate up to
    saturation), and a real 30-layer SLAYER stack stays within 2x of its rates."""
    neuron = NeuronConfig(current_decay=TUTORIAL[0], voltage_decay=TUTORIAL[1])
    paper = temporal.onset_drive_scale(1.25, 1.25)
    balanced = temporal.temporal_drive_scale(1.25, *TUTORIAL, 20)
    assert 0.3 * paper < balanced < 0.9 * paper
    assert temporal.temporal_drive_scale(1.25, *TUTORIAL, 1) == paper
    nets = [SlayerMLP(128, 128, depth=29, width=128,
                      settings=BlockSettings(neuron=neuron, delay_shift=False))
            for _ in range(2)]
    lava_init.initialize(nets[0], "variance_conserving", generator=torch.Generator().manual_seed(0))
    lava_init.initialize(nets[1], "temporal", generator=torch.Generator().manual_seed(0),
                         time_steps=20)
    weights = [net.blocks[5].synapse.weight for net in nets]
    assert weights[1].pow(2).mean() < 0.9 * weights[0].pow(2).mean()
    x = (torch.rand(8, 128, 20, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    paper_rates, rates = (lava_init.measure_activity(net, x).rates for net in nets)
    assert len(rates) == 30 and max(rates) / min(rates) <= 2.0
    assert sum(rates[10:]) < 0.9 * sum(paper_rates[10:])


def test_free_membrane_moments_match_random_weights():
    rng = np.random.default_rng(0)
    fan_in, neurons, steps, rate, weight_var = 400, 3000, 12, 0.2, 0.01
    weights = rng.normal(0.0, math.sqrt(weight_var), (neurons, fan_in))
    spikes = (rng.random((fan_in, steps)) < rate).astype(float)
    kernel = temporal.psp_kernel(*TUTORIAL, steps)
    drive = weights @ spikes
    voltage = np.stack([drive[:, : t + 1] @ kernel[: t + 1][::-1] for t in range(steps)], 1)
    moments = temporal.free_membrane_moments(fan_in, weight_var, rate, *TUTORIAL, steps)
    assert voltage.var(axis=0)[-1] == pytest.approx(moments.variance[-1], rel=0.15)
    gain = kernel.sum()
    assert moments.frozen_variance[-1] == pytest.approx(fan_in * weight_var * (rate * gain) ** 2)


def test_fixed_point_simulation_is_slayers_spike_for_spike():
    generator = torch.Generator().manual_seed(0)
    block = slayer.block.cuba.Dense(NeuronConfig().params(), 64, 64, delay_shift=False)
    weight = torch.empty_like(block.synapse.weight)
    fill_with_variance_(weight, 0.05, generator=generator, quantization=SLAYER_8BIT)
    block.synapse.weight.data.copy_(weight)
    x = (torch.rand(4, 64, 30, generator=generator) < 0.3).float()
    with torch.no_grad():
        spikes = block(x)
        drive = block.synapse(x)
    ours = temporal.simulate_cuba(drive.double().numpy(), 1.25, 0.25, 0.03)
    assert spikes.sum() > 50
    np.testing.assert_array_equal(ours, spikes.numpy())


@pytest.mark.parametrize("decays", [TUTORIAL, FAST, (1.0, 1.0)])
@pytest.mark.parametrize("threshold", [1.0, 1.25])
@pytest.mark.parametrize("input_rate", [0.1, 0.3])
def test_predicted_rate_matches_a_slayer_layer(decays, threshold, input_rate):
    width, steps = 512, 20
    generator = torch.Generator().manual_seed(1)
    neuron = NeuronConfig(threshold=threshold, current_decay=decays[0], voltage_decay=decays[1])
    block = slayer.block.cuba.Dense(neuron.params(), width, width, delay_shift=False)
    weight = torch.empty_like(block.synapse.weight)
    drive = temporal.onset_drive_scale(threshold)
    fill_with_variance_(weight, drive / width, generator=generator, quantization=SLAYER_8BIT)
    block.synapse.weight.data.copy_(weight)
    x = (torch.rand(16, width, steps, generator=generator) < input_rate).float()
    with torch.no_grad():
        measured = float(block(x).mean())
    predicted = temporal.predicted_rate(width, float(weight.pow(2).mean()), input_rate,
                                        threshold, *decays, steps)
    assert predicted.rate == pytest.approx(measured, rel=0.10)


@pytest.mark.parametrize("decays", [TUTORIAL, FAST])
@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_deep_temporal_network_keeps_its_rate(decays):
    neuron = NeuronConfig(current_decay=decays[0], voltage_decay=decays[1])
    net = SlayerMLP(128, 128, depth=29, width=128,
                    settings=BlockSettings(neuron=neuron, delay_shift=False))
    lava_init.initialize(net, "temporal", generator=torch.Generator().manual_seed(0),
                         time_steps=20)
    x = (torch.rand(8, 128, 20, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    rates = lava_init.measure_activity(net, x).rates
    assert len(rates) == 30 and min(rates) > 0
    assert 0.5 <= rates[-1] / rates[0] <= 2.0


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_target_rate_raises_the_drive():
    onset = temporal.temporal_drive_scale(1.25, *FAST, 10)
    raised = temporal.temporal_drive_scale(1.25, *FAST, 10, target_rate=0.45)
    assert raised > onset
    deep = temporal.deep_stack_response(raised, 1.25, *FAST, 10, 0.45)[-1]
    assert deep.rate >= 0.45


def test_kernel_integrals_match_the_kernel():
    integral, squared = temporal.kernel_integrals(*TUTORIAL)
    kernel = temporal.psp_kernel(*TUTORIAL, 5000)
    assert integral == pytest.approx(kernel.sum(), rel=1e-9)
    assert squared == pytest.approx((kernel**2).sum(), rel=1e-9)


def test_fluctuation_driven_worked_by_hand():
    # decays 1: h = [1], eps_bar = eps_hat = 1; sigma_U = theta / xi = 0.5
    mean, variance = temporal.fluctuation_driven_moments(100, 0.2, 1.0, 1.0, 1.0, xi=2.0)
    assert mean == 0.0 and variance == pytest.approx(0.25 / 20.0)
    # decays 0.5: h[k] = (k + 1) 0.5^k, eps_bar = 4, eps_hat = (1 + 1/4) / (3/4)^3 = 80/27
    assert temporal.kernel_integrals(0.5, 0.5) == pytest.approx((4.0, 80.0 / 27.0))
    mean, variance = temporal.fluctuation_driven_moments(50, 0.1, 1.25, 0.5, 0.5, xi=2.0,
                                                         membrane_mean=0.25)
    assert mean == pytest.approx(0.25 / (50 * 0.1 * 4.0))  # 0.0125
    assert variance == pytest.approx(0.25 * 27.0 / 400.0 - 0.0125**2)  # 0.01671875


def test_fluctuation_driven_initializer_draws_those_moments():
    weight = torch.empty(400, 500)
    fluctuation_driven_(weight, threshold=1.25, generator=torch.Generator().manual_seed(0),
                        current_decay=0.5, voltage_decay=0.5, rate=0.1, membrane_mean=0.75)
    mean = 0.75 / (500 * 0.1 * 4.0)
    variance = 0.25**2 / (500 * 0.1 * 80.0 / 27.0) - mean**2
    assert float(weight.mean()) == pytest.approx(mean, abs=4 * math.sqrt(variance / 2e5))
    assert float(weight.var()) == pytest.approx(variance, rel=0.02)


def test_fluctuation_driven_by_name_reads_the_block_decays():
    net = SlayerMLP(64, 10, depth=2, width=64)
    with pytest.warns(UserWarning, match="quantize to zero"):  # std 0.011 < step 1/32
        lava_init.initialize(net, "fluctuation_driven",
                             generator=torch.Generator().manual_seed(0), rate=0.2)
    _, squared = temporal.kernel_integrals(0.25, temporal.quantize_decay(0.03))
    expected = (1.25 / 2.0) ** 2 / (64 * 0.2 * squared)
    assert float(net.blocks[1].synapse.weight.pow(2).mean()) == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("rate", [1.5, 1.0, 0.0, -0.2, float("nan")])
def test_impossible_target_rates_are_clear_errors(rate):
    with pytest.raises(ValueError, match="target rate must be in \\(0, 1\\)"):
        temporal.temporal_weight_variance(100, 1.25, *TUTORIAL, 20, target_rate=rate)


def test_options_for_a_method_without_dynamics_are_an_error():
    net = SlayerMLP(8, 2, depth=1, width=8)
    with pytest.raises(ValueError, match="takes no options"):
        lava_init.initialize(net, "kaiming", time_steps=20)


def test_bad_decay_is_a_clear_error():
    with pytest.raises(ValueError, match="current_decay must be in"):
        temporal.psp_kernel(1.5, 0.03, 10)


def test_unknown_option_of_a_time_aware_method_is_an_error():
    net = SlayerMLP(8, 2, depth=1, width=8)
    with pytest.raises(ValueError, match="has no option time_steps; its options are: rate"):
        lava_init.initialize(net, "fluctuation_driven", time_steps=20)


@pytest.mark.parametrize("target", [0.25, 0.3, 0.4])
@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_memoryless_stack_reaches_the_target_rate_within_20_percent(target):
    """Width 128, 60 memoryless blocks initialized with ``temporal`` at a target rate."""
    generator = torch.Generator().manual_seed(0)
    spikes = (torch.rand(64, 128, 3, generator=generator) < target).float()
    rates = []
    for _ in range(60):
        block = slayer.block.cuba.Dense({**MEMORYLESS.params(), "threshold": 1.25}, 128, 128,
                                        delay_shift=False)
        lava_init.initialize(block, "temporal", time_steps=3, target_rate=target,
                             generator=generator)
        with torch.no_grad():
            spikes = block(spikes)
        rates.append(float(spikes.mean()))
    assert all(abs(rate / target - 1) <= 0.2 for rate in rates), rates[::10]


@pytest.mark.integration
def test_integrating_stack_reaches_the_target_rate_within_20_percent():
    """Width 128, 60 tutorial-decay blocks at T = 20, ``temporal`` at a target rate."""
    generator = torch.Generator().manual_seed(0)
    spikes = (torch.rand(16, 128, 20, generator=generator) < 0.45).float()
    rates = []
    for _ in range(60):
        block = slayer.block.cuba.Dense(NeuronConfig(current_decay=TUTORIAL[0],
                                                     voltage_decay=TUTORIAL[1]).params(),
                                        128, 128, delay_shift=False)
        lava_init.initialize(block, "temporal", time_steps=20, target_rate=0.45,
                             generator=generator)
        with torch.no_grad():
            spikes = block(spikes)
        rates.append(float(spikes.mean()))
    assert all(abs(rate / 0.45 - 1) <= 0.2 for rate in rates), rates[::10]
