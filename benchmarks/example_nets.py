"""Small SLAYER networks NetX can run: the ones the tests and the benchmark export and verify."""

from __future__ import annotations

import dataclasses

import torch
from lava.lib.dl import slayer

from lava_init.network_init import initialize
from lava_init.training.config import MEMORYLESS, BlockSettings
from lava_init.training.models import SlayerMLP

#: CUBA parameters of lava-dl's tutorials (SLAYER units, decays per step).
NEURON = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}
#: The same neuron with a mean-only batch norm, exported as a per-neuron bias.
NEURON_WITH_BIAS = {**NEURON, "norm": slayer.neuron.norm.MeanOnlyBatchNorm}
#: Input of :func:`conv_net` (channels, height, width) and of the Dense examples.
CONV_INPUT = (2, 8, 8)
DENSE_INPUT = (24,)


class BlockNet(torch.nn.Module):
    """A chain of SLAYER blocks in a ``blocks`` ModuleList."""

    def __init__(self, *blocks: torch.nn.Module):
        super().__init__()
        self.blocks = torch.nn.ModuleList(blocks)

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


def set_biases(net: BlockNet, seed: int, per_channel: bool) -> None:
    """Running means in [-0.3, 0.1) for every mean-only batch norm (one per channel as after
    training, or the single value of a norm that never trained): the neurons get biases."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in net.blocks:
            norm = getattr(getattr(block, "neuron", None), "norm", None)
            if norm is not None:
                channels = block.synapse.out_channels if per_channel else 1
                norm.running_mean = torch.rand(channels, generator=generator) * 0.4 - 0.3


def dense_net(bias: bool = False, seed: int = 1) -> BlockNet:
    """Dense 24 -> 32 -> 16 (weight_scale 2, so that both layers spike)."""
    torch.manual_seed(seed)
    params = NEURON_WITH_BIAS if bias else NEURON
    net = BlockNet(slayer.block.cuba.Dense(params, 24, 32, weight_scale=2),
                   slayer.block.cuba.Dense(params, 32, 16, weight_scale=2))
    if bias:
        set_biases(net, seed + 1, per_channel=True)
    return net


def conv_net(bias: bool = False, seed: int = 3) -> BlockNet:
    """Conv 2->4 (3x3, stride 2, padding 1) -> Conv 4->8 (3x3, padding 1) -> Flatten ->
    Dense 128 -> 10, on 2x8x8 inputs."""
    torch.manual_seed(seed)
    params = NEURON_WITH_BIAS if bias else NEURON
    net = BlockNet(
        slayer.block.cuba.Conv(params, 2, 4, 3, stride=2, padding=1, weight_scale=2),
        slayer.block.cuba.Conv(params, 4, 8, 3, padding=1, weight_scale=2),
        slayer.block.cuba.Flatten(),
        slayer.block.cuba.Dense(params, 8 * 4 * 4, 10, weight_scale=2),
    )
    if bias:
        set_biases(net, seed + 1, per_channel=False)
    return net


def input_block_net(seed: int = 5) -> BlockNet:
    """Input block (its own CUBA neurons) -> Dense 24 -> 32 -> 16."""
    torch.manual_seed(seed)
    return BlockNet(slayer.block.cuba.Input(NEURON),
                    slayer.block.cuba.Dense(NEURON, 24, 32, weight_scale=2),
                    slayer.block.cuba.Dense(NEURON, 32, 16, weight_scale=2))


def recurrent_net(seed: int = 7) -> BlockNet:
    """Recurrent 24 -> 16 (input and recurrent synapses) -> Dense 16 -> 8. The Recurrent block
    gets a copy of NEURON: lava-dl 0.6.0 writes persistent_state=True into the dict it is given,
    which would make every later block built from NEURON keep its state between calls."""
    torch.manual_seed(seed)
    return BlockNet(slayer.block.cuba.Recurrent(dict(NEURON), 24, 16, weight_scale=2),
                    slayer.block.cuba.Dense(NEURON, 16, 8, weight_scale=2))


def deep_mlp(method: str, depth: int = 20, width: int = 64, sigma: float | None = None,
             in_features: int = 32, seed: int = 0, threshold: float = 1.25) -> SlayerMLP:
    """A memoryless CUBA MLP of ``depth`` hidden layers, initialized by
    :func:`lava_init.initialize` with ``method`` and ``sigma``."""
    torch.manual_seed(seed)
    neuron = dataclasses.replace(MEMORYLESS, threshold=threshold)
    net = SlayerMLP(in_features, 8, depth=depth, width=width, settings=BlockSettings(neuron=neuron))
    initialize(net, method, sigma=sigma, generator=torch.Generator().manual_seed(seed + 1))
    return net


def random_spikes(shape: tuple[int, ...], steps: int, batch: int = 3, rate: float = 0.3,
                  seed: int = 0) -> torch.Tensor:
    """Bernoulli spikes (batch, *shape, steps) with probability ``rate`` per step."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, *shape, steps, generator=generator) < rate).float()
