"""SLAYER networks built from lava-dl CUBA blocks, exportable to NetX.

``delay_shift``: SLAYER's one-step delay per block, as each Lava synapse has. With it (the
default) SLAYER and Lava agree step for step, but a network of L blocks needs more than L time
steps before its output spikes. Without it every block sees the same T steps (the paper's
T = 3 training); the spike trains are the same, each layer shifted by its depth, so on Lava the
input is followed by L silent steps (:func:`pad_for_lava`) and the output read at steps
L .. L + T - 1.
"""

from __future__ import annotations

import functools

import torch
from lava.lib.dl import slayer

from lava_init.checks import check_count, check_dropout
from lava_init.slayer_blocks import LavaCurrentWrap
from lava_init.training.config import ARCHITECTURES, TUTORIAL_NEURON, NeuronConfig


def first_neuron_params(neuron: NeuronConfig, dropout: float, input_levels: int | None
                        ) -> dict:
    """The first block's ``neuron_params``: a hidden block's, with a :class:`LavaCurrentWrap`
    for graded input on the ``1 / input_levels`` grid."""
    params = hidden_neuron_params(neuron, dropout)
    if input_levels is not None:
        params["norm"] = functools.partial(LavaCurrentWrap, input_levels)
    return params


def hidden_neuron_params(neuron: NeuronConfig, dropout: float, mean_norm: bool = False
                         ) -> dict:
    """``neuron_params`` of a hidden block: with ``dropout`` > 0, lava-dl's neuron dropout
    (``slayer.neuron.Dropout``: a dropped neuron stays silent over all T steps of the sample;
    training only, so NetX export and Lava runs are unchanged); with ``mean_norm``, lava-dl's
    ``MeanOnlyBatchNorm`` on the block's current (the running mean subtracted; exported to
    NetX as the neuron bias, so Lava runs it)."""
    check_dropout(dropout)
    params = neuron.params()
    if dropout > 0:
        params["dropout"] = slayer.neuron.Dropout(p=dropout)
    if mean_norm:
        params["norm"] = slayer.neuron.norm.MeanOnlyBatchNorm
    return params


