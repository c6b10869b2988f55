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

from lava_init.checks import check_count, check_dropout
from lava_init.records import InputContract, input_levels_of
from lava_init.slayer_blocks import LavaCurrentWrap, slayer
from lava_init.training.config import (
    ARCHITECTURES,
    TUTORIAL_BLOCKS,
    BlockSettings,
    NeuronConfig,
)


class SpikingNet(torch.nn.Module):
    """What :class:`SlayerMLP` and :class:`SlayerCNN` share: the :class:`BlockSettings` of
    their blocks, the :class:`~lava_init.records.InputContract` they take (``input_contract``;
    graded input makes the first block wrap its current as Lava does: :class:`LavaCurrentWrap`),
    the readout population, and a forward pass through ``blocks`` (the ``ModuleList`` NetX
    export walks). Input and output are SLAYER spike tensors (batch, ..., time)."""

    def __init__(self, settings: BlockSettings, input_contract: InputContract | None):
        super().__init__()
        check_count(settings.readout_population, "readout-population")
        check_dropout(settings.dropout)
        self.settings = settings
        self.readout_population = settings.readout_population
        self.input_contract = input_contract

    def neuron_params(self, position: str, features: int) -> dict:
        """``neuron_params`` of the ``"first"``, a ``"hidden"`` or the ``"output"`` block of
        ``features`` neurons (Dense) or channels (Conv). The
        output block takes the neuron as it is. The others take lava-dl's neuron dropout with
        ``dropout`` > 0 (``slayer.neuron.Dropout``: a dropped neuron stays silent over all T
        steps of the sample; training only, so NetX export and Lava runs are unchanged). The
        hidden blocks take lava-dl's ``MeanOnlyBatchNorm`` on their current with ``mean_norm``
        (the running mean of each of the ``features`` subtracted, sized from the start so that
        a checkpoint holds the same shapes before and after training; NetX: the neuron bias);
        the first block instead takes a
        :class:`LavaCurrentWrap` for graded input on the ``1 / levels`` grid."""
        params = self.settings.neuron.params()
        if position == "output":
            return params
        if self.settings.dropout > 0:
            params["dropout"] = slayer.neuron.Dropout(p=self.settings.dropout)
        levels = input_levels_of(self)
        if position == "first" and levels is not None:
            params["norm"] = functools.partial(LavaCurrentWrap, levels)
        elif position == "hidden" and self.settings.mean_norm:
            params["norm"] = functools.partial(slayer.neuron.norm.MeanOnlyBatchNorm, features)
        return params

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


