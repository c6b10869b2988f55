"""Export SLAYER block networks to NetX HDF5, atomically and validated by loading them back."""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch

from lava_init.checks import check_allocation
from lava_init.files import atomic_write
from lava_init.records import input_levels_of
from lava_init.slayer_blocks import (
    block_kind,
    block_quantization,
    block_synapses,
    chain_blocks,
    eval_mode,
    is_memoryless,
    slayer_block_type,
    synapse_weight,
)
from lava_init.temporal import LAVA_CURRENT_LIMIT
from netx_export.netx_file import (
    EXPORTABLE_BLOCKS,
    INPUT_LEVELS_ATTRIBUTE,
    UNRUNNABLE_BLOCKS,
    read_netx_file,
)

#: Block types NetX 0.6.0 cannot load: those whose NetX layer it cannot create (its create_*
#: raise NotImplementedError; :data:`netx_export.netx_file.LAYER_TYPES`) and SLAYER-only ones.
UNSUPPORTED_BLOCKS = (*UNRUNNABLE_BLOCKS, "TimeDecimation", "KWTA")
#: Memory an export takes per parameter (the copy, its 8-bit and integer versions, HDF5 and
#: NetX's buffers) and per block (NetX's Lava process objects while the file is loaded back).
EXPORT_BYTES_PER_PARAMETER, EXPORT_BYTES_PER_BLOCK = 64, 4 << 20
#: Block types exported as they are (a row of the layer-type table each); everything else is
#: refused before writing.
SUPPORTED_BLOCKS = EXPORTABLE_BLOCKS


def check_exportable(name: str, block: torch.nn.Module) -> None:
    """Raise ValueError naming the block and the alternative when NetX cannot run it.

    Args:
        name: the block's name in its network, for the message.
        block: a SLAYER block; Pool, Average, ... blocks, ``shared_param=False`` neurons and
            synapses without ``pre_hook_fx`` are refused.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> params = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> check_exportable("blocks.0", cuba.Dense(params, 4, 2))  # exportable: returns None
        >>> check_exportable("blocks.1", cuba.Pool(params, 2))
        Traceback (most recent call last):
        ValueError: block 'blocks.1' (cuba.Pool) cannot be loaded by NetX 0.6.0 (Pool is not ...
    """
    kind = block_kind(block)
    slayer_type = slayer_block_type(block)
    if slayer_type in UNSUPPORTED_BLOCKS:
        raise ValueError(
            f"block {name!r} ({kind}) cannot be loaded by NetX 0.6.0 ({slayer_type} is not "
            "implemented there); replace it with a strided convolution, e.g. "
            "cuba.Conv(neuron_params, c, c, kernel_size=2, stride=2)"
        )
    if slayer_type not in SUPPORTED_BLOCKS:
        raise ValueError(
            f"block {name!r} ({kind}) is not a block NetX 0.6.0 can load; use "
            f"{', '.join(SUPPORTED_BLOCKS)} blocks from lava.lib.dl.slayer.block"
        )
    neuron = getattr(block, "neuron", None)
    if neuron is not None and getattr(neuron, "shared_param", True) is False:
        raise ValueError(
            f"block {name!r} ({kind}) has shared_param=False (one decay per channel); NetX "
            "0.6.0 fails on it with IndexError. Build the block with shared_param=True"
        )
    for synapse in block_synapses(block):
        if synapse.pre_hook_fx is None:
            raise ValueError(
                f"block {name!r} ({kind}) was built with pre_hook_fx=None, so its weights are "
                "not quantized to 8 bits and SLAYER cannot export them; build it without the "
                "pre_hook_fx argument (the default is neuron.quantize_8bit)"
            )


def _weight_warnings(name: str, block: torch.nn.Module, limit: float = LAVA_CURRENT_LIMIT
                     ) -> list[str]:
    """Warnings about weights clipped to 8 bits and currents that may pass Lava's 24-bit
    register, whose limit is ``limit`` in SLAYER units (the first layer of graded input:
    the limit / input_levels, see lava_init.slayer_blocks.LavaCurrentWrap)."""
    messages = []
    neuron = block.neuron
    grid = block_quantization(block)
    high, low = grid.high, grid.low
    worst_input = 0.0
    for synapse in block_synapses(block):
        weight = synapse_weight(synapse).detach()
        outside = float(((weight > high) | (weight < low)).float().mean())
        if outside > 0:
            messages.append(
                f"block {name!r}: {outside:.1%} of weights lie outside the 8-bit range "
                f"[{low:g}, {high:g}] and are clipped on export (Lava sees the clipped values)"
            )
        quantized = synapse.pre_hook_fx(weight).flatten(1).abs().sum(dim=1)
        worst_input += float(quantized.max())
    current_decay = float(neuron.current_decay.max()) / neuron.p_scale
    worst_current = worst_input / current_decay if current_decay > 0 else math.inf
    if worst_current >= limit:
        messages.append(
            f"block {name!r}: the synaptic current can reach {worst_current:.4g} (all inputs "
            f"at 1, current decay {current_decay:g}); Lava's 24-bit current wraps at "
            f"+-{limit:g}, SLAYER does not unless the block models it (LavaCurrentWrap). Use "
            "smaller weights or a larger current decay"
        )
    return messages


