"""A NetX file checked before NetX or Lava sees it, and the table of NetX layer types.

:func:`read_netx_file` opens a file once, refuses anything that is not self-contained
(external links, soft links, external raw storage, virtual datasets, datasets that declare far
more values than the file stores) and checks every field of every layer NetX would create:
present, numbers where numbers belong, of the right shape, finite, whole where Loihi takes
integers and in Loihi's ranges; the layers must chain (each one's weights fit the neurons
before it). A problem is one line naming the layer, the field, what was found and what is
valid (:class:`NetxFileError`, a ValueError). The result, a :class:`NetxFile`, says what NetX
builds from the file: its layers, neurons and input.

One row of :data:`LAYER_TYPES` per NetX layer type: whether NetX 0.6.0 creates it, whether it
becomes a Lava layer with neurons, and how its fields are checked and its output shape found.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

#: Root attribute of a NetX file whose first layer takes graded input: its levels per unit
#: (messages of ``value * levels``; ``export_netx(..., input_levels=)``).
INPUT_LEVELS_ATTRIBUTE = "input_levels"
#: Largest ``input_levels`` (graded messages up to 11 bits).
MAX_INPUT_LEVELS = 1024
#: Loihi 2's 24-bit voltage holds thresholds and biases up to 2**17 (their mantissa << 6).
MAX_MANTISSA = 1 << 17
#: Decays are 12-bit fractions of 4096.
DECAY_UNIT = 4096
#: Weights NetX maps onto Loihi's 8-bit synapses (beyond them it clips).
WEIGHT_RANGE = (-256, 255)
#: Axonal delays Loihi 2 holds (NetX clips larger ones).
MAX_DELAY = 62
#: A dataset may declare this many times the bytes the file stores for it (plus the margin):
#: real compressed weights stay below, a small file declaring a huge dataset does not.
EXPANSION_FACTOR = 64
EXPANSION_MARGIN = 1 << 20
#: Neurons a file may declare per byte it holds (plus the margin): a convolution's neurons
#: outnumber its weights, but a small file declaring a giant layer is refused before anything
#: is allocated for it (PilotNet: 0.1 neurons per byte; 10 convolutions of 16 channels on
#: 128 x 128: about 14).
NEURONS_PER_FILE_BYTE, NEURON_MARGIN = 256, 1_000_000
#: Nesting deeper than NetX's ``layer/i/neuron/field`` (plus margin) is refused.
MAX_DEPTH = 6

Shape = tuple[int, ...]


class NetxFileError(ValueError):
    """A NetX file that must not reach NetX or Lava; ``str()`` is one line."""


@dataclass(frozen=True)
class Rule:
    """One numeric field of a layer (``key`` relative to the layer group): whole numbers in
    ``[low, high]``, one value (``scalar``) or any shape, ``required`` or optional."""

    key: str
    low: float
    high: float
    required: bool = True
    integer: bool = True
    scalar: bool = True

    def valid(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        if not self.scalar:
            kind = kind.replace("a ", "") + "s"
        return f"{kind} in [{self.low:g}, {self.high:g}]"


_LIF_RULES = (Rule("vThMant", 1, MAX_MANTISSA), Rule("iDecay", 0, DECAY_UNIT),
              Rule("vDecay", 0, DECAY_UNIT), Rule("refDelay", 0, 2**16, required=False))
#: Neuron types NetX creates and the fields it reads from each (``RF`` types share a row).
NEURON_RULES: dict[str, tuple[Rule, ...]] = {
    "CUBA": _LIF_RULES,
    "LOIHI": _LIF_RULES,
    "SDNN": (Rule("vThMant", 0, MAX_MANTISSA),),
    "RF": (Rule("vThMant", 0, MAX_MANTISSA),),
}


@dataclass(frozen=True)
class NetxLayer:
    """One ``layer/{index}`` group as NetX builds it: ``kind`` (its type), ``shape`` (its
    output, SLAYER's channels-first order), ``has_neurons`` (a Lava layer with neurons or
    not), ``inputs`` (the shape that reaches it; None for the first layer)."""

    index: int
    kind: str
    shape: Shape
    has_neurons: bool
    inputs: Shape | None = None

    @property
    def name(self) -> str:
        return f"layer/{self.index}"

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class NetxFile:
    """What NetX builds from a checked file: ``layers`` up to the first type NetX cannot
    create, ``skipped`` ``(name, type)`` from it on, ``input_shape`` one sample's input
    (SLAYER order), ``input_levels`` (graded input) or None, ``weights`` the values of all
    synapse datasets, ``layer_count`` the file's layer groups."""

    path: Path
    layers: tuple[NetxLayer, ...]
    skipped: tuple[tuple[str, str], ...]
    input_shape: Shape
    input_levels: int | None
    weights: int
    layer_count: int

    @property
    def lava_layers(self) -> tuple[NetxLayer, ...]:
        """The layers that become Lava layers with neurons."""
        return tuple(layer for layer in self.layers if layer.has_neurons)

    @property
    def neurons(self) -> int:
        return sum(layer.size for layer in self.lava_layers)

    @property
    def created_layers(self) -> int:
        """The file layers NetX creates (those before the first skipped one)."""
        return self.layer_count - len(self.skipped)


