"""measure_activity on SLAYER networks with known behaviour, and the activity demo."""

import pytest
import torch

from lava_init import measure_activity
from lava_init.experiments.demo import activity_comparison, format_comparison
from lava_init.training.config import MEMORYLESS, BlockSettings
from lava_init.training.models import SlayerMLP


def constant_mlp(weight_value: float) -> SlayerMLP:
    net = SlayerMLP(4, 3, depth=2, width=5, settings=BlockSettings(neuron=MEMORYLESS))
    with torch.no_grad():
        for block in net.blocks:
            block.synapse.weight.fill_(weight_value)
    return net


def test_strong_positive_weights_fire_every_step_after_the_latency():
    report = measure_activity(constant_mlp(2.0), torch.ones(2, 4, 6))
    assert [layer.latency for layer in report.layers] == [1, 2, 3]
    assert report.rates == [1.0, 1.0, 1.0]
    assert [layer.silent_fraction for layer in report.layers] == [0.0, 0.0, 0.0]
    assert report.layers[0].input_variance == pytest.approx(0.0, abs=1e-9)
    assert report.propagates and "reaches the last layer" in str(report)


def test_zero_weights_are_silent():
    report = measure_activity(constant_mlp(0.0), torch.ones(2, 4, 6))
    assert report.rates == [0.0, 0.0, 0.0]
    assert [layer.silent_fraction for layer in report.layers] == [1.0, 1.0, 1.0]
    assert not report.propagates and "NO (first silent layer" in str(report)


def test_measuring_keeps_the_mode_and_removes_the_hooks():
    net = constant_mlp(2.0).train()
    measure_activity(net, torch.ones(1, 4, 3))
    assert net.training
    assert all(not block._forward_hooks for block in net.blocks)


def test_network_without_slayer_blocks_is_a_clear_error():
    with pytest.raises(ValueError, match="no lava-dl SLAYER block"):
        measure_activity(torch.nn.Linear(2, 2), torch.ones(1, 2))


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_demo_ours_reaches_the_last_layer_and_the_default_is_silent():
    reports = activity_comparison(depth=20, width=128, samples=32, time_steps=28)
    ours, default = reports["variance_conserving"], reports["slayer_default"]
    assert ours.propagates and ours.layers[-2].rate > 0.05
    assert default.layers[-1].rate == 0.0 and default.layers[-2].rate == 0.0
    assert "silent from layer" in format_comparison(reports)


def test_a_wrong_input_shape_is_one_clear_error():
    net = SlayerMLP(16, 4, depth=1, width=8)
    with pytest.raises(ValueError, match=r"cannot run on x of shape \(2, 10, 5\).*SLAYER layout"):
        measure_activity(net, torch.zeros(2, 10, 5))
