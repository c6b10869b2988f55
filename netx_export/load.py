"""Import a NetX HDF5 network into lava-dl SLAYER: the same CUBA blocks, weights, biases,
delays and neuron parameters, so that SLAYER reproduces Lava spike for spike."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import h5py
import numpy as np
import torch

from lava_init.checks import check_allocation
from lava_init.quantization import DECAY_SCALE
from lava_init.slayer_blocks import slayer
from netx_export.netx_file import IMPORTABLE_LAYERS, MAX_DELAY, NetxLayer, read_netx_file

#: NetX's integer unit of weights, biases and thresholds: 64 = 1.0 (SLAYER's ``scale``).
WEIGHT_SCALE = 64
#: NetX's neuron for a layer stored without one: a non-leaking integrator that never spikes.
NON_SPIKING = {"iDecay": 0, "vDecay": 4096, "vThMant": 1 << 17}
#: Bytes a neuron of an imported network costs in SLAYER (its states and a forward pass's
#: tensors over a few steps), for the memory check before anything is built.
SLAYER_BYTES_PER_NEURON = 256


class NetxNetwork(torch.nn.Module):
    """A chain of SLAYER blocks imported from a NetX file.

    ``blocks``: the blocks, one per Lava layer (and a ``Flatten`` where the file has one
    after a convolution); ``input_shape``: one sample's input (SLAYER order, what
    :func:`netx_export.run_lava` takes for the same file); ``skipped``: ``(name, type)`` of
    the file's layers NetX cannot run (not imported); ``source``: the file.
    """

    def __init__(self, blocks: list[torch.nn.Module], input_shape: tuple[int, ...],
                 skipped: list[tuple[str, str]], source: Path):
        super().__init__()
        self.blocks = torch.nn.ModuleList(blocks)
        self.input_shape = input_shape
        self.skipped = skipped
        self.source = source

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        """``(batch, *input_shape, T)`` -> the last block's spikes."""
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


def _delayed_forward(block: torch.nn.Module, spikes: torch.Tensor) -> torch.Tensor:
    """NetX's delays: layer ``k``'s delays postpone the input current of its neurons (Lava's
    DelayDense), where SLAYER's own blocks delay their output spikes."""
    current = block.synapse(spikes)
    if block.delay is not None:
        current = block.delay(current)
    spikes = block.neuron(current)
    return slayer.block.base.step_delay(block, spikes) if block.delay_shift is True else spikes


class NetxDense(slayer.block.cuba.Dense):
    """A CUBA Dense block with NetX's delay semantics (see :func:`_delayed_forward`); the
    same as ``cuba.Dense`` without delays, exported by the same ``export_hdf5``."""

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        return _delayed_forward(self, spikes)


def _neuron_params(group: h5py.Group, has_bias: bool, input_levels: int = 1) -> dict:
    """SLAYER CUBA parameters of a NetX neuron group (CUBA or the older LOIHI type); the first
    layer of a graded-input file holds its threshold ``input_levels`` times larger."""
    config = {key: group["neuron"][key][()] for key in group["neuron"]} if "neuron" in group \
        else dict(NON_SPIKING)
    kind = config.get("type", b"CUBA")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    name = group.name.lstrip("/")
    if kind not in ("CUBA", "LOIHI"):
        raise ValueError(f"{name} has {kind} neurons; load_netx imports CUBA (and LOIHI) "
                         "neurons only, run the file on Lava with run_lava or inspect instead")
    if bool(config.get("gradedSpike", False)):
        raise ValueError(f"{name} sends graded spikes; load_netx imports binary-spike CUBA "
                         "layers only")
    return cuba_params(int(config["vThMant"]) / input_levels, int(config["iDecay"]),
                       int(config["vDecay"]), has_bias)


