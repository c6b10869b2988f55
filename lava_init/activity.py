"""Per-layer spiking activity of a SLAYER network, measured with forward hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lava_init.records import LayerActivity, layer_activity, propagates, propagation_verdict
from lava_init.slayer_blocks import block_synapses, latencies, spiking_blocks
from lava_init.tables import format_table


@dataclass
class ActivityReport:
    """Per-layer activity in module order; ``str()`` prints the table."""

    layers: list[LayerActivity] = field(default_factory=list)

    @property
    def propagates(self) -> bool:
        """True when every layer, the last included, has spikes."""
        return propagates(self.layers)

    @property
    def rates(self) -> list[float]:
        """Spike rate per layer, in module order."""
        return [layer.rate for layer in self.layers]

    def __str__(self) -> str:
        headers = ["layer", "neurons", "latency", "rate", "silent", "input_var"]
        rows = [[a.name, a.neurons, a.latency, a.rate, a.silent_fraction, a.input_variance]
                for a in self.layers]
        return f"{format_table(headers, rows)}\n{propagation_verdict(self.layers)}"


def _record_outputs(blocks: list[tuple[str, torch.nn.Module]]
                    ) -> tuple[dict[str, torch.Tensor], dict[str, list[torch.Tensor]], list]:
    """Hooks storing each block's spikes and each synapse's output (the neuron's drive)."""
    outputs: dict[str, torch.Tensor] = {}
    drives: dict[str, list[torch.Tensor]] = {}
    handles = []
    for name, block in blocks:
        handles.append(block.register_forward_hook(
            lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach())))
        for synapse in block_synapses(block):
            handles.append(synapse.register_forward_hook(
                lambda _m, _i, out, name=name: drives.setdefault(name, []).append(out.detach())))
    return outputs, drives, handles


@torch.no_grad()
def measure_activity(net: torch.nn.Module, x: torch.Tensor) -> ActivityReport:
    """Run ``net(x)`` once and report, per SLAYER block, rate, silent fraction and input variance.

    Args:
        net: any module holding lava-dl SLAYER blocks; its train/eval mode is kept.
        x: spikes in SLAYER layout, (batch, channels, time) or (batch, C, H, W, time); give a
            deep network more steps than delaying blocks.

    Returns:
        An :class:`ActivityReport`, one :class:`~lava_init.records.LayerActivity` per block.

    >>> import torch; from lava.lib.dl import slayer
    >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> net = slayer.block.cuba.Dense(neuron, 8, 4, delay_shift=False)
    >>> len(measure_activity(net, torch.ones(2, 8, 5)).layers)
    1
    """
    blocks = spiking_blocks(net)
    outputs, drives, handles = _record_outputs(blocks)
    try:
        net(x)
    except (RuntimeError, AssertionError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"{type(net).__name__} cannot run on x of shape {tuple(x.shape)} ({reason}); give "
            "spikes in SLAYER layout, (batch, channels, time) or (batch, C, H, W, time), with "
            "the first block's input size") from None
    finally:
        for handle in handles:
            handle.remove()
    report = ActivityReport()
    starts = latencies(net)
    for name, block in blocks:
        if name not in outputs:
            continue
        latency = starts[id(block)]
        drive_start = max(latency - 1, 0)  # the synapse sees its input one step before output
        variance = (float(torch.cat([d[..., drive_start:].flatten() for d in drives[name]]).var())
                    if name in drives else float("nan"))
        report.layers.append(layer_activity(name, outputs[name], latency, variance))
    return report
