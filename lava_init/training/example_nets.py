"""Small SLAYER networks NetX can run: one per kind of NetX layer (Dense, Conv, Input,
Recurrent, a neuron bias) and a deep memoryless MLP, with seeded weights.

The test suite and ``benchmarks/netx_examples.py`` export and verify these; a user can try
``export_netx`` and ``verify`` on them before their own network.
"""

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
    """A chain of SLAYER blocks in a ``blocks`` ModuleList, run one after the other.

    Example:
        >>> net = BlockNet(slayer.block.cuba.Dense(NEURON, 24, 8))
        >>> tuple(net(torch.zeros(1, 24, 5)).shape)
        (1, 8, 5)
    """

    def __init__(self, *blocks: torch.nn.Module):
        super().__init__()
        self.blocks = torch.nn.ModuleList(blocks)

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


def set_biases(net: BlockNet, seed: int, per_channel: bool) -> None:
    """Running means in [-0.3, 0.1) for every mean-only batch norm (one per channel as after
    training, or the single value of a norm that never trained): the neurons get biases.

    Args:
        net: the network, changed in place.
        seed: seeds the drawn means.
        per_channel: one mean per output channel (as after training), else one per block.

    Returns:
        None.

    Example:
        >>> net = BlockNet(slayer.block.cuba.Dense(NEURON_WITH_BIAS, 24, 4))
        >>> set_biases(net, seed=0, per_channel=True)
        >>> tuple(net.blocks[0].neuron.norm.running_mean.shape)
        (4,)
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in net.blocks:
            norm = getattr(getattr(block, "neuron", None), "norm", None)
            if norm is not None:
                channels = block.synapse.out_channels if per_channel else 1
                norm.running_mean = torch.rand(channels, generator=generator) * 0.4 - 0.3


def dense_net(bias: bool = False, seed: int = 1) -> BlockNet:
    """Dense 24 -> 32 -> 16 (weight_scale 2, so that both layers spike).

    Args:
        bias: neurons with a mean-only batch norm (NetX: a per-neuron bias).
        seed: seeds the weights and the biases.

    Returns:
        The network, on :data:`DENSE_INPUT`.

    Example:
        >>> tuple(dense_net()(random_spikes(DENSE_INPUT, steps=5)).shape)
        (3, 16, 5)
    """
    torch.manual_seed(seed)
    params = NEURON_WITH_BIAS if bias else NEURON
    net = BlockNet(slayer.block.cuba.Dense(params, 24, 32, weight_scale=2),
                   slayer.block.cuba.Dense(params, 32, 16, weight_scale=2))
    if bias:
        set_biases(net, seed + 1, per_channel=True)
    return net


def conv_net(bias: bool = False, seed: int = 3) -> BlockNet:
    """Conv 2->4 (3x3, stride 2, padding 1) -> Conv 4->8 (3x3, padding 1) -> Flatten ->
    Dense 128 -> 10, on :data:`CONV_INPUT` (2 x 8 x 8).

    Args:
        bias: neurons with a mean-only batch norm (NetX: one bias per block, the single
            running mean of a norm that never trained).
        seed: seeds the weights and the biases.

    Returns:
        The network.

    Example:
        >>> net = conv_net(bias=True)
        >>> tuple(net(random_spikes(CONV_INPUT, steps=5)).shape)
        (3, 10, 5)
    """
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
    """Input block (its own CUBA neurons) -> Dense 24 -> 32 -> 16.

    Args:
        seed: seeds the weights.

    Returns:
        The network, on :data:`DENSE_INPUT`.

    Example:
        >>> [type(block).__name__ for block in input_block_net().blocks]
        ['Input', 'Dense', 'Dense']
    """
    torch.manual_seed(seed)
    return BlockNet(slayer.block.cuba.Input(NEURON),
                    slayer.block.cuba.Dense(NEURON, 24, 32, weight_scale=2),
                    slayer.block.cuba.Dense(NEURON, 32, 16, weight_scale=2))


def recurrent_net(seed: int = 7) -> BlockNet:
    """Recurrent 24 -> 16 (input and recurrent synapses) -> Dense 16 -> 8. The Recurrent block
    gets a copy of NEURON: lava-dl 0.6.0 writes persistent_state=True into the dict it is given,
    which would make every later block built from NEURON keep its state between calls.

    Args:
        seed: seeds the weights.

    Returns:
        The network; its input is :data:`DENSE_INPUT`.

    Example:
        >>> net = recurrent_net()
        >>> type(net.blocks[0]).__name__, tuple(net(random_spikes(DENSE_INPUT, steps=5)).shape)
        ('Recurrent', (3, 8, 5))
    """
    torch.manual_seed(seed)
    return BlockNet(slayer.block.cuba.Recurrent(dict(NEURON), 24, 16, weight_scale=2),
                    slayer.block.cuba.Dense(NEURON, 16, 8, weight_scale=2))


def deep_mlp(method: str, depth: int = 20, width: int = 64, sigma: float | None = None,
             in_features: int = 32, seed: int = 0, threshold: float = 1.25) -> SlayerMLP:
    """A memoryless CUBA MLP of ``depth`` hidden layers, initialized by
    :func:`lava_init.initialize` with ``method`` and ``sigma``.

    Args:
        method: the init method (``"variance_conserving"``, ``"kaiming"``, ...).
        depth: hidden layers.
        width: neurons per hidden layer.
        sigma: the init's target pre-activation std (None: the method's default).
        in_features: inputs.
        seed: seeds the network (``seed``) and the init (``seed + 1``).
        threshold: the neurons' threshold (SLAYER units).

    Returns:
        The initialized :class:`~lava_init.training.models.SlayerMLP` (8 outputs).

    Example:
        >>> net = deep_mlp("variance_conserving", depth=3, width=16)
        >>> tuple(net(random_spikes((32,), steps=4)).shape)
        (3, 8, 4)
    """
    torch.manual_seed(seed)
    neuron = dataclasses.replace(MEMORYLESS, threshold=threshold)
    net = SlayerMLP(in_features, 8, depth=depth, width=width, settings=BlockSettings(neuron=neuron))
    initialize(net, method, sigma=sigma, generator=torch.Generator().manual_seed(seed + 1))
    return net


def random_spikes(shape: tuple[int, ...], steps: int, batch: int = 3, rate: float = 0.3,
                  seed: int = 0) -> torch.Tensor:
    """Bernoulli spikes (batch, *shape, steps) with probability ``rate`` per step.

    Args:
        shape: the shape of one step of one sample.
        steps: time steps.
        batch: samples.
        rate: the probability of a spike per input and step.
        seed: seeds the draw.

    Returns:
        The spikes, 0.0 or 1.0.

    Example:
        >>> spikes = random_spikes((24,), steps=100, batch=4, rate=0.3)
        >>> tuple(spikes.shape), round(float(spikes.mean()), 1)
        ((4, 24, 100), 0.3)
    """
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, *shape, steps, generator=generator) < rate).float()