class SlayerMLP(SpikingNet):
    """``depth`` hidden CUBA Dense layers of ``width`` neurons and a CUBA Dense output layer of
    ``out_features * settings.readout_population`` neurons (that many consecutive neurons
    per class: :func:`class_counts`); ``settings``: the blocks' neuron, delay, dropout and mean
    normalization (:class:`BlockSettings`; dropout and the normalization never on the output
    layer, the normalization not on the first); ``input_contract``: as :class:`SpikingNet`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        depth: int = 10,
        width: int = 100,
        settings: BlockSettings = TUTORIAL_BLOCKS,
        input_contract: InputContract | None = None,
    ):
        super().__init__(settings, input_contract)
        if depth < 1 or width < 1 or in_features < 1 or out_features < 1:
            raise ValueError(
                f"an MLP needs depth >= 1, width >= 1 and at least one input and output feature "
                f"(got depth={depth}, width={width}, in={in_features}, out={out_features})"
            )
        sizes = [in_features] + [width] * depth
        self.blocks = torch.nn.ModuleList(
            slayer.block.cuba.Dense(
                self.neuron_params("first" if index == 0 else "hidden", n_out), n_in, n_out,
                delay_shift=settings.delay_shift)
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.blocks.append(slayer.block.cuba.Dense(
            self.neuron_params("output", out_features * settings.readout_population), width,
            out_features * settings.readout_population, delay_shift=settings.delay_shift))


def conv_output_size(size: int, stride: int) -> int:
    """Output height/width of a convolution with an odd kernel ``k``, padding ``k // 2`` and
    ``stride``.

    Args:
        size: the input's height or width.
        stride: the convolution's stride along that axis.

    Returns:
        The output's height or width, ``(size - 1) // stride + 1``.

    Example:
        >>> conv_output_size(40, 2), conv_output_size(5, 2)
        (20, 3)
    """
    return (size - 1) // stride + 1


#: The 1D CNN of MNIST-1D (``arch="cnn1d"``): kernels of 1 x 5 along the signal, stride 2 at
#: the 2nd and 4th convolution only (Greydanus' CNN shape; issue 29's ANN reference).
CNN1D_KERNEL = (1, 5)
CNN1D_STRIDE_LAYERS = (1, 3)


class SlayerCNN(SpikingNet):
    """``depth`` CUBA Conv layers of ``channels``, Flatten, a CUBA Dense hidden layer of
    ``width`` neurons and a CUBA Dense output layer (``settings`` and ``input_contract`` as in
    :class:`SlayerMLP`).

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
        settings: BlockSettings = TUTORIAL_BLOCKS,
        input_contract: InputContract | None = None,
        kernel: tuple[int, int] = (3, 3),
        stride_layers: tuple[int, ...] | None = None,
    ):
        super().__init__(settings, input_contract)
        _check_cnn(in_shape, out_features, depth, channels, width, kernel)
        in_channels, height, image_width = in_shape
        strided = range(1, depth, 2) if stride_layers is None else stride_layers
        kernel = tuple(int(k) for k in kernel)
        blocks = []
        for layer in range(depth):
            stride = (2 if kernel[0] > 1 else 1, 2) if layer in strided else (1, 1)
            blocks.append(slayer.block.cuba.Conv(
                self.neuron_params("first" if layer == 0 else "hidden", channels), in_channels,
                channels, kernel, stride=stride, padding=(kernel[0] // 2, kernel[1] // 2),
                delay_shift=settings.delay_shift))
            in_channels = channels
            height = conv_output_size(height, stride[0])
            image_width = conv_output_size(image_width, stride[1])
        blocks.append(slayer.block.cuba.Flatten())
        blocks.append(slayer.block.cuba.Dense(self.neuron_params("hidden", width),
                                              channels * height * image_width,
                                              width, delay_shift=settings.delay_shift))
        outputs = out_features * settings.readout_population
        blocks.append(slayer.block.cuba.Dense(self.neuron_params("output", outputs), width,
                                              outputs,
                                              delay_shift=settings.delay_shift))
        self.blocks = torch.nn.ModuleList(blocks)


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
    """Output neurons per class of ``net`` (1 for a network that does not say).

    Args:
        net: a network, usually a :class:`SpikingNet`.

    Returns:
        Its ``readout_population`` attribute, or 1.

    Example:
        >>> net = SlayerMLP(4, 2, depth=1, width=3, settings=BlockSettings(readout_population=3))
        >>> readout_population(net), readout_population(torch.nn.Linear(2, 2))
        (3, 1)
    """
    return int(getattr(net, "readout_population", 1))


def class_counts(counts: torch.Tensor, population: int = 1) -> torch.Tensor:
    """Each class's spike count (batch, classes) from the output neurons' counts (batch,
    classes * population): the sum over the class's ``population`` consecutive neurons.

    Args:
        counts: the output neurons' spike counts, (batch, classes * population).
        population: output neurons per class.

    Returns:
        The per-class counts, (batch, classes); ValueError when the neurons do not split into
        classes of ``population``.

    Example:
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
    output which says nothing is never counted as right.

    Args:
        counts: the per-class spike counts, (batch, classes).

    Returns:
        A long tensor (batch,) of class indices, -1 for undecided samples.

    Example:
        >>> count_predictions(torch.tensor([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0]])).tolist()
        [1, -1]
    """
    undecided = counts.amax(dim=1) == counts.amin(dim=1)
    return torch.where(undecided, torch.full_like(counts[:, 0], -1, dtype=torch.long),
                       counts.argmax(dim=1))


def silent_outputs(counts: torch.Tensor) -> torch.Tensor:
    """True for samples whose output neurons did not spike at all.

    Args:
        counts: the output spike counts, (batch, classes).

    Returns:
        A bool tensor (batch,).

    Example:
        >>> silent_outputs(torch.tensor([[0.0, 2.0], [0.0, 0.0]])).tolist()
        [False, True]
    """
    return counts.amax(dim=1) == 0


def spiking_layers(net: torch.nn.Module) -> int:
    """Blocks with neurons (each one Lava layer, each delaying by one step on Lava).

    Args:
        net: a network with a ``blocks`` list (:class:`SlayerMLP`, :class:`SlayerCNN`).

    Returns:
        The number of its blocks that have a ``neuron`` (Flatten blocks do not).

    Example:
        >>> spiking_layers(SlayerMLP(4, 2, depth=2, width=3))  # 2 hidden + the output
        3
        >>> spiking_layers(SlayerCNN((1, 4, 4), 2, depth=1, channels=2, width=3))  # not Flatten
        3
    """
    return sum(1 for block in net.blocks if getattr(block, "neuron", None) is not None)


def pad_for_lava(spikes: torch.Tensor, net: torch.nn.Module) -> torch.Tensor:
    """``spikes`` (..., T) followed by one silent step per spiking layer of ``net``: the input
    of a Lava run in which every layer's T steps (output: steps L .. L + T - 1) are covered.

    Args:
        spikes: the input spikes, time last.
        net: the network they feed (its :func:`spiking_layers` count the silent steps).

    Returns:
        A tensor of ``spikes``' shape with ``L`` more time steps, all zero.

    Example:
        >>> spikes = torch.ones(1, 4, 3)
        >>> padded = pad_for_lava(spikes, SlayerMLP(4, 2, depth=1, width=3))
        >>> tuple(padded.shape), padded[..., 3:].sum().item()
        ((1, 4, 5), 0.0)
    """
    silence = spikes.new_zeros(*spikes.shape[:-1], spiking_layers(net))
    return torch.cat([spikes, silence], dim=-1)


def build_model(config: dict) -> torch.nn.Module:
    """A network from its JSON-able config, as stored in checkpoints.

    ``{"arch": "mlp", "in_features": 64, "out_features": 10, "depth": 10, "width": 100,
    "settings": {...BlockSettings fields, "neuron": {...NeuronConfig fields...}},
    "input": {...InputContract fields...} or null}`` or ``{"arch": "cnn", "in_shape":
    [1, 28, 28], "out_features": 10, "depth": 4, "channels": 64, "width": 100,
    "settings": {...}, "input": ...}``; ``"arch": "cnn1d"`` is the CNN with
    :data:`CNN1D_KERNEL` kernels, strided at :data:`CNN1D_STRIDE_LAYERS` (for ``in_shape``
    (C, 1, length), e.g. MNIST-1D's [1, 1, 40]).
    :func:`~lava_init.training.plan.model_config` writes it.

    Args:
        config: the network's config (not changed).

    Returns:
        A :class:`SlayerMLP` or :class:`SlayerCNN`, freshly initialized by SLAYER; ValueError
        for an unknown ``arch``.

    Example:
        >>> config = {"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1, "width": 3,
        ...           "settings": {"readout_population": 2, "neuron": {"threshold": 1.0}}}
        >>> net = build_model(config)
        >>> type(net).__name__, len(net.blocks), net.readout_population
        ('SlayerMLP', 2, 2)
        >>> tuple(net(torch.zeros(1, 4, 3)).shape)  # (batch, 2 classes x 2 neurons, T)
        (1, 4, 3)
    """
    config = dict(config)
    arch = config.pop("arch", None)
    settings = dict(config.pop("settings", {}))
    settings = BlockSettings(**{**settings, "neuron": NeuronConfig(**settings.get("neuron", {}))})
    contract = config.pop("input", None)
    common = {"settings": settings,
              "input_contract": None if contract is None else InputContract(**contract)}
    if arch == "mlp":
        return SlayerMLP(**common, **config)
    if arch in ("cnn", "cnn1d"):
        shape = {"kernel": CNN1D_KERNEL, "stride_layers": CNN1D_STRIDE_LAYERS} \
            if arch == "cnn1d" else {}
        return SlayerCNN(in_shape=tuple(config.pop("in_shape")), **shape, **common, **config)
    raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(ARCHITECTURES)}")