def cuba_params(threshold: float, current_decay: int, voltage_decay: int, has_bias: bool
                ) -> dict:
    """SLAYER CUBA parameters of Loihi's integers: ``threshold`` (vThMant, 64 = 1.0) and the
    decays (in 1/4096); a bias makes the neuron hold it in a MeanOnlyBatchNorm.

    Args:
        threshold: vThMant (64 = 1.0; a float for a graded input's scaled threshold).
        current_decay: iDecay, in 1/4096 per step.
        voltage_decay: vDecay, in 1/4096 per step.
        has_bias: whether the layer has a bias.

    Returns:
        The neuron parameters of a lava-dl CUBA block.

    Example:
        >>> cuba_params(80, 1024, 128, has_bias=False)
        {'threshold': 1.25, 'current_decay': 0.25, 'voltage_decay': 0.03125}
    """
    params = {"threshold": threshold / WEIGHT_SCALE, "current_decay": current_decay / DECAY_SCALE,
              "voltage_decay": voltage_decay / DECAY_SCALE}
    if has_bias:
        params["norm"] = slayer.neuron.norm.MeanOnlyBatchNorm
    return params


def _stored(group: h5py.Group, key: str) -> np.ndarray:
    return np.asarray(group[key][()], dtype=np.float64)


def _set_parameters(block: torch.nn.Module, group: h5py.Group, input_levels: int = 1) -> None:
    """Weights, bias (the norm's running mean: bias = -mean; ``input_levels`` times larger in
    the first layer of a graded-input file) and delays from the file."""
    stored = _stored(group, "weight")
    if np.any(stored % 2) or stored.min() < -256 or stored.max() > 254:
        warnings.warn(f"{group.name.lstrip('/')}: weights off SLAYER's 8-bit grid (even "
                      "integers in [-256, 254]); SLAYER rounds them, so it may differ from Lava",
                      stacklevel=3)
    bias = _stored(group, "bias") / input_levels if "bias" in group else None
    delays = _stored(group, "delay") if "delay" in group and block.delay is not None else None
    set_block_parameters(block, stored, bias, delays)


def set_block_parameters(block: torch.nn.Module, weight: np.ndarray,
                         bias: np.ndarray | None = None, delays: np.ndarray | None = None
                         ) -> None:
    """Give ``block`` Loihi's integer ``weight`` (64 = 1.0, reshaped to the synapse's),
    ``bias`` (one per output channel or one for all, 64 = 1.0; the norm's running mean is
    ``-bias``) and ``delays`` (steps per neuron, clipped to NetX's 0..62; the block was built
    with ``delay=True``).

    Args:
        block: a SLAYER block with one synapse.
        weight: Loihi's integer weights (64 = 1.0), any shape with the synapse's size.
        bias: Loihi's integer biases, or None (the block's neuron then needs no norm).
        delays: axonal delays in steps, or None.

    Example:
        >>> from lava.lib.dl import slayer
        >>> block = slayer.block.cuba.Dense(cuba_params(64, 4096, 4096, False), 2, 1)
        >>> set_block_parameters(block, np.array([64, -32]))
        >>> block.synapse.weight.flatten().tolist()
        [1.0, -0.5]
    """
    synapse_weight = block.synapse.weight
    synapse_weight.data = torch.tensor(np.asarray(weight, dtype=np.float64) / WEIGHT_SCALE,
                                       dtype=synapse_weight.dtype).reshape(synapse_weight.shape)
    if bias is not None:
        channels = synapse_weight.shape[0]
        bias = np.broadcast_to(np.asarray(bias, dtype=np.float64).ravel(), (channels,))
        block.neuron.norm.num_features = channels
        block.neuron.norm.running_mean = torch.tensor(-bias / WEIGHT_SCALE, dtype=torch.float32)
    if delays is not None:
        delays = np.broadcast_to(np.asarray(delays, dtype=np.float64).ravel(),
                                 (synapse_weight.shape[0],))
        block.delay.delay.data = torch.tensor(np.clip(delays, 0, MAX_DELAY), dtype=torch.float32)
        block.delay.init = True


