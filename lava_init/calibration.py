"""Data-driven calibration of SLAYER networks (LSUV, Mishkin & Matas 2016, for spikes).

Layer by layer, with a real input batch and SLAYER's own quantized forward pass over all time
steps, each block's weights are rescaled (and kept on its 8-bit grid) until the block's spike
rate hits the target. Calibration needs data, so it is a step after an initialization, not an
init method::

    lava_init.initialize(net, "temporal", time_steps=20)
    report = lava_init.calibrate(net, x)       # target: the rate of x
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from scipy import optimize

from lava_init.checks import check_rate
from lava_init.records import LayerActivity, layer_activity
from lava_init.slayer_blocks import (
    block_quantization,
    block_synapses,
    latencies,
    set_synapse_weight,
    synapse_weight,
    weighted_blocks,
)
from lava_init.tables import format_table

#: Relative rate error accepted by default: |rate / target - 1| <= 5%.
DEFAULT_TOLERANCE = 0.05
#: Forward passes of one block allowed by default while searching its scale.
DEFAULT_ITERATIONS = 16
#: Largest scale change tried when bracketing the target (factor per layer).
MAX_SCALE = 2.0**12


@dataclass
class LayerCalibration:
    """One calibrated block: the factor applied to its weights and the activity it then had
    (``activity.rate`` from the block's latency on)."""

    activity: LayerActivity
    target: float
    scale: float
    iterations: int
    converged: bool

    @property
    def name(self) -> str:
        return self.activity.name

    @property
    def rate(self) -> float:
        return self.activity.rate


@dataclass
class CalibrationReport:
    """Per-block calibration in module order; ``str()`` prints the table."""

    target: float
    layers: list[LayerCalibration] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return all(layer.converged for layer in self.layers)

    def __str__(self) -> str:
        headers = ["block", "latency", "target", "scale", "iterations", "rate", "active",
                   "converged"]
        rows = [[c.name, c.activity.latency, c.target, c.scale, c.iterations, c.rate,
                 c.activity.active_fraction, c.converged] for c in self.layers]
        return f"calibration target rate: {self.target:.4f}\n{format_table(headers, rows)}"


class _InputCaptured(Exception):
    """Stops the forward pass once the block being calibrated has received its input."""


def _block_input(net: torch.nn.Module, x: torch.Tensor, block: torch.nn.Module) -> torch.Tensor:
    captured: list[torch.Tensor] = []

    def capture(_module: torch.nn.Module, inputs: tuple) -> None:
        captured.append(inputs[0].detach())
        raise _InputCaptured

    handle = block.register_forward_pre_hook(capture)
    try:
        net(x)
    except _InputCaptured:
        pass
    finally:
        handle.remove()
    if not captured:
        raise ValueError(f"block {type(block).__name__} was not reached by net(x); calibrate "
                         "needs every weighted block on the forward path")
    return captured[0]


def _is_chain(net: torch.nn.Module, x: torch.Tensor, blocks: list[torch.nn.Module]) -> bool:
    """True when ``net(x)`` is the blocks applied one after the other (checked on ``x``).

    Then each block's input is the output of the block before, and calibration needs one
    block forward per step instead of a forward of the whole prefix.
    """
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    handles = []
    for block in blocks:
        handles.append(block.register_forward_pre_hook(
            lambda _m, args: inputs.append(args[0].detach())))
        handles.append(block.register_forward_hook(
            lambda _m, _args, out: outputs.append(out.detach())))
    try:
        result = net(x)
    finally:
        for handle in handles:
            handle.remove()
    if len(inputs) != len(blocks) or not isinstance(result, torch.Tensor):
        return False
    links = zip(inputs[1:], outputs[:-1], strict=True)
    return (torch.equal(inputs[0], x) and torch.equal(outputs[-1], result)
            and all(torch.equal(a, b) for a, b in links))


class _ScaledBlock:
    """A block whose weights are ``q(scale * w0)``; measures its windowed activity per scale
    (each scale once; ``evaluations`` counts the forward passes)."""

    def __init__(self, name: str, block: torch.nn.Module, block_input: torch.Tensor,
                 latency: int):
        self.name, self.block, self.block_input, self.latency = name, block, block_input, latency
        self.synapses = block_synapses(block)
        self.originals = [synapse_weight(s).detach().clone() for s in self.synapses]
        self.grid = block_quantization(block)
        self.seen: dict[float, LayerActivity] = {}

    @property
    def evaluations(self) -> int:
        return len(self.seen)

    def set_scale(self, scale: float) -> None:
        for synapse, original in zip(self.synapses, self.originals, strict=True):
            weight = original * scale
            set_synapse_weight(synapse, self.grid.apply(weight) if self.grid else weight)

    def rate(self, scale: float) -> float:
        if scale not in self.seen:
            self.set_scale(scale)
            self.seen[scale] = layer_activity(self.name, self.block(self.block_input),
                                              self.latency)
        return self.seen[scale].rate


def _bracket(scaled: _ScaledBlock, target: float, close, max_iterations: int
             ) -> tuple[float, float] | None:
    """Scales ``(low, high)`` around the target found by doubling / halving from 1, or None
    when the search ends first (a scale close enough, the iteration limit or MAX_SCALE)."""
    low = high = 1.0
    rate = scaled.rate(1.0)
    while not close(rate) and scaled.evaluations < max_iterations:
        if rate < target:
            low, high = high, high * 2.0
            if high > MAX_SCALE:
                return None
            rate = scaled.rate(high)
            if rate >= target:
                return low, high
        else:
            high, low = low, low / 2.0
            if low < 1.0 / MAX_SCALE:
                return None
            rate = scaled.rate(low)
            if rate <= target:
                return low, high
    return None


def _search_scale(scaled: _ScaledBlock, target: float, tolerance: float,
                  max_iterations: int) -> float:
    """Scale whose rate is within ``tolerance`` of ``target``: bracketing, then scipy's
    ``brentq`` on log(scale) with the evaluations left. Returns the best scale seen, set."""

    def close(rate: float) -> bool:
        return abs(rate / target - 1.0) <= tolerance

    bracket = _bracket(scaled, target, close, max_iterations)
    left = max_iterations - scaled.evaluations
    if bracket is not None and left > 0:
        low, high = bracket

        def excess(log_scale: float) -> float:  # brentq starts at the measured ends
            scale = min((low, high, math.exp(log_scale)),
                        key=lambda s: abs(math.log(s) - log_scale))
            return scaled.rate(scale) - target

        optimize.brentq(excess, math.log(low), math.log(high), xtol=tolerance * 1e-3,
                        maxiter=left, disp=False)
    best = min(scaled.seen, key=lambda s: abs(scaled.seen[s].rate / target - 1.0))
    scaled.set_scale(best)
    return best


def _targets(x: torch.Tensor, target: float | None, readout_target: float | None
             ) -> tuple[float, float]:
    """The hidden and readout target rates, checked; None targets from the input's rate."""
    if target is None:
        target = float(x.float().mean())
        if not 0.0 < target < 1.0:
            raise ValueError(f"the input x has rate {target:.4g}; give spikes with some but not "
                             "all entries 1, or pass target=<rate in (0, 1)>")
    target = check_rate(target, "target rate")
    readout_target = target if readout_target is None else readout_target
    return target, check_rate(readout_target, "readout target rate")


def _check_steps(last: tuple[str, torch.nn.Module], starts: dict[int, int],
                 x: torch.Tensor) -> None:
    """ValueError when the last block starts after ``x`` ends (too many delaying blocks)."""
    name, block = last
    if starts[id(block)] >= x.shape[-1]:
        raise ValueError(
            f"block {name!r} starts at step {starts[id(block)]} but x has {x.shape[-1]} steps; "
            "give x more steps than the network has delay_shift blocks or build the net with "
            "delay_shift=False")


@torch.no_grad()
def calibrate(
    net: torch.nn.Module,
    x: torch.Tensor,
    target: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_iterations: int = DEFAULT_ITERATIONS,
    readout_target: float | None = None,
) -> CalibrationReport:
    """Rescale each weighted SLAYER block of ``net``, in order, to fire at ``target``.

    Each block's rate is measured from its latency to the end of ``x`` with the blocks before
    it already calibrated; its weights become ``q(scale * w)`` on the block's 8-bit grid.
    Deterministic (no randomness).

    Args:
        net: any module holding lava-dl SLAYER blocks with weights.
        x: a spike batch in SLAYER layout (batch, ..., time).
        target: spikes per neuron per step; None for the input's own rate ``x.mean()``.
        tolerance: accepted relative rate error, ``|rate / target - 1|``.
        max_iterations: forward passes of one block allowed while searching its scale.
        readout_target: the last block's rate, None for ``target`` (a readout trained on spike
            counts over many steps learns better from a low start).

    Returns:
        A :class:`CalibrationReport`; a block that cannot reach its target keeps its closest
        scale and is marked not converged.

    >>> import torch; from lava.lib.dl import slayer
    >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> net = slayer.block.cuba.Dense(neuron, 64, 64, delay_shift=False)
    >>> x = (torch.rand(8, 64, 10, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    >>> calibrate(net, x).converged
    True
    """
    blocks = weighted_blocks(net)
    target, readout_target = _targets(x, target, readout_target)
    if not math.isfinite(tolerance) or tolerance <= 0:
        raise ValueError(f"tolerance must be > 0 (got {tolerance!r}), e.g. 0.05 for 5%")
    starts = latencies(net)
    _check_steps(blocks[-1], starts, x)
    last_block = blocks[-1][1]
    chain = _is_chain(net, x, [block for _, block in blocks])
    block_input = x
    report = CalibrationReport(target)
    for name, block in blocks:
        if not chain:
            block_input = _block_input(net, x, block)
        scaled = _ScaledBlock(name, block, block_input, starts[id(block)])
        block_target = readout_target if block is last_block else target
        scale = _search_scale(scaled, block_target, tolerance, max_iterations)
        if chain:
            block_input = block(block_input)
        activity = scaled.seen[scale]
        report.layers.append(LayerCalibration(
            activity, block_target, scale, scaled.evaluations,
            abs(activity.rate / block_target - 1.0) <= tolerance))
    return report
