"""Everything lava-init needs to know about lava-dl SLAYER blocks, in one place.

Finding blocks in a network, their synapses, fan-in, threshold, decays and weight grid, the
effective weight under ``weight_norm``, the latency each ``delay_shift`` adds, and an
eval-mode context. The rest of the toolkit asks this module and never reads lava-dl's
attributes itself; lava-dl's block / synapse / neuron split is used as it is.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from lava_init.checks import check_count
from lava_init.quantization import Quantization, effective_threshold
from lava_init.temporal import LAVA_CURRENT_LIMIT

with contextlib.redirect_stdout(io.StringIO()):  # lava-dl prints a Prophesee note on stdout
    from lava.lib.dl import slayer  # noqa: F401 (the package imports lava-dl from here)
    from lava.lib.dl.slayer import synapse as slayer_synapse
    from lava.lib.dl.slayer.neuron import cuba as slayer_cuba

#: Synapse attributes of SLAYER blocks, in the order they feed the neuron.
SYNAPSE_ATTRIBUTES = ("synapse", "input_synapse", "recurrent_synapse")
#: SLAYER synapses with learnable weights (Pool / Unpool hold fixed weights).
WEIGHTED_SYNAPSES = (slayer_synapse.Dense, slayer_synapse.Conv, slayer_synapse.ConvTranspose)
#: The module lava-dl's blocks live in.
SLAYER_BLOCK_MODULE = "lava.lib.dl.slayer.block"


def is_slayer_block(module: torch.nn.Module) -> bool:
    """True for lava-dl's blocks (cuba.Dense, cuba.Conv, ...) and classes derived from them
    (such as the blocks :func:`netx_export.load_netx` builds).

    Args:
        module: any torch module.

    Returns:
        Whether one of its classes lives in ``lava.lib.dl.slayer.block``.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> params = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> is_slayer_block(cuba.Dense(params, 4, 2)), is_slayer_block(torch.nn.Linear(4, 2))
        (True, False)
    """
    return any(cls.__module__.startswith(SLAYER_BLOCK_MODULE) for cls in type(module).__mro__)


def no_blocks_error(net: torch.nn.Module, what: str = "with weights") -> ValueError:
    """The one error for a network that holds no SLAYER block (``what`` says which kind).

    Args:
        net: the network searched.
        what: the kind of block that was missing, as the message ends it.

    Returns:
        The ValueError, for the caller to raise.

    Example:
        >>> str(no_blocks_error(torch.nn.Linear(2, 2)))[:56]
        'Linear contains no lava-dl SLAYER block with weights; bu'
    """
    return ValueError(
        f"{type(net).__name__} contains no lava-dl SLAYER block {what}; build it from "
        "lava.lib.dl.slayer.block (e.g. cuba.Dense, cuba.Conv)"
    )


def block_synapses(block: torch.nn.Module) -> list[torch.nn.Module]:
    """The learnable synapses of a SLAYER block (input and recurrent ones for Recurrent).

    Args:
        block: a SLAYER block (Pool / Unpool synapses, fixed weights, are left out).

    Returns:
        The synapses in the order they feed the neuron (empty when none learns).

    Example:
        >>> from lava.lib.dl import slayer
        >>> neuron = {"threshold": 0.5, "current_decay": 0.5, "voltage_decay": 0.5}
        >>> [type(s).__name__ for s in block_synapses(slayer.block.cuba.Dense(neuron, 8, 3))]
        ['Dense']
    """
    found = (getattr(block, name, None) for name in SYNAPSE_ATTRIBUTES)
    return [s for s in found if isinstance(s, WEIGHTED_SYNAPSES)]


def weighted_blocks(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """``(name, block)`` for every SLAYER block with learnable weights, in module order.

    Args:
        net: the network; ValueError (:func:`no_blocks_error`) when it has no such block.

    Returns:
        The named blocks (a nameless top-level block is named by its class).

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> p = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}
        >>> [name for name, _ in weighted_blocks(torch.nn.Sequential(cuba.Dense(p, 3, 3)))]
        ['0']
    """
    found = [(name or type(module).__name__, module) for name, module in net.named_modules()
             if is_slayer_block(module) and block_synapses(module)]
    if not found:
        raise no_blocks_error(net)
    return found


def spiking_blocks(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """``(name, block)`` for every SLAYER block with a neuron, in module order.

    Raises ValueError (:func:`no_blocks_error`) when there is none.

    Args:
        net: the network searched.

    Returns:
        The ``(name, block)`` pairs.

    Example:
        >>> spiking_blocks(torch.nn.Sequential(torch.nn.ReLU()))
        Traceback (most recent call last):
        ValueError: Sequential contains no lava-dl SLAYER block with neurons; ...
    """
    found = [(name or type(module).__name__, module) for name, module in net.named_modules()
             if is_slayer_block(module) and hasattr(module, "neuron")]
    if not found:
        raise no_blocks_error(net, "with neurons")
    return found


def chain_blocks(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """``(name, block)`` in execution order: ``net.blocks`` if it is a ModuleList, else the
    outermost SLAYER blocks in module order (``net`` itself when it is one block).

    Args:
        net: a network of SLAYER blocks, or one block; ValueError when it holds none.

    Returns:
        The chain, the blocks of a ``blocks`` list named ``blocks.<i>``.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> lif = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.1}
        >>> net = torch.nn.Module()
        >>> net.blocks = torch.nn.ModuleList([cuba.Dense(lif, 5, 4), cuba.Dense(lif, 4, 2)])
        >>> [name for name, _ in chain_blocks(net)]
        ['blocks.0', 'blocks.1']
    """
    blocks = getattr(net, "blocks", None)
    if isinstance(blocks, torch.nn.ModuleList):
        return [(f"blocks.{i}", block) for i, block in enumerate(blocks)]
    if is_slayer_block(net):
        return [(type(net).__name__, net)]
    found: list[tuple[str, torch.nn.Module]] = []
    for name, module in net.named_modules():
        inside_found = any(name.startswith(f"{outer}.") for outer, _ in found)
        if is_slayer_block(module) and not inside_found:
            found.append((name, module))
    if not found:
        raise no_blocks_error(net, "(or give it a 'blocks' ModuleList)")
    return found


def block_kind(block: torch.nn.Module) -> str:
    """``module.Class`` of a SLAYER block, e.g. ``cuba.Dense``.

    Args:
        block: the block.

    Returns:
        The last part of its module and its class name.

    Example:
        >>> from lava.lib.dl.slayer.block.cuba import Conv
        >>> block_kind(Conv({"threshold": 1.0, "current_decay": 1, "voltage_decay": 1}, 2, 4, 3))
        'cuba.Conv'
    """
    return f"{type(block).__module__.rsplit('.', 1)[-1]}.{type(block).__name__}"


def slayer_block_type(block: torch.nn.Module) -> str | None:
    """The lava-dl block class name this block is or derives from (None if not SLAYER).

    Args:
        block: any module; classes named ``Abstract...`` are passed over.

    Returns:
        e.g. ``"Dense"``, or None.

    Example:
        >>> slayer_block_type(torch.nn.Linear(2, 2)) is None
        True
    """
    for cls in type(block).__mro__:
        if cls.__module__.startswith(SLAYER_BLOCK_MODULE) and not cls.__name__.startswith(
                "Abstract"):
            return cls.__name__
    return None


def latencies(net: torch.nn.Module) -> dict[int, int]:
    """First step at which input can reach each SLAYER block with a neuron, by ``id(block)``
    (one step per ``delay_shift`` block up to and including it).

    Args:
        net: the network.

    Returns:
        ``{id(block): latency}`` for its spiking blocks.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> tutorial = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}
        >>> stack = torch.nn.Sequential(cuba.Dense(tutorial, 6, 6), cuba.Dense(tutorial, 6, 2))
        >>> list(latencies(stack).values())  # lava-dl delays every block by one step by default
        [1, 2]
    """
    latency, found = 0, {}
    for module in net.modules():
        if is_slayer_block(module) and hasattr(module, "neuron"):
            latency += int(bool(getattr(module, "delay_shift", False)))
            found[id(module)] = latency
    return found


def synapse_weight(synapse: torch.nn.Module) -> torch.Tensor:
    """The effective weight tensor of a synapse (``g * v / ||v||`` under weight_norm).

    Args:
        synapse: a SLAYER synapse.

    Returns:
        Its weight, as the forward pass uses it (5-D for SLAYER).

    Example:
        >>> from lava.lib.dl import slayer
        >>> tuple(synapse_weight(slayer.synapse.Dense(7, 3)).shape)
        (3, 7, 1, 1, 1)
    """
    if getattr(synapse, "weight_norm_enabled", False):
        v, g = synapse.weight_v, synapse.weight_g
        return g * v / v.flatten(1).norm(dim=1).clamp_min(1e-30).view(-1, *[1] * (v.dim() - 1))
    return synapse.weight


@torch.no_grad()
def set_synapse_weight(synapse: torch.nn.Module, weight: torch.Tensor) -> None:
    """Make ``weight`` the synapse's effective weight, setting ``g`` and ``v`` under weight_norm.

    A row that is all zero keeps ``v = 1`` and ``g = 0`` so that ``g * v / ||v||`` stays finite.

    Args:
        synapse: a SLAYER synapse, changed in place.
        weight: the new effective weight, of the synapse's shape.

    Example:
        >>> from lava.lib.dl import slayer
        >>> dense = slayer.synapse.Dense(2, 1)
        >>> set_synapse_weight(dense, torch.full((1, 2, 1, 1, 1), 0.5))
        >>> synapse_weight(dense).flatten().tolist()
        [0.5, 0.5]
    """
    if getattr(synapse, "weight_norm_enabled", False):
        norms = weight.flatten(1).norm(dim=1)
        direction = weight.clone()
        direction[norms == 0] = 1.0
        synapse.weight_v.copy_(direction)
        synapse.weight_g.copy_(norms.view_as(synapse.weight_g))
    else:
        synapse.weight.copy_(weight)


def synapse_fan_in(synapse: torch.nn.Module) -> int:
    """Inputs per neuron; for a transposed convolution, averaged over output positions.

    Args:
        synapse: a weighted SLAYER synapse (Dense, Conv or ConvTranspose).

    Returns:
        The fan-in.

    Example:
        >>> from lava.lib.dl import slayer
        >>> synapse_fan_in(slayer.synapse.Conv(3, 8, 5))  # 3 channels x 5 x 5
        75
    """
    shape = synapse_weight(synapse).shape
    kernel = math.prod(shape[2:])
    if isinstance(synapse, slayer_synapse.ConvTranspose):
        return max(1, round(shape[0] // synapse.groups * kernel / math.prod(synapse.stride)))
    return shape[1] * kernel


def block_fan_in(block: torch.nn.Module) -> int:
    """Inputs per neuron over all the block's synapses (input + recurrent for Recurrent).

    Args:
        block: a SLAYER block.

    Returns:
        The summed fan-in (0 for a block without learnable synapses).

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> params = {"threshold": 0.8, "current_decay": 0.1, "voltage_decay": 0.1}
        >>> block_fan_in(cuba.Recurrent(params, 10, 20))  # 10 inputs + 20 recurrent
        30
    """
    return sum(synapse_fan_in(s) for s in block_synapses(block))


def block_quantization(block: torch.nn.Module) -> Quantization | None:
    """The weight grid SLAYER applies in this block's forward pass (None without pre_hook_fx).

    Args:
        block: a SLAYER block; its neuron's ``w_scale`` sets the grid.

    Returns:
        The :class:`lava_init.quantization.Quantization`, or None for float weights.

    Example:
        >>> from lava.lib.dl import slayer
        >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> block_quantization(slayer.block.cuba.Dense(neuron, 4, 4)).step
        0.03125
    """
    synapses = block_synapses(block)
    if not synapses or synapses[0].pre_hook_fx is None or not hasattr(block.neuron, "w_scale"):
        return None
    return Quantization.from_w_scale(block.neuron.w_scale)


def block_threshold(block: torch.nn.Module) -> float | None:
    """The block's firing threshold as SLAYER stores it (int(theta*64)/64); None for readouts.

    Args:
        block: a SLAYER block with a neuron (a negative threshold marks a readout).

    Returns:
        theta, or None.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> block_threshold(cuba.Dense({"threshold": 1.3, "current_decay": 1,
        ...                             "voltage_decay": 1}, 4, 4))
        1.296875
    """
    threshold = getattr(block.neuron, "threshold", None)
    if threshold is None or float(threshold) < 0:
        return None
    return float(threshold)


def block_decays(block: torch.nn.Module) -> dict[str, float]:
    """``current_decay`` and ``voltage_decay`` as SLAYER applies them (1/4096 steps, in [0, 1]).

    A neuron without a current state (LIF) has ``current_decay = 1``; one without a voltage
    decay (e.g. sigma-delta) cannot be modelled over time and gives a clear error.

    Args:
        block: a SLAYER block with a neuron.

    Returns:
        ``{"current_decay": ..., "voltage_decay": ...}``.

    Example:
        >>> from lava.lib.dl import slayer
        >>> params = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}
        >>> block_decays(slayer.block.cuba.Dense(params, 2, 2))
        {'current_decay': 0.25, 'voltage_decay': 0.030029296875}
    """
    neuron = block.neuron
    if not hasattr(neuron, "voltage_decay"):
        raise ValueError(f"{type(neuron).__module__} neurons have no voltage decay; time-aware "
                         "init methods need CUBA or LIF neurons")
    scale = float(neuron.p_scale)

    def decay(parameter: torch.Tensor) -> float:
        return float(torch.round(parameter.detach().clamp(0, scale)).mean()) / scale

    current = decay(neuron.current_decay) if hasattr(neuron, "current_decay") else 1.0
    return {"current_decay": current, "voltage_decay": decay(neuron.voltage_decay)}


def is_memoryless(block: torch.nn.Module) -> bool:
    """True when both decays are 1 as SLAYER applies them: the membrane is this step's input.

    Args:
        block: a SLAYER block (one without voltage decay is not memoryless).

    Returns:
        Whether the block forgets everything between steps.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> is_memoryless(cuba.Dense({"threshold": 1, "current_decay": 1, "voltage_decay": 1},
        ...                          3, 1))
        True
    """
    try:
        decays = block_decays(block)
    except ValueError:
        return False
    return decays["current_decay"] == 1.0 and decays["voltage_decay"] == 1.0


def membrane_lattice_step(block: torch.nn.Module) -> float | None:
    """The step of the lattice the block's membrane lies on (SLAYER units), None if fine.

    Memoryless with quantized weights: the weight step (1/32 for the default scale), which
    moves the effective threshold by half a step. With decays the states carry 1/4096
    resolution after every step, so the lattice moves it by at most 1/8192: None (no
    correction).

    Args:
        block: a SLAYER block.

    Returns:
        The step, or None.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> integrating = {"threshold": 1.0, "current_decay": 0.5, "voltage_decay": 0.5}
        >>> membrane_lattice_step(cuba.Dense(integrating, 4, 2)) is None
        True
    """
    grid = block_quantization(block)
    return grid.step if grid is not None and is_memoryless(block) else None


def block_effective_threshold(block: torch.nn.Module) -> float | None:
    """The block's threshold as the Gaussian rule must see it on its membrane lattice
    (:func:`lava_init.quantization.effective_threshold`); None for readouts.

    Args:
        block: a SLAYER block with a neuron.

    Returns:
        The effective threshold (SLAYER units), or None.

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> memoryless = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> block_effective_threshold(cuba.Dense(memoryless, 16, 8))  # 1 + half a weight step
        1.015625
    """
    threshold = block_threshold(block)
    if threshold is None:
        return None
    return effective_threshold(threshold, membrane_lattice_step(block))


def block_surrogate(block: torch.nn.Module) -> tuple[float, float] | None:
    """``(tau, scale)`` of the CUBA block's surrogate gradient as SLAYER applies it,
    ``f'(v) = scale / (2 tau) exp(-|v - theta| / tau)`` with ``tau = 100 tau_grad theta`` and
    ``scale = 0.1 scale_grad`` (lava-dl's TAU_RHO_MULT, SCALE_RHO_MULT); None for other
    neurons.

    Args:
        block: any SLAYER block (or a module without a neuron, giving None).

    Returns:
        ``(tau, scale)`` or None.

    Example:
        >>> from lava.lib.dl import slayer
        >>> cuba_params = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> block_surrogate(slayer.block.cuba.Dense(cuba_params, 4, 3))
        (100.0, 0.1)
    """
    neuron = getattr(block, "neuron", None)
    if not isinstance(neuron, slayer_cuba.Neuron):
        return None
    return (float(neuron.tau_rho) * slayer_cuba.TAU_RHO_MULT,
            float(neuron.scale_rho) * slayer_cuba.SCALE_RHO_MULT)


@dataclass(frozen=True)
class BlockSpec:
    """One weighted SLAYER block, read once (:func:`block_spec`): what initialization asks of
    it. ``decays`` is None for a neuron without a voltage decay; ``weight_shape`` is that of
    its first synapse; ``fan_out`` counts that synapse's outputs per input (torch's
    convention)."""

    name: str
    kind: str
    fan_in: int
    fan_out: int
    weight_shape: tuple[int, ...]
    threshold: float | None
    effective_threshold: float | None
    memoryless: bool
    decays: dict[str, float] | None
    grid: Quantization | None
    surrogate: tuple[float, float] | None


def block_spec(name: str, block: torch.nn.Module) -> BlockSpec:
    """Read ``block`` once into a :class:`BlockSpec`.

    Args:
        name: the block's name in its network.
        block: a SLAYER block with weights.

    Returns:
        Its :class:`BlockSpec`.

    Example:
        >>> from lava.lib.dl import slayer
        >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> spec = block_spec("0", slayer.block.cuba.Dense(neuron, 64, 32))
        >>> spec.fan_in, spec.fan_out, spec.memoryless
        (64, 32, True)
    """
    shape = tuple(synapse_weight(block_synapses(block)[0]).shape)
    try:
        decays = block_decays(block)
    except ValueError:
        decays = None
    return BlockSpec(
        name=name, kind=type(block).__name__, fan_in=block_fan_in(block),
        fan_out=shape[0] * math.prod(shape[2:]), weight_shape=shape,
        threshold=block_threshold(block), effective_threshold=block_effective_threshold(block),
        memoryless=decays is not None and set(decays.values()) == {1.0}, decays=decays,
        grid=block_quantization(block), surrogate=block_surrogate(block))


def set_surrogate_scale(block: torch.nn.Module, scale: float) -> None:
    """Make ``scale`` the CUBA block's surrogate amplitude (its ``scale_grad`` becomes
    ``scale / 0.1``); the width is left as it is.

    Args:
        block: a CUBA block, changed in place.
        scale: the new amplitude of ``f'`` (see :func:`block_surrogate`).

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> dense = cuba.Dense({"threshold": 1, "current_decay": 1, "voltage_decay": 1}, 2, 2)
        >>> set_surrogate_scale(dense, 0.5)
        >>> block_surrogate(dense)
        (100.0, 0.5)
    """
    block.neuron.scale_rho = float(scale) / slayer_cuba.SCALE_RHO_MULT


@contextlib.contextmanager
def eval_mode(net: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Put every module of ``net`` in eval mode for the ``with`` body, then restore each
    module's own mode (also on errors).

    Args:
        net: the network.

    Returns:
        A context manager that yields ``net``.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Dropout())
        >>> with eval_mode(net) as inside:
        ...     inside[0].training
        False
        >>> net[0].training
        True
    """
    modes = {module: module.training for module in net.modules()}
    try:
        net.eval()
        yield net
    finally:
        for module, training in modes.items():
            module.training = training