def create_input(group: h5py.Group, layer: NetxLayer, shape: tuple[int, ...],
                 input_levels: int = 1) -> torch.nn.Module | None:
    """An ``input`` layer: SLAYER's Input block with the file's neurons, weight and bias
    (64 = 1.0); None for a shape-only input group (no neurons).

    Args:
        group, layer, shape, input_levels: as for every importer (:data:`IMPORTERS`).

    Returns:
        The Input block, or None.

    Example:
        >>> create_input({"shape": (8,)}, None, (8,)) is None  # a shape-only group
        True
    """
    if "neuron" not in group:
        return None
    weight = float(_stored(group, "weight").ravel()[0]) / WEIGHT_SCALE \
        if "weight" in group else None
    bias = float(_stored(group, "bias").ravel()[0]) / WEIGHT_SCALE if "bias" in group else None
    return slayer.block.cuba.Input(_neuron_params(group, False, input_levels), weight=weight,
                                   bias=bias)


def create_flatten(group: h5py.Group, layer: NetxLayer, shape: tuple[int, ...],
                   input_levels: int = 1) -> torch.nn.Module | None:
    """A ``flatten`` layer: SLAYER's Flatten after a convolution, None after a vector.

    Args:
        group, layer, shape, input_levels: as for every importer (:data:`IMPORTERS`); only
            ``shape`` (channels, height, width or a vector) matters here.

    Returns:
        A Flatten block, or None for a vector input.

    Example:
        >>> type(create_flatten(None, None, (2, 4, 4))).__name__, create_flatten(None, None, (8,))
        ('Flatten', None)
    """
    return slayer.block.cuba.Flatten() if len(shape) == 3 else None


def create_dense(group: h5py.Group, layer: NetxLayer, shape: tuple[int, ...],
                 input_levels: int = 1) -> torch.nn.Module:
    """A ``dense`` layer: a CUBA Dense block with NetX's delays (:class:`NetxDense`) and the
    file's weights, bias and delays.

    Args:
        group, layer, shape, input_levels: as for every importer (:data:`IMPORTERS`).

    Returns:
        The NetxDense block.

    Example:
        >>> import tempfile; from lava.lib.dl import slayer; from netx_export import export_netx
        >>> from netx_export.netx_file import read_netx_file
        >>> dense = slayer.block.cuba.Dense(cuba_params(64, 1024, 128, False), 8, 4)
        >>> path = export_netx(torch.nn.Sequential(dense), tempfile.mkdtemp() + "/d.net")
        >>> layer = read_netx_file(path).layers[0]
        >>> with h5py.File(path) as handle:
        ...     imported = create_dense(handle[layer.name], layer, (8,))
        >>> tuple(imported.synapse.weight.shape[:2]), imported.neuron.threshold
        ((4, 8), 1.0)
    """
    block = NetxDense(_neuron_params(group, "bias" in group, input_levels),
                      math.prod(layer.inputs), layer.size, delay="delay" in group)
    _set_parameters(block, group, input_levels)
    return block


def create_conv(group: h5py.Group, layer: NetxLayer, shape: tuple[int, ...],
                input_levels: int = 1) -> torch.nn.Module:
    """A ``conv`` layer: the CUBA Conv block with the file's kernel, stride, padding,
    dilation, groups, weights and bias, which it returns.

    Args:
        group, layer, shape, input_levels: as for every importer (:data:`IMPORTERS`).

    Example (a file with a stride-2 convolution; :func:`load_netx` calls this per layer):
        >>> import tempfile; from lava.lib.dl import slayer; from netx_export import export_netx
        >>> conv = slayer.block.cuba.Conv(cuba_params(64, 4096, 4096, False), 2, 4, 3, stride=2)
        >>> path = export_netx(torch.nn.Sequential(conv), tempfile.mkdtemp() + "/c.net",
        ...                    input_shape=(2, 8, 8))
        >>> load_netx(path).blocks[-1].synapse.stride
        (2, 2, 1)
    """
    pairs = {key: tuple(np.broadcast_to(_stored(group, key).ravel(), (2,)).astype(int))
             for key in ("stride", "padding", "dilation")}
    block = slayer.block.cuba.Conv(
        _neuron_params(group, "bias" in group, input_levels), layer.inputs[0], layer.shape[0],
        kernel_size=tuple(group["weight"].shape[2:4]),
        groups=int(_stored(group, "groups").ravel()[0]), **pairs)
    _set_parameters(block, group, input_levels)
    return block