def _dummy_input(name: str, block: torch.nn.Module, input_shape: Sequence[int] | None):
    if input_shape is not None:
        return tuple(int(n) for n in input_shape)
    synapses = block_synapses(block)
    if slayer_block_type(block) in ("Dense", "Recurrent") and synapses:
        return (int(synapses[0].in_channels),)
    neuron = getattr(block, "neuron", None)
    if slayer_block_type(block) == "Input" and neuron is not None and neuron.shape is not None:
        return tuple(int(n) for n in neuron.shape)
    raise ValueError(
        f"cannot tell the input shape of the first block {name!r} ({block_kind(block)}); "
        "pass input_shape=(channels, height, width) (one sample, no batch or time axis)"
    )


@torch.no_grad()
def _run_once(blocks: list[tuple[str, torch.nn.Module]], input_shape: tuple[int, ...]) -> None:
    """One forward pass of zeros in eval mode: SLAYER learns its neuron shapes from it."""
    device = next((p.device for _, b in blocks for p in b.parameters()), torch.device("cpu"))
    spikes = torch.zeros(1, *input_shape, 2, device=device)
    for name, block in blocks:
        try:
            spikes = block(spikes)
        except (RuntimeError, AssertionError) as error:
            raise ValueError(
                f"block {name!r} ({block_kind(block)}) does not accept the output of the block "
                f"before it (input shape {tuple(spikes.shape[1:-1])}): {error}. Export needs "
                "the blocks to form a chain; check input_shape"
            ) from None
        if isinstance(spikes, tuple):  # count_log=True returns (spikes, rate)
            spikes = spikes[0]


def _check_input_levels(levels: int | None, blocks: list[tuple[str, torch.nn.Module]]
                        ) -> int | None:
    if levels is None:
        return None
    if isinstance(levels, bool) or int(levels) != levels or not 1 <= levels <= 1024:
        raise ValueError(f"input_levels must be an integer in 1..1024 (got {levels!r}); 16 "
                         "sends graded values on the 1/16 grid")
    name, block = blocks[0]
    if slayer_block_type(block) not in ("Dense", "Conv"):
        raise ValueError(f"graded input needs a Dense or Conv first block to take it; "
                         f"{name!r} is {block_kind(block)}")
    if not is_memoryless(block):
        raise ValueError(f"graded input is exact on Lava only into a memoryless first block "
                         f"(current and voltage decay 1); {name!r} integrates, and Lava rounds "
                         "its decays at a scale input_levels times finer than SLAYER. Feed it "
                         "spikes, or graded values through an Input block")
    return int(levels)


def _scale_first_layer(group: h5py.Group, levels: int) -> None:
    """The first layer in units of ``1 / levels`` input: messages of ``value * levels`` times
    the integer weights give ``levels`` times SLAYER's current, so the threshold and bias are
    ``levels`` times theirs as well."""
    for key in ("neuron/vThMant", "bias"):
        if key in group:
            value = np.asarray(group[key][()]) * levels
            del group[key]
            group.create_dataset(key, data=value)


def _write_hdf5(
    path: Path, blocks: list[tuple[str, torch.nn.Module]], input_shape: tuple[int, ...],
    input_levels: int | None = None,
) -> None:
    with h5py.File(path, "w") as handle:
        offset = 0
        if slayer_block_type(blocks[0][1]) in ("Conv", "Flatten"):
            # NetX needs the input size of a convolution (or flatten); a shape-only input
            # group gives it.
            group = handle.create_group("layer/0")
            group.create_dataset("type", (1,), "S10", [b"input"])
            group.create_dataset("shape", data=np.array(input_shape))
            offset = 1
        for index, (_, block) in enumerate(blocks):
            group = handle.create_group(f"layer/{index + offset}")
            block.export_hdf5(group)
            _broadcast_scalar_bias(group)
        if input_levels is not None:
            _scale_first_layer(handle[f"layer/{offset}"], input_levels)
            handle.attrs[INPUT_LEVELS_ATTRIBUTE] = input_levels


def _broadcast_scalar_bias(group: h5py.Group) -> None:
    """One bias per channel: a norm that never saw data has a single running mean, which NetX
    cannot broadcast to a Conv layer ("Bias of shape (1,) could not be broadcast"). An Input
    layer's bias is its scalar input transform and stays one value (NetX reads it with int())."""
    if "bias" not in group or group["bias"].size != 1 or group["type"][0] == b"input":
        return
    channels = int(np.atleast_1d(group["shape"][()])[0])
    value = group["bias"][()].ravel()[0]
    del group["bias"]
    group.create_dataset("bias", data=np.full(channels, value))


def _validate(path: Path) -> None:
    """Check ``path`` (:func:`~netx_export.netx_file.read_netx_file`), load it with NetX and
    close it again; ValueError with the reason on failure."""
    from lava.lib.dl.netx import hdf5

    try:
        read_netx_file(path)
    except ValueError as error:
        raise ValueError(f"the exported network is not a valid NetX file ({error}); the file "
                         "was not written") from None
    try:
        network = hdf5.Network(net_config=str(path))
    except Exception as error:
        raise ValueError(
            f"NetX could not load the exported network ({type(error).__name__}: {error}); "
            "the file was not written"
        ) from None
    network.net_config.f.close()


