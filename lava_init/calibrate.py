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

from lava_init.network import (
    block_quantization,
    block_synapses,
    is_slayer_block,
    set_synapse_weight,
    synapse_weight,
    weighted_blocks,
)
from lava_init.report import format_table

#: Relative rate error accepted by default: |rate / target - 1| <= 5%.
DEFAULT_TOLERANCE = 0.05
#: Forward passes of one block allowed by default while searching its scale.
DEFAULT_ITERATIONS = 16
#: Largest scale change tried when bracketing the target (factor per layer).
MAX_SCALE = 2.0**12


@dataclass
class LayerCalibration:
    """One calibrated block: the factor applied to its weights and what it then measured.

    ``rate``: spikes per neuron per step from the block's latency on; ``active_fraction``:
    fraction of neurons that spike at least once in that window for some sample.
    """

    name: str
    latency: int
    target: float
    scale: float
    iterations: int
    rate: float
    active_fraction: float
    converged: bool


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
        rows = [[c.name, c.latency, c.target, c.scale, c.iterations, c.rate, c.active_fraction,
                 c.converged] for c in self.layers]
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


def _latencies(net: torch.nn.Module) -> dict[int, int]:
    """First step at which input can reach each SLAYER block (one step per delay_shift)."""
    latency, found = 0, {}
    for module in net.modules():
        if is_slayer_block(module) and hasattr(module, "neuron"):
            latency += int(bool(getattr(module, "delay_shift", False)))
            found[id(module)] = latency
    return found


def _check_target(target: float) -> None:
    if not math.isfinite(target) or not 0.0 < target < 1.0:
        raise ValueError(
            f"target rate must be in (0, 1) spikes per neuron per step (got {target!r}); a "
            "neuron spikes at most once per step and a rate of 0 carries nothing"
        )


def _activity(spikes: torch.Tensor) -> tuple[float, float]:
    """Rate and the fraction of neurons that spike for at least one sample (as measure_activity)."""
    per_neuron = spikes.flatten(1, -2).sum(dim=(0, -1))
    return float(spikes.mean()), float((per_neuron > 0).float().mean())


class _ScaledBlock:
    """A block whose weights are ``q(scale * w0)``; evaluates its windowed rate per scale."""

    def __init__(self, block: torch.nn.Module, block_input: torch.Tensor, latency: int):
        self.block, self.block_input, self.latency = block, block_input, latency
        self.synapses = block_synapses(block)
        self.originals = [synapse_weight(s).detach().clone() for s in self.synapses]
        self.grid = block_quantization(block)
        self.evaluations = 0

    def set_scale(self, scale: float) -> None:
        for synapse, original in zip(self.synapses, self.originals, strict=True):
            weight = original * scale
            set_synapse_weight(synapse, self.grid.apply(weight) if self.grid else weight)

    def activity(self, scale: float) -> tuple[float, float]:
        self.set_scale(scale)
        self.evaluations += 1
        return _activity(self.block(self.block_input)[..., self.latency:])


def _search_scale(scaled: _ScaledBlock, target: float, tolerance: float,
                  max_iterations: int) -> tuple[float, tuple[float, float]]:
    """Scale whose rate is within ``tolerance`` of ``target`` (bracketing, then log bisection).

    Returns the best scale seen and its (rate, active fraction).
    """
    seen: dict[float, tuple[float, float]] = {}

    def measure(scale: float) -> float:
        seen[scale] = scaled.activity(scale)
        return seen[scale][0]

    def close(rate: float) -> bool:
        return abs(rate / target - 1.0) <= tolerance

    low, high = 1.0, 1.0
    rate = measure(1.0)
    step = 2.0
    while not close(rate) and scaled.evaluations < max_iterations:
        if rate < target:
            low, high = high, high * step
            if high > MAX_SCALE:
                break
            rate = measure(high)
            if rate >= target:
                break
        else:
            high, low = low, low / step
            if low < 1.0 / MAX_SCALE:
                break
            rate = measure(low)
            if rate <= target:
                break
    while not close(rate) and scaled.evaluations < max_iterations and low < high:
        middle = math.sqrt(low * high)
        rate = measure(middle)
        if rate < target:
            low = middle
        else:
            high = middle
    best = min(seen, key=lambda s: abs(seen[s][0] / target - 1.0))
    scaled.set_scale(best)
    return best, seen[best]


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

    ``x``: a spike batch in SLAYER layout (batch, ..., time); ``target``: spikes per neuron per
    step, None for the input's own rate ``x.mean()``; ``readout_target``: the last block's
    rate, None for ``target`` (a readout trained on spike counts over many steps learns better
    from a low start, see docs/beyond_the_paper.md). Each block's rate is measured from its
    latency to the end of ``x`` with the blocks before it already calibrated; its weights
    become ``q(scale * w)`` on the block's 8-bit grid. Deterministic (no randomness). Returns a
    per-block report; a block that cannot reach the target within ``max_iterations`` forward
    passes keeps its closest scale and is marked not converged.
    """
    blocks = list(weighted_blocks(net))
    if not blocks:
        raise ValueError(
            f"{type(net).__name__} contains no lava-dl SLAYER block with weights; build it from "
            "lava.lib.dl.slayer.block (e.g. cuba.Dense, cuba.Conv)"
        )
    if target is None:
        target = float(x.float().mean())
        if not 0.0 < target < 1.0:
            raise ValueError(f"the input x has rate {target:.4g}; give spikes with some but not "
                             "all entries 1, or pass target=<rate in (0, 1)>")
    _check_target(target)
    readout_target = target if readout_target is None else readout_target
    _check_target(readout_target)
    if not math.isfinite(tolerance) or tolerance <= 0:
        raise ValueError(f"tolerance must be > 0 (got {tolerance!r}), e.g. 0.05 for 5%")
    latencies = _latencies(net)
    last_name, last_block = blocks[-1]
    if latencies[id(last_block)] >= x.shape[-1]:
        raise ValueError(
            f"block {last_name!r} starts at step {latencies[id(last_block)]} but x has "
            f"{x.shape[-1]} steps; give x more steps than the network has delay_shift blocks "
            "or build the net with delay_shift=False"
        )
    chain = _is_chain(net, x, [block for _, block in blocks])
    block_input = x
    report = CalibrationReport(target)
    for name, block in blocks:
        latency = latencies[id(block)]
        if not chain:
            block_input = _block_input(net, x, block)
        scaled = _ScaledBlock(block, block_input, latency)
        block_target = readout_target if block is last_block else target
        scale, (rate, active) = _search_scale(scaled, block_target, tolerance, max_iterations)
        if chain:
            block_input = block(block_input)
        report.layers.append(LayerCalibration(
            name, latency, block_target, scale, scaled.evaluations, rate, active,
            abs(rate / block_target - 1.0) <= tolerance))
    return report