class SlayerMLP(torch.nn.Module):
    """``depth`` hidden CUBA Dense layers of ``width`` neurons and a CUBA Dense output layer of
    ``out_features * readout_population`` neurons (``readout_population`` consecutive neurons
    per class: :func:`class_counts`). ``dropout``: probability that a hidden neuron is silenced
    for a training sample, ``mean_norm``: the mean of each hidden block's current subtracted
    (:func:`hidden_neuron_params`; never the first or the output layer).
    ``input_levels``: the input is graded on the ``1 / input_levels`` grid; the first block then
    wraps its current as Lava does (:class:`LavaCurrentWrap`).

    Input and output are SLAYER spike tensors (batch, features, time). ``blocks`` is the
    ``ModuleList`` NetX export walks.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        depth: int = 10,
        width: int = 100,
        neuron: NeuronConfig = TUTORIAL_NEURON,
        delay_shift: bool = True,
        readout_population: int = 1,
        dropout: float = 0.0,
        input_levels: int | None = None,
        mean_norm: bool = False,
    ):
        super().__init__()
        if depth < 1 or width < 1 or in_features < 1 or out_features < 1:
            raise ValueError(
                f"an MLP needs depth >= 1, width >= 1 and at least one input and output feature "
                f"(got depth={depth}, width={width}, in={in_features}, out={out_features})"
            )
        check_count(readout_population, "readout-population")
        self.readout_population = readout_population
        self.dropout = dropout
        self.input_levels = input_levels
        sizes = [in_features] + [width] * depth
        self.blocks = torch.nn.ModuleList(
            slayer.block.cuba.Dense(
                first_neuron_params(neuron, dropout, input_levels) if index == 0
                else hidden_neuron_params(neuron, dropout, mean_norm), n_in, n_out,
                delay_shift=delay_shift)
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.blocks.append(slayer.block.cuba.Dense(
            neuron.params(), width, out_features * readout_population, delay_shift=delay_shift))

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


def conv_output_size(size: int, stride: int) -> int:
    """Output height/width of a convolution with an odd kernel ``k``, padding ``k // 2`` and
    ``stride``.

    >>> conv_output_size(40, 2), conv_output_size(5, 2)
    (20, 3)
    """
    return (size - 1) // stride + 1


#: The 1D CNN of MNIST-1D (``arch="cnn1d"``): kernels of 1 x 5 along the signal, stride 2 at
#: the 2nd and 4th convolution only (Greydanus' CNN shape; issue 29's ANN reference).
CNN1D_KERNEL = (1, 5)
CNN1D_STRIDE_LAYERS = (1, 3)


class SlayerCNN(torch.nn.Module):
    """``depth`` CUBA Conv layers of ``channels``, Flatten, a CUBA Dense hidden layer of
    ``width`` neurons and a CUBA Dense output layer (``readout_population`` neurons per class,
    as in :class:`SlayerMLP`; ``dropout`` and ``mean_norm`` on the hidden blocks and
    ``input_levels``, as there).

    ``kernel``: (height, width) of every convolution, both odd, padded to keep the size; 3 x 3
    by default, 1 x 5 for signals of shape (C, 1, length). ``stride_layers``: the (0-based)
    convolutions with stride 2, which halve the image in place of pooling (NetX cannot load
    pooling); None: every second one (the 2nd, 4th, ...). A 1-high kernel strides only along
    the width. Input (batch, C, H, W, time), output (batch, out, time).
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        out_features: int,
        depth: int = 4,
        channels: int = 64,
        width: int = 100,
        neuron: NeuronConfig = TUTORIAL_NEURON,
        delay_shift: bool = True,
        readout_population: int = 1,
        dropout: float = 0.0,
        input_levels: int | None = None,
        kernel: tuple[int, int] = (3, 3),
        stride_layers: tuple[int, ...] | None = None,
        mean_norm: bool = False,
    ):
        super().__init__()
        _check_cnn(in_shape, out_features, depth, channels, width, kernel)
        check_count(readout_population, "readout-population")
        self.readout_population = readout_population
        self.dropout = dropout
        self.input_levels = input_levels
        in_channels, height, image_width = in_shape
        strided = range(1, depth, 2) if stride_layers is None else stride_layers
        kernel = tuple(int(k) for k in kernel)
        blocks = []
        for layer in range(depth):
            stride = (2 if kernel[0] > 1 else 1, 2) if layer in strided else (1, 1)
            blocks.append(slayer.block.cuba.Conv(
                first_neuron_params(neuron, dropout, input_levels) if layer == 0
                else hidden_neuron_params(neuron, dropout, mean_norm), in_channels, channels,
                kernel,
                stride=stride, padding=(kernel[0] // 2, kernel[1] // 2),
                delay_shift=delay_shift))
            in_channels = channels
            height = conv_output_size(height, stride[0])
            image_width = conv_output_size(image_width, stride[1])
        blocks.append(slayer.block.cuba.Flatten())
        blocks.append(slayer.block.cuba.Dense(hidden_neuron_params(neuron, dropout, mean_norm),
                                              channels * height * image_width,
                                              width, delay_shift=delay_shift))
        blocks.append(slayer.block.cuba.Dense(neuron.params(), width,
                                              out_features * readout_population,
                                              delay_shift=delay_shift))
        self.blocks = torch.nn.ModuleList(blocks)

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


def _check_cnn(in_shape: tuple[int, ...], out_features: int, depth: int, channels: int,
               width: int, kernel: tuple[int, ...]) -> None:
    """One clear ValueError for a CNN that cannot be built."""
    if len(in_shape) != 3 or min(in_shape) < 1:
        raise ValueError(f"a CNN needs an input shape (channels, height, width) "
                         f"(got {tuple(in_shape)})")
    if depth < 1 or channels < 1 or width < 1 or out_features < 1:
        raise ValueError(
            f"a CNN needs depth >= 1 convolutions, channels >= 1, width >= 1 and at least "
            f"one output (got depth={depth}, channels={channels}, width={width}, "
            f"out={out_features})"
        )
    if len(kernel) != 2 or any(k < 1 or k % 2 == 0 for k in kernel):
        raise ValueError(f"a CNN kernel is (height, width), both odd (got {tuple(kernel)})")


def readout_population(net: torch.nn.Module) -> int:
    """Output neurons per class of ``net`` (1 for a network that does not say)."""
    return int(getattr(net, "readout_population", 1))


def class_counts(counts: torch.Tensor, population: int = 1) -> torch.Tensor:
    """Each class's spike count (batch, classes) from the output neurons' counts (batch,
    classes * population): the sum over the class's ``population`` consecutive neurons.

    >>> class_counts(torch.tensor([[1.0, 2.0, 0.0, 3.0]]), 2).tolist()
    [[3.0, 3.0]]
    """
    if counts.shape[1] % population:
        raise ValueError(f"{counts.shape[1]} output neurons do not split into classes of "
                         f"{population} neurons; build the network with this readout "
                         "population")
    return counts.reshape(counts.shape[0], -1, population).sum(-1)


def count_predictions(counts: torch.Tensor) -> torch.Tensor:
    """The class each sample's output spike counts (batch, classes) vote for; -1 where all
    counts are equal (a silent output, or one that spikes alike for every class), so that an
    output which says nothing is never counted as right."""
    undecided = counts.amax(dim=1) == counts.amin(dim=1)
    return torch.where(undecided, torch.full_like(counts[:, 0], -1, dtype=torch.long),
                       counts.argmax(dim=1))


def silent_outputs(counts: torch.Tensor) -> torch.Tensor:
    """True for samples whose output neurons did not spike at all."""
    return counts.amax(dim=1) == 0


def spiking_layers(net: torch.nn.Module) -> int:
    """Blocks with neurons (each one Lava layer, each delaying by one step on Lava)."""
    return sum(1 for block in net.blocks if getattr(block, "neuron", None) is not None)


def pad_for_lava(spikes: torch.Tensor, net: torch.nn.Module) -> torch.Tensor:
    """``spikes`` (..., T) followed by one silent step per spiking layer of ``net``: the input
    of a Lava run in which every layer's T steps (output: steps L .. L + T - 1) are covered."""
    silence = spikes.new_zeros(*spikes.shape[:-1], spiking_layers(net))
    return torch.cat([spikes, silence], dim=-1)


def build_model(config: dict) -> torch.nn.Module:
    """A network from its JSON-able config, as stored in checkpoints.

    ``{"arch": "mlp", "in_features": 64, "out_features": 10, "depth": 10, "width": 100,
    "neuron": {...NeuronConfig fields...}, "delay_shift": true}`` or
    ``{"arch": "cnn", "in_shape": [1, 28, 28], "out_features": 10, "depth": 4, "channels": 64,
    "width": 100, "neuron": {...}, "delay_shift": false}``; ``"arch": "cnn1d"`` is the
    CNN with :data:`CNN1D_KERNEL` kernels, strided at :data:`CNN1D_STRIDE_LAYERS` (for
    ``in_shape`` (C, 1, length), e.g. MNIST-1D's [1, 1, 40]).
    """
    config = dict(config)
    arch = config.pop("arch", None)
    neuron = NeuronConfig(**config.pop("neuron", {}))
    if arch == "mlp":
        return SlayerMLP(neuron=neuron, **config)
    if arch in ("cnn", "cnn1d"):
        shape = {"kernel": CNN1D_KERNEL, "stride_layers": CNN1D_STRIDE_LAYERS} \
            if arch == "cnn1d" else {}
        return SlayerCNN(neuron=neuron, in_shape=tuple(config.pop("in_shape")), **shape,
                         **config)
    raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(ARCHITECTURES)}")

