"""Per-layer spiking activity of a SLAYER network, measured with forward hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lava_init.network import block_synapses, is_slayer_block
from lava_init.report import format_table


@dataclass
class LayerActivity:
    """Activity of one block over a batch.

    ``rate``: spikes per neuron per time step, counted from ``latency``, the first step at which
    input can reach the layer (SLAYER's ``delay_shift`` delays each block by one step, as Lava
    does); ``silent_fraction``: neurons that never spike in that window for any sample;
    ``input_variance``: variance of the synaptic input to the neuron (the membrane drive,
    weight units) over the steps its input can arrive, NaN for blocks without a synapse.
    """

    name: str
    neurons: int
    latency: int
    rate: float
    silent_fraction: float
    input_variance: float


@dataclass
class ActivityReport:
    """Per-layer activity in module order; ``str()`` prints the table."""

    layers: list[LayerActivity] = field(default_factory=list)

    @property
    def propagates(self) -> bool:
        """True when every layer, the last included, has spikes."""
        return bool(self.layers) and all(layer.rate > 0 for layer in self.layers)

    @property
    def rates(self) -> list[float]:
        return [layer.rate for layer in self.layers]

    def __str__(self) -> str:
        headers = ["layer", "neurons", "latency", "rate", "silent", "input_var"]
        rows = [[a.name, a.neurons, a.latency, a.rate, a.silent_fraction, a.input_variance]
                for a in self.layers]
        verdict = "activity reaches the last layer" if self.propagates else "activity dies out"
        return f"{format_table(headers, rows)}\n{verdict}"


def _spiking_blocks(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    return [(name or type(m).__name__, m) for name, m in net.named_modules()
            if is_slayer_block(m) and hasattr(m, "neuron")]


@torch.no_grad()
def measure_activity(net: torch.nn.Module, x: torch.Tensor) -> ActivityReport:
    """Run ``net(x)`` once and report, per SLAYER block, rate, silent fraction and input variance.

    ``x``: SLAYER layout, (batch, channels, time) or (batch, C, H, W, time); give a deep
    network more steps than blocks, since each block delays by one step. The network's
    train/eval mode is kept; gradients are off.
    """
    blocks = _spiking_blocks(net)
    if not blocks:
        raise ValueError(
            f"{type(net).__name__} contains no lava-dl SLAYER block to measure; build it from "
            "lava.lib.dl.slayer.block (e.g. cuba.Dense, cuba.Conv)"
        )
    outputs: dict[str, torch.Tensor] = {}
    drives: dict[str, list[torch.Tensor]] = {}
    handles = []
    for name, block in blocks:
        handles.append(block.register_forward_hook(
            lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach())))
        for synapse in block_synapses(block):
            handles.append(synapse.register_forward_hook(
                lambda _m, _i, out, name=name: drives.setdefault(name, []).append(out.detach())))
    try:
        net(x)
    finally:
        for handle in handles:
            handle.remove()
    report = ActivityReport()
    latency = 0
    for name, block in blocks:
        latency += int(bool(getattr(block, "delay_shift", False)))
        if name not in outputs:
            continue
        spikes = outputs[name][..., latency:]
        per_neuron = spikes.flatten(1, -2).sum(dim=(0, -1))
        drive_start = max(latency - 1, 0)  # the synapse sees its input one step before output
        drive = (torch.cat([d[..., drive_start:].flatten() for d in drives[name]])
                 if name in drives else None)
        report.layers.append(LayerActivity(
            name=name,
            neurons=int(per_neuron.numel()),
            latency=latency,
            rate=float(spikes.mean()) if spikes.numel() else 0.0,
            silent_fraction=float((per_neuron == 0).float().mean()),
            input_variance=float(drive.var()) if drive is not None else float("nan"),
        ))
    return report
