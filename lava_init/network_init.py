"""Apply the initializers to lava-dl SLAYER networks, block by block.

Each block is initialized from its own neuron (threshold, weight grid) and its own synapses
(fan-in, weight normalization); lava-dl's block / synapse / neuron split is used as it is.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import torch

from lava_init import theory
from lava_init.checks import check_sigma
from lava_init.initializers import (
    BlockPoint,
    InitMethod,
    get_initializer,
    grid_capacity,
    is_relayable,
)
from lava_init.quantization import Quantization
from lava_init.slayer_blocks import (
    BlockSpec,
    block_spec,
    block_synapses,
    set_surrogate_scale,
    set_synapse_weight,
    synapse_weight,
    weighted_blocks,
)
from lava_init.tables import format_table

#: Fraction of zero weights above which the quantized distribution is called degenerate.
MAX_ZERO_FRACTION = 0.5
#: Relative error of the quantized variance that is tolerated.
VARIANCE_TOLERANCE = 0.05
#: Smallest membrane std (in thresholds) used for a noiseless relay block's surrogate moment.
RELAY_MIN_STD = 1e-3


@dataclass
class BlockInit:
    """One initialized block: its inputs and the statistics of its quantized weights."""

    name: str
    kind: str
    fan_in: int
    threshold: float | None
    effective_threshold: float
    sigma: float
    margin: float
    target_std: float
    quantized_std: float
    fraction_zero: float
    fraction_clipped: float
    stable: bool
    surrogate_scale: float | None = None
    relay_noise: float | None = None


@dataclass
class InitReport:
    """What :func:`initialize` did, one row per block; ``str()`` prints the table.
    ``options``: the method's options as given (e.g. ``time_steps``)."""

    method: str
    options: dict = field(default_factory=dict)
    blocks: list[BlockInit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        headers = ["block", "kind", "fan_in", "threshold", "theta_eff", "sigma", "margin",
                   "target_std", "quantized_std", "zero", "clipped", "stable", "surrogate"]
        rows = [[b.name, b.kind, b.fan_in, "-" if b.threshold is None else b.threshold,
                 b.effective_threshold, b.sigma, b.margin, b.target_std, b.quantized_std,
                 b.fraction_zero, b.fraction_clipped, b.stable,
                 "-" if b.surrogate_scale is None else b.surrogate_scale]
                for b in self.blocks]
        given = ", ".join(f"{k}={v}" for k, v in self.options.items())
        lines = [f"init method: {self.method}{f' ({given})' if given else ''}",
                 format_table(headers, rows)]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def warn(self, message: str) -> None:
        """Record ``message`` in the report and issue it as a Python warning."""
        self.warnings.append(message)
        warnings.warn(message, stacklevel=4)


def _check_options(method: InitMethod, options: dict) -> None:
    if options and not method.options:
        raise ValueError(f"init method {method.name!r} takes no options (got "
                         f"{', '.join(options)}); options such as time_steps are for methods "
                         "like 'temporal'")
    unknown = [name for name in options if name not in method.options]
    if unknown:
        raise ValueError(f"init method {method.name!r} has no option {', '.join(unknown)}; "
                         f"its options are: {', '.join(method.options)}")


@dataclass(frozen=True)
class OperatingPoint:
    """Where the rule puts one block: its ``sigma`` and the threshold the rule uses (the
    effective threshold on the membrane lattice, or ``sigma * DEFAULT_RATIO`` for a readout
    without one)."""

    sigma: float
    threshold: float


def _operating_point(spec: BlockSpec, sigma: float | None) -> OperatingPoint:
    """The block's :class:`OperatingPoint`; ``sigma`` None chooses
    :func:`lava_init.theory.default_sigma` from the block's effective threshold."""
    threshold = spec.threshold
    if threshold is not None and (not math.isfinite(threshold) or threshold <= 0):
        raise ValueError(
            f"block {spec.name!r} has threshold {threshold!r}; the variance-conserving rule "
            "needs a finite threshold > 0 (SLAYER stores int(theta*64)/64, so use theta >= 1/64)")
    effective = spec.effective_threshold
    if sigma is not None:
        block_sigma = check_sigma(sigma)
    elif effective is not None:
        block_sigma = theory.default_sigma(effective, spec.memoryless)
    else:
        block_sigma = 1.0
    return OperatingPoint(block_sigma,
                          block_sigma * theory.DEFAULT_RATIO if effective is None else effective)


def _draw_block(method: InitMethod, block: torch.nn.Module, quantization: Quantization | None,
                **keywords: object) -> torch.Tensor:
    """Draw every synapse of ``block`` with ``method``; returns all drawn weights, flat."""
    weights = []
    for synapse in block_synapses(block):
        weight = torch.empty_like(synapse_weight(synapse))
        method.draw(weight, quantization=quantization, **keywords)
        set_synapse_weight(synapse, weight)
        weights.append(weight.flatten())
    return torch.cat(weights)


@torch.no_grad()
def initialize(
    net: torch.nn.Module,
    method: str = "variance_conserving",
    sigma: float | None = None,
    quantize: bool | None = None,
    generator: torch.Generator | None = None,
    surrogate: bool = True,
    **options: object,
) -> InitReport:
    """Initialize every SLAYER block of ``net`` in place and return a per-block report.

    Each block is read once (:func:`lava_init.slayer_blocks.block_spec`); a method that
    depends on the network's structure (relay, temporal's depth) plans the blocks first
    (its registered planning hook).

    Args:
        net: any module holding lava-dl SLAYER blocks with weights.
        method: a name from :data:`lava_init.initializers.INITIALIZERS`.
        sigma: target membrane std (weight units); None chooses, per block,
            :func:`lava_init.theory.default_sigma`: ``theta_eff / 0.7`` for memoryless
            blocks (a drive margin of ``DEFAULT_MARGIN`` to the saddle-node), ``theta`` for
            integrating ones. ``theta_eff`` is the threshold on the block's membrane lattice
            (:func:`lava_init.quantization.effective_threshold`).
        quantize: draw on the block's 8-bit weight grid so that the variance SLAYER and Loihi
            see is the target; None means yes for quantization-aware methods.
        generator: torch generator for reproducible draws.
        surrogate: also set each memoryless CUBA block's surrogate-gradient amplitude so
            that the backpropagated gradient keeps its variance from block to block
            (:func:`lava_init.theory.conserving_surrogate_scale`); others are left as they
            are. False leaves every neuron's surrogate untouched.
        **options: the method's options: ``time_steps=20`` for ``temporal`` (time-aware
            methods also get each block's decays, and ``depth``, default the number of
            weighted blocks), ``noise`` for ``relay`` (default: per the number of relay
            blocks, :func:`lava_init.theory.relay_noise`).

    Returns:
        An :class:`InitReport`, one :class:`BlockInit` row per block.

    Example:
        >>> import torch; from lava.lib.dl import slayer
        >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 64, 32))
        >>> initialize(net).blocks[0].fan_in
        64
    """
    init_method = get_initializer(method)
    _check_options(init_method, options)
    blocks = weighted_blocks(net)
    quantize = init_method.quantization_aware if quantize is None else quantize
    report = InitReport(method, dict(options))
    specs = [block_spec(name, block) for name, block in blocks]
    points = [_operating_point(spec, sigma) for spec in specs]
    plans = [(method, options)] * len(specs)
    if init_method.plan:
        plans = init_method.plan([BlockPoint(is_relayable(spec.weight_shape), point.threshold,
                                             point.sigma)
                                  for spec, point in zip(specs, points, strict=True)], options)
    for (_, block), spec, point, (drawn, drawn_options) in zip(blocks, specs, points, plans,
                                                               strict=True):
        row = _initialize_block(block, spec, point, get_initializer(drawn), report,
                                quantize=quantize, generator=generator, options=drawn_options)
        if surrogate:
            row.surrogate_scale = _conserve_surrogate(block, spec, row)
        report.blocks.append(row)
    return report


def _initialize_block(block: torch.nn.Module, spec: BlockSpec, point: OperatingPoint,
                      init_method: InitMethod, report: InitReport, *, quantize: bool,
                      generator: torch.Generator | None, options: dict) -> BlockInit:
    """Draw one block's weights with ``init_method`` and ``options``; its report row."""
    if init_method.uses_threshold:
        _warn_operating_point(report, spec.name, point.threshold, point.sigma, spec.memoryless)
    target_variance = (init_method.variance(spec.fan_in, spec.fan_out, point.threshold,
                                            point.sigma) if init_method.variance else None)
    grid = spec.grid if quantize else None
    if grid is not None and target_variance is not None:
        _check_grid_capacity(spec.name, grid, target_variance, point.threshold, spec.fan_in)
    dynamics = spec.decays if init_method.uses_dynamics else {}
    if init_method.uses_dynamics and dynamics is None:
        raise ValueError(f"block {spec.name!r}: its neurons have no voltage decay; "
                         f"{init_method.name!r} needs CUBA or LIF neurons")
    weight = _draw_block(init_method, block, grid, threshold=point.threshold, sigma=point.sigma,
                         generator=generator, fan_in=spec.fan_in, options=options, **dynamics)
    # a relay's noise weights are sparse on the grid by design (deep stacks: std < one step)
    row = _block_row(spec, point, target_variance, weight,
                     init_method.quantization_aware and not init_method.relay, report)
    if init_method.relay:
        row.relay_noise = float(options["noise"])
        row.kind += "+relay"
    return row


def _conserve_surrogate(block: torch.nn.Module, spec: BlockSpec, row: BlockInit
                        ) -> float | None:
    """Set a memoryless CUBA block's surrogate amplitude for a backward gain of 1 (from its
    quantized weights' drive and its operating point; a relay block's membrane sits at 0 or
    ``2 theta`` with noise ``relay_noise * sigma``, both modes ``theta`` from the threshold);
    None where no closed form applies."""
    if spec.surrogate is None or not spec.memoryless:
        return None
    membrane_std = row.sigma
    if row.relay_noise is not None:  # two modes, theta from the threshold, noise around each
        membrane_std = max(row.relay_noise * row.sigma, RELAY_MIN_STD * row.effective_threshold)
    scale = theory.conserving_surrogate_scale(
        row.fan_in * row.quantized_std**2, row.effective_threshold, membrane_std,
        spec.surrogate[0], spec.fan_out / row.fan_in)
    set_surrogate_scale(block, scale)
    return scale


def _check_grid_capacity(name: str, grid: Quantization, target_variance: float,
                         threshold: float, fan_in: int) -> None:
    """ValueError naming the block when its weights would clip on the 8-bit grid, with the
    largest threshold the grid drives at this fan-in (the rule's variance grows as theta^2
    when sigma follows theta)."""
    capacity = grid_capacity(grid)
    if target_variance > capacity:
        largest = threshold * math.sqrt(capacity / target_variance)
        raise ValueError(
            f"block {name!r}: threshold {threshold:g} at fan-in {fan_in} needs weight std "
            f"{math.sqrt(target_variance):.4g}, but the 8-bit grid clips at +-{grid.high:g} "
            f"(std {math.sqrt(capacity):.4g} at most); the largest threshold it drives at "
            f"this fan-in is {largest:.4g}. Lower the threshold or sigma, or widen the layer")


def _warn_operating_point(report: InitReport, name: str, threshold: float, sigma: float,
                          memoryless: bool) -> None:
    """Warn, naming the block, when ``(threshold, sigma)`` is unstable or, for a memoryless
    block, nearer the saddle-node than the default."""
    ratio = threshold / sigma
    if not theory.is_stable(threshold, sigma):
        report.warn(f"block {name!r}: theta/sigma = {ratio:.3f} > {theory.CRITICAL_RATIO:.3f} "
                    "makes the variance fixed point unstable (activity dies out or saturates "
                    f"with depth); use sigma >= {threshold / theory.DEFAULT_RATIO:.4g} or "
                    "sigma=None")
    elif memoryless and theory.drive_margin(threshold, sigma) < theory.DEFAULT_MARGIN * (1 - 1e-9):
        report.warn(f"block {name!r}: theta/sigma = {ratio:.3f} leaves a drive margin of "
                    f"{theory.drive_margin(threshold, sigma):.3f} to the saddle-node (default "
                    f"{theory.DEFAULT_MARGIN:.3f} at theta/sigma = {theory.DEFAULT_RATIO}); "
                    "narrow deep stacks can fall silent. Use sigma >= "
                    f"{threshold / theory.DEFAULT_RATIO:.4g} or sigma=None")


def _block_row(spec: BlockSpec, point: OperatingPoint, target_variance: float | None,
               weight: torch.Tensor, quantization_aware: bool, report: InitReport) -> BlockInit:
    grid, name = spec.grid, spec.name
    effective = grid.apply(weight) if grid else weight
    target_std = math.sqrt(target_variance) if target_variance is not None else float(
        weight.pow(2).mean().sqrt())
    quantized_std = float(effective.pow(2).mean().sqrt())
    fraction_zero = float((effective == 0).float().mean())
    fraction_clipped = (float(((effective <= grid.low) | (effective >= grid.high)).float().mean())
                        if grid else 0.0)
    if grid and fraction_clipped > 0.001:
        report.warn(f"block {name!r}: {fraction_clipped:.1%} of weights clipped at "
                    f"+-{grid.high:g} by the 8-bit grid")
    if quantization_aware and grid and target_std > 0:
        error = abs(quantized_std**2 / target_std**2 - 1.0)
        if error > VARIANCE_TOLERANCE or fraction_zero > MAX_ZERO_FRACTION:
            report.warn(f"block {name!r}: target weight std {target_std:.4g} is small against "
                        f"the 8-bit weight step {grid.step:.4g}; {fraction_zero:.0%} of weights "
                        f"quantize to zero (quantized variance off by {error:.1%}). Raise sigma "
                        "together with the threshold, or give the neuron a finer weight grid "
                        "(its scale)")
    return BlockInit(name, spec.kind, spec.fan_in, spec.threshold, point.threshold, point.sigma,
                     theory.drive_margin(point.threshold, point.sigma), target_std,
                     quantized_std, fraction_zero, fraction_clipped,
                     theory.is_stable(point.threshold, point.sigma))
