"""Backward conservation by measurement (``calibrate_surrogate``) on real SLAYER stacks."""

from __future__ import annotations

import pytest
import torch

import lava_init
from lava_init.backward import weight_gradient_norms
from lava_init.training.config import TUTORIAL_NEURON, BlockSettings
from lava_init.training.models import SlayerMLP


def _spikes(shape: tuple[int, ...], rate: float, seed: int) -> torch.Tensor:
    return (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < rate).float()


def _spread(norms: list[float]) -> float:
    return max(norms) / min(norms)


@pytest.fixture(scope="module")
def tutorial_stack() -> tuple[SlayerMLP, torch.Tensor]:
    """30 hidden tutorial-decay layers of width 128 at T = 20 (lava-dl's tutorial surrogate),
    time-aware init and rate calibration: the issue's setting."""
    torch.manual_seed(0)
    net = SlayerMLP(128, 10, depth=30, width=128,
                    settings=BlockSettings(neuron=TUTORIAL_NEURON, delay_shift=False))
    x = _spikes((32, 128, 20), 0.15, seed=0)
    lava_init.initialize(net, "temporal", time_steps=20, surrogate=False,
                         generator=torch.Generator().manual_seed(0))
    lava_init.calibrate(net, x)
    return net, x


@pytest.mark.integration
def test_surrogate_calibration_conserves_the_gradient_through_time(tutorial_stack):
    net, x = tutorial_stack
    hidden_before = weight_gradient_norms(net, x)[:-1]
    assert _spread(hidden_before) > 1e6  # lava-dl's surrogate: the gradient vanishes
    report = lava_init.calibrate_surrogate(net, x)
    assert report.spread == pytest.approx(1.0, rel=1e-3)
    assert [layer.gradient_before for layer in report.layers[:-1]] == pytest.approx(
        hidden_before)
    # held on a batch and an output gradient it was not measured on
    other = weight_gradient_norms(net, _spikes((32, 128, 20), 0.15, seed=5), seed=3)
    assert _spread(other[:-1]) <= 9.0
    assert all(p.grad is None for p in net.parameters())
    assert "grad norm max/min" in str(report)


def test_surrogate_calibration_refuses_a_silent_network():
    net = SlayerMLP(32, 10, depth=3, width=32,
                    settings=BlockSettings(neuron=TUTORIAL_NEURON, delay_shift=False))
    lava_init.initialize(net, "temporal", time_steps=20, surrogate=False)
    torch.nn.init.zeros_(net.blocks[1].synapse.weight)  # block 1 silent: no gradient from 2 on
    with pytest.raises(ValueError, match="get no gradient on x .* lava_init.calibrate"):
        lava_init.calibrate_surrogate(net, _spikes((4, 32, 20), 0.05, seed=1))


def test_surrogate_calibration_refuses_blocks_without_a_cuba_surrogate():
    from lava.lib.dl import slayer

    net = slayer.block.sigma_delta.Dense({"threshold": 0.1, "activation": torch.relu}, 8, 8)
    with pytest.raises(ValueError, match="no CUBA surrogate gradient"):
        lava_init.calibrate_surrogate(net, torch.rand(2, 8, 5))
