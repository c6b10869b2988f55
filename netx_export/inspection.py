"""Activity of any NetX network on Lava, layer by layer: does it reach the last layer?"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lava_init.records import (
    LayerActivity,
    first_silent_layer,
    layer_activity,
    propagates,
    propagation_verdict,
)
from lava_init.tables import format_table
from netx_export.running.lava_run import run_netx


@dataclass
class LayerReport:
    """One Lava layer: its NetX type (``dense``, ``conv``, ``input``, ...) and its activity
    (``activity.name`` is ``layer/{i}`` in the file; rates in spikes per neuron per step)."""

    kind: str
    activity: LayerActivity


@dataclass
class InspectReport:
    """Per-layer Lava activity of a NetX file; ``str()`` prints the table and the verdict.

    ``skipped``: ``(name, type)`` of the layers NetX cannot run (not simulated);
    ``spikes``: each Lava layer's output, (batch, neurons, steps).
    """

    path: Path
    backend: str
    samples: int
    time_steps: int
    layers: list[LayerReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    spikes: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def first_silent(self) -> str | None:
        """Name of the first layer that never spikes (None when every layer spikes)."""
        return first_silent_layer([layer.activity for layer in self.layers])

    @property
    def propagates(self) -> bool:
        """True when every Lava layer, the last included, emits spikes."""
        return propagates([layer.activity for layer in self.layers])

    def __str__(self) -> str:
        rows = [[layer.activity.name, layer.kind, layer.activity.neurons, layer.activity.latency,
                 layer.activity.rate, layer.activity.silent_fraction] for layer in self.layers]
        lines = [f"{self.path} on Lava {self.backend}: {self.samples} sample(s) x "
                 f"{self.time_steps} steps",
                 format_table(["layer", "kind", "neurons", "latency", "rate", "silent"], rows)]
        lines += [f"{name} ({kind}): skipped, NetX 0.6.0 cannot run it (nor what follows)"
                  for name, kind in self.skipped[:1]]
        lines += [f"{name} ({kind}): skipped" for name, kind in self.skipped[1:]]
        lines.append(propagation_verdict([layer.activity for layer in self.layers]))
        return "\n".join(lines)


def inspect(path: str | Path, spikes, backend: str = "fixed_pt", workers: int | None = None,
            progress: bool = False) -> InspectReport:
    """Run the NetX file ``path`` on Lava and report each layer's activity.

    Any file lava-dl's NetX loader accepts: Input (with neurons: graded input), Dense, Conv,
    Flatten, recurrent Dense, bias, axonal delays. Layers NetX cannot create (a trailing
    ``average``, ``pool``, ...) are named in ``skipped`` and not run. Rates and silent
    fractions count from each layer's latency: the first step its input can reach it
    (Lava delays each layer by one step; axonal delays not counted).

    Args:
        path: the NetX HDF5 file.
        spikes: input in SLAYER order, ``(*input, T)`` or ``(batch, *input, T)``, binary
            (graded values only for a network starting with an Input layer with neurons).
        backend: ``"fixed_pt"`` or ``"loihi2"`` (see :func:`netx_export.run_lava`).
        workers: processes sharing the samples (default: one per 2 available cores).
        progress: a progress bar over the samples (stderr, only on a terminal).

    >>> import tempfile, torch; from lava.lib.dl import slayer; from netx_export import export_netx
    >>> neuron = {"threshold": 0.5, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> torch.manual_seed(0) and None
    >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4))
    >>> path = export_netx(net, tempfile.mkdtemp() + "/net.net")
    >>> inspect(path, torch.ones(8, 6), workers=1).layers[0].kind
    'dense'
    """
    run = run_netx(path, spikes, backend, progress, workers)
    report = InspectReport(Path(path), backend, samples=int(run.spikes[0].shape[0]),
                           time_steps=int(run.spikes[0].shape[-1]), skipped=run.plan.skipped,
                           spikes=run.spikes)
    first_latency = 0 if run.plan.input_transform else 1
    for index, ((name, kind), spikes_out) in enumerate(
            zip(run.plan.layers, run.spikes, strict=True)):
        latency = min(first_latency + index, spikes_out.shape[-1])
        report.layers.append(LayerReport(kind, layer_activity(name, spikes_out, latency)))
    return report
