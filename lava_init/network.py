"""Apply the initializers to lava-dl SLAYER networks, block by block.

Each block is initialized from its own neuron (threshold, weight grid) and its own synapses
(fan-in, weight normalization); lava-dl's block / synapse / neuron split is used as it is.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from lava.lib.dl.slayer import synapse as slayer_synapse

from lava_init import theory
from lava_init.init import Quantization, calculate_fan_out, get_initializer
from lava_init.report import format_table

#: Synapse attributes of SLAYER blocks, in the order they feed the neuron.
SYNAPSE_ATTRIBUTES = ("synapse", "input_synapse", "recurrent_synapse")
#: SLAYER synapses with learnable weights (Pool / Unpool hold fixed weights).
WEIGHTED_SYNAPSES = (slayer_synapse.Dense, slayer_synapse.Conv, slayer_synapse.ConvTranspose)
#: Fraction of zero weights above which the quantized distribution is called degenerate.
MAX_ZERO_FRACTION = 0.5
#: Relative error of the quantized variance that is tolerated.
VARIANCE_TOLERANCE = 0.05


def is_slayer_block(module: torch.nn.Module) -> bool:
    """True for modules defined in ``lava.lib.dl.slayer.block`` (cuba.Dense, cuba.Conv, ...)."""
    return type(module).__module__.startswith("lava.lib.dl.slayer.block")


def block_synapses(block: torch.nn.Module) -> list[torch.nn.Module]:
    """The learnable synapses of a SLAYER block (input and recurrent ones for Recurrent)."""
    found = (getattr(block, name, None) for name in SYNAPSE_ATTRIBUTES)
    return [s for s in found if isinstance(s, WEIGHTED_SYNAPSES)]


def weighted_blocks(net: torch.nn.Module) -> Iterator[tuple[str, torch.nn.Module]]:
    """``(name, block)`` for every SLAYER block with learnable weights, in module order."""
    for name, module in net.named_modules():
        if is_slayer_block(module) and block_synapses(module):
            yield name or type(module).__name__, module


def synapse_weight(synapse: torch.nn.Module) -> torch.Tensor:
    """The effective weight tensor of a synapse (``g * v / ||v||`` under weight_norm)."""
    if getattr(synapse, "weight_norm_enabled", False):
        v, g = synapse.weight_v, synapse.weight_g
        return g * v / v.flatten(1).norm(dim=1).clamp_min(1e-30).view(-1, *[1] * (v.dim() - 1))
    return synapse.weight


@torch.no_grad()
def set_synapse_weight(synapse: torch.nn.Module, weight: torch.Tensor) -> None:
    """Make ``weight`` the synapse's effective weight, setting ``g`` and ``v`` under weight_norm.

    A row that is all zero keeps ``v = 1`` and ``g = 0`` so that ``g * v / ||v||`` stays finite.
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
    """Inputs per neuron; for a transposed convolution, averaged over output positions."""
    shape = synapse_weight(synapse).shape
    kernel = math.prod(shape[2:])
    if isinstance(synapse, slayer_synapse.ConvTranspose):
        return max(1, round(shape[0] // synapse.groups * kernel / math.prod(synapse.stride)))
    return shape[1] * kernel


def block_quantization(block: torch.nn.Module) -> Quantization | None:
    """The weight grid SLAYER applies in this block's forward pass (None without pre_hook_fx)."""
    synapses = block_synapses(block)
    if synapses[0].pre_hook_fx is None or not hasattr(block.neuron, "w_scale"):
        return None
    return Quantization.from_w_scale(block.neuron.w_scale)


def block_threshold(block: torch.nn.Module) -> float | None:
    """The block's firing threshold as SLAYER stores it (int(theta*64)/64); None for readouts."""
    threshold = getattr(block.neuron, "threshold", None)
    if threshold is None or float(threshold) < 0:
        return None
    return float(threshold)


#: Keywords :func:`initialize` passes itself to ``uses_dynamics`` methods (see block_decays).
DYNAMICS = ("current_decay", "voltage_decay")


def block_decays(block: torch.nn.Module) -> dict[str, float]:
    """``current_decay`` and ``voltage_decay`` as SLAYER applies them (1/4096 steps, in [0, 1]).

    A neuron without a current state (LIF) has ``current_decay = 1``; one without a voltage
    decay (e.g. sigma-delta) cannot be modelled over time and gives a clear error.
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


@dataclass
class BlockInit:
    """One initialized block: its inputs and the statistics of its quantized weights."""

    name: str
    kind: str
    fan_in: int
    threshold: float | None
    sigma: float
    target_std: float
    quantized_std: float
    fraction_zero: float
    fraction_clipped: float
    stable: bool


@dataclass
class InitReport:
    """What :func:`initialize` did, one row per block; ``str()`` prints the table.
    ``options``: the method's options as given (e.g. ``time_steps``)."""

    method: str
    options: dict = field(default_factory=dict)
    blocks: list[BlockInit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        headers = ["block", "kind", "fan_in", "threshold", "sigma", "target_std",
                   "quantized_std", "zero", "clipped", "stable"]
        rows = [[b.name, b.kind, b.fan_in, "-" if b.threshold is None else b.threshold,
                 b.sigma, b.target_std, b.quantized_std, b.fraction_zero, b.fraction_clipped,
                 b.stable] for b in self.blocks]
        given = ", ".join(f"{k}={v}" for k, v in self.options.items())
        lines = [f"init method: {self.method}{f' ({given})' if given else ''}",
                 format_table(headers, rows)]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _block_sigma(threshold: float | None, sigma: float | None) -> float:
    if sigma is None:
        return theory.default_sigma(threshold) if threshold is not None else 1.0
    if not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(
            f"sigma must be a finite number > 0 (got {sigma!r}); leave it None to choose "
            "sigma = threshold per block"
        )
    return float(sigma)


def _check_block_threshold(name: str, threshold: float | None) -> None:
    if threshold is not None and (not math.isfinite(threshold) or threshold <= 0):
        raise ValueError(
            f"block {name!r} has threshold {threshold!r}; the variance-conserving rule needs a "
            "finite threshold > 0 (SLAYER stores int(theta*64)/64, so use theta >= 1/64)"
        )


def _warn(report: InitReport, message: str) -> None:
    report.warnings.append(message)
    warnings.warn(message, stacklevel=3)


@torch.no_grad()
def initialize(
    net: torch.nn.Module,
    method: str = "variance_conserving",
    sigma: float | None = None,
    quantize: bool | None = None,
    generator: torch.Generator | None = None,
    **options: object,
) -> InitReport:
    """Initialize every SLAYER block of ``net`` in place and return a per-block report.

    ``method``: a name from :data:`lava_init.init.INITIALIZERS`. ``sigma``: target membrane
    std (weight units); None chooses ``sigma = threshold`` per block, a stable fixed point
    (theta/sigma = 1 < 1.19). ``quantize``: draw on the block's 8-bit weight grid so that the
    variance SLAYER and Loihi see is the target; None means yes for quantization-aware methods
    (variance_conserving and later ones), no for the baselines (as users get them today).
    Readout blocks without a threshold (Affine) are treated as if ``threshold = sigma``.
    ``options`` (e.g. ``time_steps=20``) go to methods that model the neuron over time
    (``uses_dynamics``), which also get each block's decays (:func:`block_decays`).
    """
    init_method = get_initializer(method)
    if options and not init_method.uses_dynamics:
        raise ValueError(f"init method {method!r} takes no options (got {', '.join(options)}); "
                         "options such as time_steps are for methods like 'temporal'")
    keywords = [p.name for p in inspect.signature(init_method.fn).parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in DYNAMICS]
    unknown = [name for name in options if name not in keywords]
    if unknown:
        raise ValueError(f"init method {method!r} has no option {', '.join(unknown)}; "
                         f"its options are: {', '.join(keywords)}")
    blocks = list(weighted_blocks(net))
    if not blocks:
        raise ValueError(
            f"{type(net).__name__} contains no lava-dl SLAYER block with weights; build it from "
            "lava.lib.dl.slayer.block (e.g. cuba.Dense, cuba.Conv)"
        )
    quantize = init_method.quantization_aware if quantize is None else quantize
    report = InitReport(method, dict(options))
    for name, block in blocks:
        threshold = block_threshold(block)
        _check_block_threshold(name, threshold)
        block_sigma = _block_sigma(threshold, sigma)
        neuron_threshold = block_sigma * theory.DEFAULT_RATIO if threshold is None else threshold
        stable = theory.is_stable(neuron_threshold, block_sigma)
        if init_method.uses_threshold and not stable:
            _warn(report, f"block {name!r}: theta/sigma = {neuron_threshold / block_sigma:.3f} "
                  f"> {theory.CRITICAL_RATIO:.3f} makes the variance fixed point unstable "
                  "(activity dies out or saturates with depth); use sigma >= "
                  f"{neuron_threshold / theory.CRITICAL_RATIO:.4g} or sigma=None")
        synapses = block_synapses(block)
        fan_in = sum(synapse_fan_in(s) for s in synapses)
        quantization = block_quantization(block) if quantize else None
        dynamics = {**block_decays(block), **options} if init_method.uses_dynamics else {}
        weights = []
        for synapse in synapses:
            weight = torch.empty_like(synapse_weight(synapse))
            init_method.fn(weight, threshold=neuron_threshold, sigma=block_sigma,
                           generator=generator, quantization=quantization, fan_in=fan_in,
                           **dynamics)
            set_synapse_weight(synapse, weight)
            weights.append(weight.flatten())
        fan_out = calculate_fan_out(synapse_weight(synapses[0]))
        target_variance = (init_method.variance(fan_in, fan_out, neuron_threshold, block_sigma)
                           if init_method.variance else None)
        report.blocks.append(_block_row(name, block, target_variance, fan_in, threshold,
                                        block_sigma, torch.cat(weights), stable,
                                        init_method.quantization_aware, report))
    return report


def _block_row(name: str, block: torch.nn.Module, target_variance: float | None,
               fan_in: int, threshold: float | None, sigma: float, weight: torch.Tensor,
               stable: bool, quantization_aware: bool, report: InitReport) -> BlockInit:
    grid = block_quantization(block)
    effective = grid.apply(weight) if grid else weight
    target_std = math.sqrt(target_variance) if target_variance is not None else float(
        weight.pow(2).mean().sqrt())
    quantized_std = float(effective.pow(2).mean().sqrt())
    fraction_zero = float((effective == 0).float().mean())
    fraction_clipped = (float(((effective <= grid.low) | (effective >= grid.high)).float().mean())
                        if grid else 0.0)
    if quantization_aware and grid and target_std > 0:
        error = abs(quantized_std**2 / target_std**2 - 1.0)
        if error > VARIANCE_TOLERANCE or fraction_zero > MAX_ZERO_FRACTION:
            _warn(report, f"block {name!r}: target weight std {target_std:.4g} is small against "
                  f"the 8-bit weight step {grid.step:.4g}; {fraction_zero:.0%} of weights "
                  f"quantize to zero (quantized variance off by {error:.1%}). Raise sigma together "
                  "with the threshold, or give the neuron a finer weight grid (its scale)")
    return BlockInit(name, type(block).__name__, fan_in, threshold, sigma, target_std,
                     quantized_std, fraction_zero, fraction_clipped, stable)