#: One importer per importable NetX layer type (``netx_file.IMPORTABLE_LAYERS``), as lava-dl's
#: NetX has one ``create_<type>`` per type: ``(group, layer, SLAYER input shape,
#: input_levels) -> SLAYER block or None``; ``input_levels``: the graded input's levels per
#: unit, for the file's first synapse layer (``export_netx(..., input_levels=)``).
IMPORTERS = {"input": create_input, "flatten": create_flatten, "dense": create_dense,
             "conv": create_conv}


def _block(group: h5py.Group, layer: NetxLayer, shape: tuple[int, ...], input_levels: int = 1
           ) -> torch.nn.Module | None:
    """The SLAYER block of one checked NetX layer whose SLAYER input has ``shape``, by its
    importer (:data:`IMPORTERS`); a clear error for a type load_netx does not import."""
    if layer.kind not in IMPORTABLE_LAYERS:
        raise ValueError(f"{layer.name} is a {layer.kind!r} layer; load_netx imports "
                         f"{', '.join(IMPORTABLE_LAYERS)} layers (run the file on Lava with "
                         "inspect instead)")
    return IMPORTERS[layer.kind](group, layer, shape, input_levels)


@torch.no_grad()
def load_netx(path: str | Path) -> NetxNetwork:
    """Build the lava-dl SLAYER network of the NetX file ``path``.

    Input (with neurons: weight and bias), Flatten, Dense (bias, axonal delays) and Conv
    (stride, padding, dilation, groups, bias) layers of CUBA or LOIHI neurons become CUBA blocks
    with the file's weights (stored / 64), biases, delays, thresholds (vThMant / 64) and decays
    (/ 4096) (a graded-input file's first layer: threshold and bias also divided by its
    ``input_levels``, so the network takes the values SLAYER trained on); layers NetX cannot run
    (a trailing ``average``) are left out and named in ``net.skipped``. The network is in eval
    mode, has run once on zeros (SLAYER knows its shapes) and matches Lava spike for spike under
    :func:`netx_export.verify`; :func:`netx_export.export_netx` writes the same weights and
    neuron parameters back.

    Args:
        path: the NetX HDF5 file (checked first, as by
            :func:`netx_export.netx_file.read_netx_file`).

    Returns:
        The :class:`NetxNetwork` (``blocks``, ``input_shape``, ``skipped``, ``source``).

    Example:
        >>> import tempfile, torch; from lava.lib.dl import slayer
        >>> from netx_export import export_netx
        >>> neuron = {"threshold": 1.0, "current_decay": 0.5, "voltage_decay": 0.25}
        >>> path = export_netx(torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4)),
        ...                    tempfile.mkdtemp() + "/net.net")
        >>> load_netx(path).blocks[0].neuron.threshold
        1.0
    """
    path = Path(path)
    netx = read_netx_file(path)
    check_allocation(netx.neurons * SLAYER_BYTES_PER_NEURON + netx.weights * 16,
                     f"{path}'s {netx.neurons} neurons and {netx.weights} weights in SLAYER",
                     "import a smaller network")
    with h5py.File(path, "r") as handle:
        shape, blocks, levels = netx.input_shape, [], netx.input_levels or 1
        for layer in netx.layers:
            block = _block(handle[layer.name], layer, shape, levels)
            if hasattr(block, "synapse"):  # graded input reaches the first synapse layer only
                levels = 1
            if block is not None:  # eval: a norm in training mode would move its mean
                blocks.append(block.eval())
                shape = tuple(block(torch.zeros(1, *shape, 2)).shape[1:-1])
    net = NetxNetwork(blocks, netx.input_shape, list(netx.skipped), path)
    return net.eval()
