"""Data-driven calibration: converges, is deterministic, keeps the 8-bit grid, clear errors."""

from __future__ import annotations

import pytest
import torch

import lava_init
from lava_init.training.config import BlockSettings
from lava_init.training.models import SlayerCNN, SlayerMLP


def _spikes(shape: tuple[int, ...], rate: float, seed: int = 1) -> torch.Tensor:
    return (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < rate).float()


def _mlp(seed: int = 0, **kwargs) -> SlayerMLP:
    net = SlayerMLP(64, 16, depth=5, width=64, **kwargs)
    lava_init.initialize(net, "kaiming", generator=torch.Generator().manual_seed(seed))
    return net


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_calibration_hits_the_input_rate_and_is_deterministic():
    x = _spikes((8, 64, 30), 0.2)
    nets = [_mlp(), _mlp()]
    reports = [lava_init.calibrate(net, x) for net in nets]
    assert reports[0].converged and reports[0].target == pytest.approx(float(x.mean()))
    assert str(reports[0]) == str(reports[1])
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(a, b)
    measured = lava_init.measure_activity(nets[0], x)
    for layer, calibrated in zip(measured.layers, reports[0].layers, strict=True):
        assert layer.latency == calibrated.activity.latency
        assert layer.rate == pytest.approx(calibrated.rate)
        assert abs(layer.rate / reports[0].target - 1.0) <= 0.05
    assert max(layer.iterations for layer in reports[0].layers) <= 16
    assert "calibration target rate" in str(reports[0])


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_calibrated_weights_stay_on_the_8bit_grid():
    net = _mlp()
    lava_init.calibrate(net, _spikes((4, 64, 30), 0.2), target=0.1)
    for block in net.blocks:
        steps = block.synapse.weight * 32
        assert torch.equal(steps, steps.round())
        assert float(block.synapse.weight.abs().max()) <= 4.0


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_calibration_of_a_conv_network_with_flatten():
    net = SlayerCNN((2, 8, 8), 10, depth=2, channels=8, width=32,
                    settings=BlockSettings(delay_shift=False))
    lava_init.initialize(net, "variance_conserving", generator=torch.Generator().manual_seed(0))
    x = _spikes((4, 2, 8, 8, 12), 0.25)
    report = lava_init.calibrate(net, x, target=0.15)
    assert len(report.layers) == 4 and report.converged
    measured = {layer.name: layer.rate for layer in lava_init.measure_activity(net, x).layers}
    for calibrated in report.layers:
        assert abs(measured[calibrated.name] / 0.15 - 1.0) <= 0.05


@pytest.mark.parametrize("target", [1.5, 1.0, 0.0, -0.1])
def test_impossible_targets_are_clear_errors(target):
    with pytest.raises(ValueError, match="target rate must be in \\(0, 1\\)"):
        lava_init.calibrate(_mlp(), _spikes((2, 64, 30), 0.2), target=target)


def test_silent_input_without_a_target_is_a_clear_error():
    with pytest.raises(ValueError, match="the input x has rate 0"):
        lava_init.calibrate(_mlp(), torch.zeros(2, 64, 30))


def test_too_few_steps_for_the_delays_is_a_clear_error():
    with pytest.raises(ValueError, match="starts at step 6 but x has 5 steps"):
        lava_init.calibrate(_mlp(), _spikes((2, 64, 5), 0.2))


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_readout_target_sets_only_the_output_block():
    x = _spikes((8, 64, 30), 0.2)
    net = _mlp()
    report = lava_init.calibrate(net, x, readout_target=0.02)
    targets = [layer.target for layer in report.layers]
    assert targets[:-1] == [pytest.approx(float(x.mean()))] * (len(targets) - 1)
    assert targets[-1] == 0.02 and report.converged
    measured = lava_init.measure_activity(net, x).rates
    assert abs(measured[-1] / 0.02 - 1.0) <= 0.05
    assert abs(measured[0] / float(x.mean()) - 1.0) <= 0.05


@pytest.mark.parametrize("readout_target", [1.0, 0.0])
def test_impossible_readout_targets_are_clear_errors(readout_target):
    with pytest.raises(ValueError, match="target rate must be in \\(0, 1\\)"):
        lava_init.calibrate(_mlp(), _spikes((2, 64, 30), 0.2), readout_target=readout_target)