def parameter_device(net: torch.nn.Module) -> torch.device:
    """The device of ``net``'s first parameter (CPU for a network without parameters).

    Args:
        net: any torch module.

    Returns:
        A ``torch.device``.

    Example:
        >>> parameter_device(torch.nn.ReLU())
        device(type='cpu')
    """
    return next((p.device for p in net.parameters()), torch.device("cpu"))


class LavaCurrentWrap(torch.nn.Module):
    """Lava fixed_pt's 24-bit current wrap, in SLAYER, for a first layer fed graded input on
    the ``1 / input_levels`` grid (``export_netx(..., input_levels=)``): Lava holds that layer's
    current ``input_levels`` times larger, so it wraps at ``M = 2048 / input_levels`` (128 for
    16 levels). Lava 0.10's ``PyLifModelBitAcc`` shifts the decayed current plus its input by
    the register's range once, not modulo it: a current above ``M`` becomes ``current - 2M``,
    one at or below ``-M`` ``current + 2M`` (so 385 becomes 129, -128 becomes 128, and a
    current beyond ``3M`` stays above ``M``). This hook wraps SLAYER's current alike; the first
    block is memoryless (export requires it), so its current is its input of the step, as in
    Lava. Trained with it (lava-dl's neuron ``norm`` hook; the gradient passes unchanged),
    SLAYER spikes where Lava does. ``bias`` is 0 (what ``export_hdf5`` writes for a norm)."""

    def __init__(self, input_levels: int):
        super().__init__()
        self.limit = LAVA_CURRENT_LIMIT / check_count(input_levels, "input_levels")
        self.pre_hook_fx = None

    @property
    def bias(self) -> torch.Tensor:
        return torch.zeros(1)

    def wraps(self, current: torch.Tensor) -> torch.Tensor:
        """Where Lava's register wraps ``current`` (SLAYER units): above ``M`` or at or below
        ``-M``."""
        return (current > self.limit) | (current <= -self.limit)

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        period = 2 * self.limit
        return torch.where(current > self.limit, current - period,
                           torch.where(current <= -self.limit, current + period, current))