@dataclass
class _Reader:
    """Reads one layer group's fields, naming the layer in every problem."""

    group: h5py.Group
    name: str
    weights: list[int] = field(default_factory=list)
    inputs: Shape | None = None

    def fail(self, key: str, found: str, valid: str) -> NetxFileError:
        return NetxFileError(f"{self.name} field {key}: found {found}; valid: {valid}")

    def has(self, key: str) -> bool:
        return key in self.group

    def numbers(self, key: str, valid: str) -> np.ndarray:
        """The field's values as float64; a problem unless it is a dataset of numbers."""
        if key not in self.group:
            raise self.fail(key, "nothing (the field is missing)", valid)
        item = self.group[key]
        if not isinstance(item, h5py.Dataset) or item.shape is None:
            raise self.fail(key, "a group" if isinstance(item, h5py.Group) else "no data",
                            valid)
        if item.dtype.kind not in "biuf":
            text = item.dtype.kind in "SU" or h5py.check_string_dtype(item.dtype) is not None
            raise self.fail(key, "text" if text else f"values of type {item.dtype}", valid)
        return np.asarray(item[()], dtype=np.float64)

    def check(self, rule: Rule) -> np.ndarray | None:
        """The field checked against ``rule``; None for a missing optional field."""
        if not rule.required and rule.key not in self.group:
            return None
        values = self.numbers(rule.key, rule.valid())
        if rule.scalar and values.size != 1:
            raise self.fail(rule.key, f"{values.size} values of shape {values.shape}",
                            f"one value, {rule.valid()}")
        bad = ~np.isfinite(values) | (values < rule.low) | (values > rule.high)
        if rule.integer:
            bad |= np.isfinite(values) & (values != np.round(values))
        if bad.any():
            raise self.fail(rule.key, _describe(values[bad]), rule.valid())
        return values

    def text(self, key: str, valid: str) -> str:
        """A string field (fixed-length or variable-length, scalar or of one element)."""
        item = self.group.get(key)
        if not isinstance(item, h5py.Dataset) or item.shape not in ((), (1,)) or not (
                item.dtype.kind == "S" or h5py.check_string_dtype(item.dtype) is not None):
            found = "nothing (the field is missing)" if item is None else \
                f"{'a group' if isinstance(item, h5py.Group) else f'{item.dtype} data'}"
            raise self.fail(key, found, valid)
        value = item[()] if item.shape == () else item[0]
        return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)

    def shape(self, key: str = "shape", dims: tuple[int, ...] = (1, 3)) -> Shape:
        values = self.check(Rule(key, 1, 2**31 - 1, scalar=False))
        if values.ndim > 1 or values.size not in dims:
            raise self.fail(key, f"shape {values.shape}",
                            f"{' or '.join(map(str, dims))} positive whole numbers")
        return tuple(int(n) for n in np.atleast_1d(values))

    def agree(self, key: str, expected: int) -> None:
        """An optional size field (``inFeatures``, ``outChannels``, ...) equals ``expected``."""
        if self.has(key):
            value = self.check(Rule(key, 0, 2**31 - 1))
            if int(value.ravel()[0]) != expected:
                raise self.fail(key, f"{int(value.ravel()[0])}", f"{expected}, the size the "
                                "weights and the layers around it give")


