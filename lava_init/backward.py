"""Backward conservation by measurement: each block's surrogate amplitude from one batch.

Where no closed form holds (integrating CUBA neurons over T steps, where the gradient flows
back through the current and voltage decays: backpropagation through time), the surrogate
amplitude that conserves the gradient is measured instead, as :func:`lava_init.calibrate`
measures rates::

    lava_init.initialize(net, "temporal", time_steps=20)
    lava_init.calibrate(net, x)                 # forward: every block at the input's rate
    lava_init.calibrate_surrogate(net, x)       # backward: every block's gradient alike

Given the forward spikes, SLAYER's backward pass is linear in each block's surrogate
amplitude ``a_l`` (``f'(v) = a_l / (2 tau) exp(-|v - theta| / tau)``), and the gradient reaching
block ``l`` has passed through the surrogates of blocks ``l .. L``: its weight-gradient norm is
``n_l * prod_{k >= l} a_k / a_k(0)``. Multiplying ``a_l`` by ``n_{l+1} / n_l`` (the output
block's kept) therefore makes every block's weight-gradient norm the output block's, exactly,
on the measured batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from lava_init.slayer_blocks import (
    block_surrogate,
    block_synapses,
    set_surrogate_scale,
    synapse_weight,
    weighted_blocks,
)
from lava_init.tables import format_table


@dataclass
class LayerSurrogate:
    """One block: its surrogate amplitude and weight-gradient norm before and after."""

    name: str
    scale_before: float
    scale: float
    gradient_before: float
    gradient: float


@dataclass
class SurrogateReport:
    """Per-block surrogate calibration in module order; ``str()`` prints the table."""

    layers: list[LayerSurrogate] = field(default_factory=list)

    @property
    def spread(self) -> float:
        """max / min of the blocks' weight-gradient norms after calibration (1 is ideal)."""
        norms = [layer.gradient for layer in self.layers]
        return max(norms) / min(norms)

    def __str__(self) -> str:
        headers = ["block", "scale before", "scale", "grad norm before", "grad norm"]
        rows = [[s.name, s.scale_before, s.scale, f"{s.gradient_before:.3g}",
                 f"{s.gradient:.3g}"] for s in self.layers]
        return (f"surrogate calibration (grad norm max/min {self.spread:.3g})\n"
                f"{format_table(headers, rows)}")


def weight_gradient_norms(net: torch.nn.Module, x: torch.Tensor, seed: int = 0) -> list[float]:
    """Each weighted block's weight-gradient norm after one backward pass of a fixed random
    output gradient (standard normal per output entry, from ``seed``): the backward pass at
    ``x`` without labels. Leaves no gradient on the parameters.

    Args:
        net: a module holding lava-dl SLAYER blocks with weights.
        x: the input batch, SLAYER layout (batch, ..., time).
        seed: the seed of the random output gradient.

    Returns:
        One norm per weighted block, in module order (0.0 for a block no gradient reached).

    Example:
        >>> from lava.lib.dl.slayer.block import cuba
        >>> from lava_init import initialize
        >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> net = torch.nn.Sequential(cuba.Dense(neuron, 16, 16), cuba.Dense(neuron, 16, 4))
        >>> _ = initialize(net, generator=torch.Generator().manual_seed(0))
        >>> x = (torch.rand(4, 16, 5, generator=torch.Generator().manual_seed(1)) < 0.3).float()
        >>> [round(norm, 2) for norm in weight_gradient_norms(net, x)]
        [11.66, 12.57]
    """
    weights = [synapse_weight(block_synapses(block)[0]) for _, block in weighted_blocks(net)]
    previous = [(weight.grad, weight.requires_grad) for weight in weights]
    try:
        for weight in weights:
            weight.grad = None
            weight.requires_grad_(True)
        out = net(x)
        direction = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed))
        (out * direction.to(out.device)).sum().backward()
        return [0.0 if w.grad is None else float(w.grad.norm()) for w in weights]
    finally:
        for weight, (grad, requires_grad) in zip(weights, previous, strict=True):
            weight.grad = grad
            weight.requires_grad_(requires_grad)


def calibrate_surrogate(net: torch.nn.Module, x: torch.Tensor, seed: int = 0
                        ) -> SurrogateReport:
    """Set each CUBA block's surrogate amplitude so that, on ``x``, every block's weight
    gradient has the norm of the output block's (module docstring: the rule).

    Args:
        net: a chain of lava-dl SLAYER CUBA blocks (any module holding them), initialized and
            best calibrated for rates first (:func:`lava_init.calibrate`).
        x: a spike batch in SLAYER layout (batch, ..., time).
        seed: the random output gradient's seed.

    Returns:
        A :class:`SurrogateReport`; ``spread`` is 1 up to rounding on ``x``.

    Raises:
        ValueError: a block without a CUBA surrogate, or one that gets no gradient (it or a
            block after it is silent on ``x``: calibrate rates first).

    Example:
        >>> from lava.lib.dl import slayer
        >>> import lava_init
        >>> memoryless = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> dense = slayer.block.cuba.Dense
        >>> net = torch.nn.Sequential(dense(memoryless, 16, 16), dense(memoryless, 16, 4))
        >>> report = lava_init.initialize(net, generator=torch.Generator().manual_seed(0))
        >>> spikes = torch.rand(4, 16, 5, generator=torch.Generator().manual_seed(1)) < 0.3
        >>> round(calibrate_surrogate(net, spikes.float()).spread, 6)
        1.0
    """
    blocks = weighted_blocks(net)
    surrogates = [block_surrogate(block) for _, block in blocks]
    missing = [name for (name, _), s in zip(blocks, surrogates, strict=True) if s is None]
    if missing:
        raise ValueError(f"blocks {', '.join(missing)} have no CUBA surrogate gradient; "
                         "calibrate_surrogate sets lava-dl CUBA neurons' scale_grad only")
    before = weight_gradient_norms(net, x, seed)
    silent = [name for (name, _), norm in zip(blocks, before, strict=True)
              if not math.isfinite(norm) or norm == 0.0]
    if silent:
        raise ValueError(f"blocks {', '.join(silent)} get no gradient on x (they or the "
                         "blocks after them are silent); run lava_init.calibrate(net, x) first")
    factors = [before[i + 1] / before[i] for i in range(len(blocks) - 1)] + [1.0]
    for (_, block), (_, scale), factor in zip(blocks, surrogates, factors, strict=True):
        set_surrogate_scale(block, scale * factor)
    after = weight_gradient_norms(net, x, seed)
    report = SurrogateReport()
    for (name, block), (_, scale), norm_before, norm in zip(blocks, surrogates, before, after,
                                                            strict=True):
        report.layers.append(LayerSurrogate(name, scale, block_surrogate(block)[1],
                                            norm_before, norm))
    return report