def _check_blocks(blocks: list[tuple[str, torch.nn.Module]], input_levels: int | None
                  ) -> int | None:
    """ValueError, before anything is copied, for a block NetX cannot load, bad
    ``input_levels`` or an export that would not fit in memory; the input levels checked."""
    for name, block in blocks:
        check_exportable(name, block)
    levels = _check_input_levels(input_levels, blocks)
    parameters = sum(p.numel() for _, block in blocks for p in block.parameters())
    check_allocation(EXPORT_BYTES_PER_PARAMETER * parameters + EXPORT_BYTES_PER_BLOCK
                     * len(blocks), f"exporting {len(blocks)} blocks with {parameters} "
                     "parameters", "export a smaller network")
    return levels


def export_netx(
    net: torch.nn.Module,
    path: str | Path,
    input_shape: Sequence[int] | None = None,
    input_levels: int | None = None,
) -> Path:
    """Write ``net`` as a NetX HDF5 file at ``path`` and return the path.

    The net is run once on zeros (eval mode, no gradients) so SLAYER knows its neuron shapes;
    its modes, weights and weight normalization are left as they were (a copy is exported).
    The file is written to a temp file in the same folder, loaded back with
    ``lava.lib.dl.netx.hdf5.Network`` and only then renamed over ``path``, so an open NetX
    network on the old file keeps working and a failed export leaves the old file intact. A
    Conv-first or Flatten-first net gets a shape-only ``input`` group at ``layer/0``;
    otherwise ``layer/{i}`` is block ``i``.

    Args:
        net: a chain of lava-dl SLAYER blocks (``net.blocks`` or its outermost blocks).
        path: the ``.net`` file to write.
        input_shape: one sample's shape without batch and time, ``(features,)`` or
            ``(channels, height, width)``; needed when the first block is a Conv.
        input_levels: the first (Dense or Conv) block takes graded values on the
            ``1 / input_levels`` grid (e.g. :func:`lava_init.encoding.ramp_encode`'s) instead
            of binary spikes: Lava sends them as integer messages ``value * input_levels``,
            and the first layer's threshold and bias are written ``input_levels`` times
            larger, so that it spikes exactly where SLAYER's does. Default: what the net's
            ``input_contract`` (:class:`lava_init.records.InputContract`) says; None there:
            spikes. The file's root attribute
            ``input_levels`` says so; :func:`netx_export.run_lava` reads it.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    >>> import tempfile, torch; from lava.lib.dl import slayer
    >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4))
    >>> path = export_netx(net, tempfile.mkdtemp() + "/net.net")
    >>> [kind for _, kind, _ in netx_layers(path)]
    ['dense']
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the .net file to write")
    blocks = chain_blocks(net)
    levels = _check_blocks(blocks, input_levels if input_levels is not None
                           else input_levels_of(net))
    shape = _dummy_input(*blocks[0], input_shape)
    with eval_mode(net):
        _run_once(blocks, shape)
    for index, (name, block) in enumerate(blocks):
        if block_synapses(block):
            limit = LAVA_CURRENT_LIMIT / (levels if levels and index == 0 else 1)
            for message in _weight_warnings(name, block, limit):
                warnings.warn(message, stacklevel=2)
    exported = [(name, copy.deepcopy(block)) for name, block in blocks]

    def write_and_validate(temp: str) -> None:
        _write_hdf5(Path(temp), exported, shape, levels)
        _validate(Path(temp))

    size = sum(8 * p.numel() for _, block in exported for p in block.parameters()) + (64 << 10)
    return atomic_write(path, write_and_validate, size)


def netx_layers(path: str | Path) -> list[tuple[int, str, tuple[int, ...]]]:
    """``(index, type, shape)`` of each ``layer/{i}`` group in a NetX file (shape as stored,
    SLAYER's channels-first order).

    Args:
        path: the NetX file; FileNotFoundError when missing, ValueError when not a NetX file.

    Returns:
        One tuple per layer group, unchecked (:func:`netx_export.netx_file.read_netx_file`
        checks them).

    Example:
        >>> import tempfile; from lava.lib.dl.slayer.block import cuba
        >>> lif = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.5}
        >>> net = torch.nn.Sequential(cuba.Dense(lif, 6, 5), cuba.Dense(lif, 5, 4))
        >>> netx_layers(export_netx(net, tempfile.mkdtemp() + "/two.net"))
        [(0, 'dense', (5,)), (1, 'dense', (4,))]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NetX network at {path}; write one with 'lava-init export'")
    try:
        with h5py.File(path, "r") as handle:
            layers = handle["layer"]
            return [(index, layers[f"{index}/type"][0].decode("ascii"),
                     tuple(int(n) for n in np.atleast_1d(layers[f"{index}/shape"][()])))
                    for index in range(len(layers))]
    except (OSError, KeyError) as error:
        raise ValueError(f"{path} is not a NetX network file ({error})") from None
