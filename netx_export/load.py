"""Import a NetX HDF5 network into lava-dl SLAYER: the same CUBA blocks, weights, biases,
delays and neuron parameters, so that SLAYER reproduces Lava spike for spike."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import h5py
import numpy as np
import torch
from lava.lib.dl import slayer
from lava.lib.dl.slayer.block.base import step_delay

from lava_init.checks import check_allocation
from lava_init.quantization import DECAY_SCALE
from netx_export.netx_file import NetxLayer, read_netx_file

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
    return step_delay(block, spikes) if block.delay_shift is True else spikes


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
    params = {"threshold": int(config["vThMant"]) / WEIGHT_SCALE / input_levels,
              "current_decay": int(config["iDecay"]) / DECAY_SCALE,
              "voltage_decay": int(config["vDecay"]) / DECAY_SCALE}
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
    weight = block.synapse.weight
    weight.data = torch.tensor(stored / WEIGHT_SCALE, dtype=weight.dtype).reshape(weight.shape)
    if "bias" in group:
        bias = np.broadcast_to(_stored(group, "bias").ravel(), (weight.shape[0],))
        block.neuron.norm.num_features = weight.shape[0]
        block.neuron.norm.running_mean = torch.tensor(-bias / WEIGHT_SCALE / input_levels,
                                                      dtype=torch.float32)
    if "delay" in group and block.delay is not None:
        delay = np.broadcast_to(_stored(group, "delay").ravel(), (weight.shape[0],))
        block.delay.delay.data = torch.tensor(np.clip(delay, 0, 62), dtype=torch.float32)
        block.delay.init = True


def _block(group: h5py.Group, layer: NetxLayer, shape: tuple[int, ...], input_levels: int = 1
           ) -> torch.nn.Module | None:
    """The SLAYER block of one checked NetX layer (``layer``: its kind and shapes) whose
    SLAYER input has ``shape``; None for a shape-only input group and a flatten of a vector.
    ``input_levels``: the graded input's levels per unit, for the
    file's first synapse layer (``export_netx(..., input_levels=)``)."""
    kind = layer.kind
    params = None if kind == "flatten" or (kind == "input" and "neuron" not in group) else \
        _neuron_params(group, "bias" in group and kind != "input", input_levels)
    if kind == "input":
        if params is None:
            return None
        weight = float(_stored(group, "weight").ravel()[0]) / WEIGHT_SCALE \
            if "weight" in group else None
        bias = float(_stored(group, "bias").ravel()[0]) / WEIGHT_SCALE if "bias" in group else None
        return slayer.block.cuba.Input(params, weight=weight, bias=bias)
    if kind == "flatten":
        return slayer.block.cuba.Flatten() if len(shape) == 3 else None
    if kind == "dense":
        block = NetxDense(params, math.prod(layer.inputs), layer.size, delay="delay" in group)
    elif kind == "conv":
        weight_shape = group["weight"].shape
        pairs = {key: tuple(np.broadcast_to(_stored(group, key).ravel(), (2,)).astype(int))
                 for key in ("stride", "padding", "dilation")}
        block = slayer.block.cuba.Conv(
            params, layer.inputs[0], layer.shape[0], kernel_size=tuple(weight_shape[2:4]),
            groups=int(_stored(group, "groups").ravel()[0]), **pairs)
    else:
        raise ValueError(f"{layer.name} is a {kind!r} layer; load_netx imports input, flatten, "
                         "dense and conv layers (run the file on Lava with inspect instead)")
    _set_parameters(block, group, input_levels)
    return block


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