def _describe(values: np.ndarray) -> str:
    """The offending values in a few words: the first one and how many there are."""
    first = values.ravel()[0]
    shown = "NaN" if np.isnan(first) else f"{first:g}"
    return shown if values.size == 1 else f"{shown} (and {values.size - 1} more bad values)"


def _neuron(reader: _Reader) -> bool:
    """Check the layer's ``neuron`` group (if any) against its type's rules; True if any."""
    if "neuron" not in reader.group:
        return False
    neuron = reader.group["neuron"]
    valid = f"a group with a type, one of {', '.join(NEURON_RULES)}"
    if not isinstance(neuron, h5py.Group):
        raise reader.fail("neuron", "a dataset", valid)
    inner = _Reader(neuron, f"{reader.name}/neuron")
    kind = inner.text("type", f"one of {', '.join(NEURON_RULES)}")
    rules = NEURON_RULES.get("RF" if "RF" in kind else kind)
    if rules is None:
        raise inner.fail("type", repr(kind), f"one of {', '.join(NEURON_RULES)}")
    for rule in rules:
        inner.check(rule)
    return True


def _synapse(reader: _Reader, key: str, rows: int, columns: int | None) -> int:
    """Check the weight field ``key``: (rows, columns) whole numbers in the 8-bit range (one
    row or column may be stored flat, as NetX reshapes it); returns the columns."""
    values = reader.check(Rule(key, *WEIGHT_RANGE, scalar=False))
    shape = values.shape
    if values.ndim == 1 and (rows == 1 or columns == 1):
        shape = (rows, values.size // rows) if values.size % rows == 0 else shape
    expected = f"({rows}, {columns if columns is not None else 'inputs'})"
    if len(shape) != 2 or shape[0] != rows or (columns is not None and shape[1] != columns):
        raise reader.fail(key, f"shape {values.shape}", f"shape {expected}: one row per "
                          "neuron, one column per input (NetX does not guess a transpose)")
    reader.weights.append(values.size)
    return shape[1]


def _per_neuron(reader: _Reader, rule: Rule, sizes: tuple[int, ...]) -> None:
    """An optional per-neuron field (bias, delay): one value or one per neuron."""
    values = reader.check(rule)
    if values is not None and values.size not in (1, *sizes):
        raise reader.fail(rule.key, f"{values.size} values",
                          f"1 or {' or '.join(map(str, sizes))} values")


_BIAS = Rule("bias", -MAX_MANTISSA, MAX_MANTISSA, required=False, scalar=False)
_DELAY = Rule("delay", 0, MAX_DELAY, required=False, scalar=False)


def _input_layer(reader: _Reader, previous: Shape | None) -> Shape:
    shape = reader.shape()
    if _neuron(reader):
        reader.check(Rule("weight", -MAX_MANTISSA, MAX_MANTISSA, required=False))
        reader.check(Rule("bias", -MAX_MANTISSA, MAX_MANTISSA, required=False))
    return shape


def _flatten_layer(reader: _Reader, previous: Shape | None) -> Shape | None:
    return None if previous is None else (math.prod(previous),)


def _dense_layer(reader: _Reader, previous: Shape | None, keys=("weight",)) -> Shape:
    out = math.prod(reader.shape())
    _neuron(reader)
    columns = None if previous is None else math.prod(previous)
    for key in keys:
        columns = _synapse(reader, key, out, columns)
    reader.inputs = (columns,)
    if reader.has("weight_rec"):
        _synapse(reader, "weight_rec", out, out)
    reader.agree("inFeatures", columns)
    reader.agree("outFeatures", out)
    _per_neuron(reader, _BIAS, (out,))
    _per_neuron(reader, _DELAY, (out, columns))
    return (out,)


def _dense_rec_layer(reader: _Reader, previous: Shape | None) -> Shape:
    if not reader.has("weight_rec"):
        reader.numbers("weight_rec", "the recurrent weights, (neurons, neurons)")
    return _dense_layer(reader, previous)


def _dense_complex_layer(reader: _Reader, previous: Shape | None) -> Shape:
    return _dense_layer(reader, previous, keys=("weight/real", "weight/imag"))


def _pair(reader: _Reader, key: str, low: int) -> tuple[int, int]:
    """A convolution's (height, width) parameter, stored as one or two whole numbers."""
    values = reader.check(Rule(key, low, 2**16, scalar=False))
    if values.size not in (1, 2):
        raise reader.fail(key, f"{values.size} values", "1 or 2 whole numbers")
    values = np.broadcast_to(values.ravel(), (2,))
    return int(values[0]), int(values[1])


def _conv_layer(reader: _Reader, previous: Shape | None) -> Shape:
    if previous is None or len(previous) != 3:
        raise reader.fail("type", "a conv layer with no (channels, height, width) before it",
                          "an input layer with the image's shape first (export_netx writes "
                          "one)")
    shape = reader.shape(dims=(3,))
    _neuron(reader)
    groups = int(reader.check(Rule("groups", 1, 2**16)).ravel()[0])
    weights = reader.numbers("weight", "(out, in / groups, height, width) whole numbers")
    kernel_shape = weights.shape[:4] if weights.ndim == 5 and weights.shape[4] == 1 \
        else weights.shape
    expected = (shape[0], previous[0] // groups)
    if len(kernel_shape) != 4 or kernel_shape[:2] != expected or previous[0] % groups:
        raise reader.fail("weight", f"shape {weights.shape}", f"({expected[0]}, "
                          f"{previous[0]} / {groups}, kernel height, kernel width)")
    reader.check(Rule("weight", *WEIGHT_RANGE, scalar=False))
    reader.weights.append(weights.size)
    kernel = kernel_shape[2:]
    stride, padding, dilation = (_pair(reader, "stride", 1), _pair(reader, "padding", 0),
                                 _pair(reader, "dilation", 1))
    size = tuple((previous[1 + axis] + 2 * padding[axis] - dilation[axis] * (kernel[axis] - 1)
                  - 1) // stride[axis] + 1 for axis in (0, 1))
    if shape[1:] != size:
        raise reader.fail("shape", str(shape), f"({shape[0]}, {size[0]}, {size[1]}): the "
                          f"output of a {kernel} kernel on {previous}")
    reader.agree("inChannels", previous[0])
    reader.agree("outChannels", shape[0])
    _per_neuron(reader, _BIAS, (shape[0],))
    return shape


@dataclass(frozen=True)
class LayerType:
    """One NetX layer type: ``created`` by NetX 0.6.0 (else it and what follows are skipped),
    ``neurons``: a Lava layer with neurons (an ``input`` one only with a neuron group);
    ``block``: the lava-dl SLAYER block type (``slayer_blocks.slayer_block_type``) exported as
    this type, None for none; ``importable``: :func:`netx_export.load_netx` builds that block
    from it (its importer: ``netx_export.load.IMPORTERS``); ``check(reader, input_shape) ->
    output shape``."""

    created: bool = True
    neurons: bool = False
    block: str | None = None
    importable: bool = False
    check: Callable[[_Reader, Shape | None], Shape | None] | None = None


#: Every NetX layer type, one row each.
LAYER_TYPES: dict[str, LayerType] = {
    "input": LayerType(block="Input", importable=True, check=_input_layer),
    "flatten": LayerType(block="Flatten", importable=True, check=_flatten_layer),
    "dense": LayerType(neurons=True, block="Dense", importable=True, check=_dense_layer),
    "dense_rec": LayerType(neurons=True, block="Recurrent", check=_dense_rec_layer),
    "dense_comp": LayerType(neurons=True, check=_dense_complex_layer),
    "conv": LayerType(neurons=True, block="Conv", importable=True, check=_conv_layer),
    "average": LayerType(created=False, block="Average"),
    "pool": LayerType(created=False, block="Pool"),
    "convT": LayerType(created=False, block="ConvT"),
    "unpool": LayerType(created=False, block="Unpool"),
    "concat": LayerType(created=False),
}
#: SLAYER block types exported as a NetX layer NetX 0.6.0 creates, in table order.
EXPORTABLE_BLOCKS = tuple(row.block for row in LAYER_TYPES.values() if row.created and row.block)
#: SLAYER block types whose NetX layer NetX 0.6.0 cannot create.
UNRUNNABLE_BLOCKS = tuple(row.block for row in LAYER_TYPES.values()
                          if not row.created and row.block)
#: NetX layer types :func:`netx_export.load_netx` imports.
IMPORTABLE_LAYERS = tuple(kind for kind, row in LAYER_TYPES.items() if row.importable)


def _self_contained(group: h5py.Group, depth: int = 0) -> None:
    """Refuse links out of the file, external raw storage, virtual datasets and datasets
    that declare far more data than the file stores, anywhere under ``group``."""
    for name in group:
        where = f"{group.name.rstrip('/')}/{name}"
        link = group.get(name, getlink=True)
        if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
            target = getattr(link, "filename", None) or link.path
            raise NetxFileError(f"{where} is a link to {target}; a NetX file must be "
                                "self-contained (copy the data into the file)")
        item = group[name]
        if isinstance(item, h5py.Group):
            if depth >= MAX_DEPTH:
                raise NetxFileError(f"{where} is nested {depth + 1} groups deep; NetX files "
                                    "nest layer/i/neuron/field")
            _self_contained(item, depth + 1)
            continue
        if item.is_virtual or item.external:
            source = "a virtual dataset" if item.is_virtual else \
                f"stored in another file ({item.external[0][0]})"
            raise NetxFileError(f"{where} is {source}; a NetX file must be self-contained "
                                "(copy the data into the file)")
        declared = (item.size or 0) * item.dtype.itemsize
        if declared > EXPANSION_FACTOR * item.id.get_storage_size() + EXPANSION_MARGIN:
            raise NetxFileError(f"{where} declares {item.size} values but the file stores "
                                f"only {item.id.get_storage_size()} bytes of them; write the "
                                "data into the file")


def _input_levels(handle: h5py.File) -> int | None:
    if INPUT_LEVELS_ATTRIBUTE not in handle.attrs:
        return None
    value = np.asarray(handle.attrs[INPUT_LEVELS_ATTRIBUTE])
    valid = f"one whole number in [1, {MAX_INPUT_LEVELS}] (export_netx's input_levels)"
    if value.dtype.kind not in "iuf" or value.size != 1 or not np.isfinite(value).all() or \
            value.ravel()[0] != round(float(value.ravel()[0])) or \
            not 1 <= value.ravel()[0] <= MAX_INPUT_LEVELS:
        raise NetxFileError(f"root attribute {INPUT_LEVELS_ATTRIBUTE}: found "
                            f"{value.tolist()!r}; valid: {valid}")
    return int(value.ravel()[0])


def _layer_groups(handle: h5py.File) -> list[h5py.Group]:
    layers = handle.get("layer")
    if not isinstance(layers, h5py.Group) or len(layers) == 0:
        raise NetxFileError("the file has no layer group with layers; write it with "
                            "export_netx")
    names = sorted(layers)
    if names != sorted(str(i) for i in range(len(layers))):
        raise NetxFileError(f"layer/ holds {', '.join(names[:5])}...; valid: groups 0 .. "
                            f"{len(layers) - 1}, one per layer")
    groups = [layers[str(i)] for i in range(len(layers))]
    for index, group in enumerate(groups):
        if not isinstance(group, h5py.Group):
            raise NetxFileError(f"layer/{index} is a dataset; valid: a group of fields")
    return groups


def _check_layers(groups: list[h5py.Group]) -> tuple[list[NetxLayer], list, list[int]]:
    """Each layer's type and fields, chained; stops at the first type NetX cannot create."""
    layers, skipped, weights, previous = [], [], [], None
    valid_types = f"one of {', '.join(LAYER_TYPES)}"
    for index, group in enumerate(groups):
        reader = _Reader(group, f"layer/{index}", weights)
        kind = reader.text("type", valid_types)
        if kind not in LAYER_TYPES:
            raise reader.fail("type", repr(kind), valid_types)
        if skipped or not LAYER_TYPES[kind].created:
            skipped.append((reader.name, kind))
            continue
        row = LAYER_TYPES[kind]
        shape = row.check(reader, previous)
        neurons = row.neurons or (kind == "input" and "neuron" in group)
        if kind == "input" and index > 0:
            raise reader.fail("type", "an input layer after the first", "input first only")
        if shape is not None:
            layers.append(NetxLayer(index, kind, shape, neurons, reader.inputs or previous))
            previous = shape
    return layers, skipped, weights


def _input_shape(layers: list[NetxLayer]) -> Shape:
    """One sample's input, as Lava's network takes it: an input layer with neurons takes its
    own shape, else the first layer with neurons takes what reaches it."""
    first = next((layer for layer in layers if layer.has_neurons), None)
    if first is None:
        raise NetxFileError(f"no layer NetX can run on Lava (layer types: "
                            f"{', '.join(layer.kind for layer in layers) or 'none'})")
    return first.shape if first.kind == "input" else first.inputs


def read_netx_file(path: str | Path) -> NetxFile:
    """Open and check the NetX file ``path``; the :class:`NetxFile` of what NetX builds.

    Args:
        path: the HDF5 file, e.g. from :func:`netx_export.export_netx`.

    Returns:
        The checked :class:`NetxFile` (its layers, input shape, neurons, weights, ...).

    Raises:
        FileNotFoundError: no file at ``path``.
        NetxFileError: (a ValueError) not an HDF5 file, not self-contained, or a field of a
            layer NetX would create missing, of the wrong type or shape, not finite or out of
            Loihi's range, or layers that do not chain; one line naming the problem.

    Example:
        >>> import tempfile
        >>> from lava.lib.dl.slayer.block.cuba import Dense
        >>> from netx_export import export_netx
        >>> net = Dense({"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}, 8, 4)
        >>> netx = read_netx_file(export_netx(net, tempfile.mkdtemp() + "/net.net"))
        >>> netx.neurons, netx.input_shape, netx.input_levels
        (4, (8,), None)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NetX network at {path}; write one with export_netx")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise NetxFileError(f"NetX cannot load {path} (OSError: {error}): not an HDF5 file; "
                            "write one with export_netx") from None
    with handle:
        try:
            _self_contained(handle)
            levels = _input_levels(handle)
            groups = _layer_groups(handle)
            layers, skipped, weights = _check_layers(groups)
            input_shape = _input_shape(layers)
        except NetxFileError as error:
            raise NetxFileError(f"{path}: {error}") from None
    netx = NetxFile(path, tuple(layers), tuple(skipped), input_shape, levels, sum(weights),
                    len(groups))
    size = path.stat().st_size
    if netx.neurons > NEURONS_PER_FILE_BYTE * size + NEURON_MARGIN:
        largest = max(netx.lava_layers, key=lambda layer: layer.size)
        raise NetxFileError(f"{path}: declares {netx.neurons} neurons ({largest.name}: "
                            f"{largest.size}, shape {largest.shape}) in a file of {size} bytes; "
                            "valid: the sizes its weights and input give (a layer's shape is "
                            "too large)")
    return netx
