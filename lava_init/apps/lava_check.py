"""A trained network exported to NetX and run on Lava fixed_pt: accuracy and mismatches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from lava_init.apps.data import SpikeDataset
from lava_init.apps.models import (
    class_counts,
    count_predictions,
    pad_for_lava,
    readout_population,
    spiking_layers,
)
from lava_init.records import LayerActivity, layer_activity
from netx_export import VerifyReport, export_netx, verify


@dataclass
class LavaCheck:
    """The trained network exported to NetX and run on Lava fixed_pt on test samples.

    ``lava_activity``: each Lava layer's activity over the T steps in which the samples pass
    through it (steps ``latency .. latency + T - 1`` of the padded run), in layer order.
    """

    path: Path
    samples: int
    slayer_acc: float
    lava_acc: float
    report: VerifyReport
    lava_activity: list[LayerActivity]

    def __str__(self) -> str:
        return (f"{self.report}\nNetX network: {self.path}\non the first {self.samples} test "
                f"samples: SLAYER accuracy {self.slayer_acc:.4f}, Lava fixed_pt accuracy "
                f"{self.lava_acc:.4f}")


@torch.no_grad()
def export_and_verify(model: torch.nn.Module, dataset: SpikeDataset, path: str | Path,
                      samples: int = 16, progress: bool = False) -> LavaCheck:
    """Export ``model`` with ``netx_export.export_netx``, run it on Lava's fixed-point simulator
    on the first ``samples`` of ``dataset`` (each followed by one silent step per layer, see
    :func:`lava_init.apps.models.pad_for_lava`) and compare: accuracy from the output spike counts
    in SLAYER (steps 0 .. T-1) and on Lava (steps L .. L+T-1), per class summed over its
    readout population, and ``verify``'s per-layer mismatches."""

    items = [dataset[i] for i in range(min(samples, len(dataset)))]
    spikes = torch.stack([spikes for spikes, _ in items])
    labels = torch.tensor([label for _, label in items])
    model = model.cpu().eval()
    path = export_netx(model, path, input_shape=dataset.model_input_shape,
                       input_levels=dataset.input_levels)
    population = readout_population(model)
    slayer_counts = class_counts(model(spikes).sum(-1), population)
    padded = pad_for_lava(spikes, model)
    layers, time_steps = spiking_layers(model), spikes.shape[-1]
    report = verify(model, path, padded, progress=progress)  # one Lava run for both
    lava_counts = class_counts(torch.as_tensor(
        report.lava_spikes[-1][..., layers:layers + time_steps]).sum(-1), population)
    activity = [layer_activity(layer.name, spikes[..., :layer.latency + time_steps],
                               layer.latency)
                for layer, spikes in zip(report.layers, report.lava_spikes, strict=True)]
    return LavaCheck(
        path=path, samples=len(items),
        slayer_acc=float((count_predictions(slayer_counts) == labels).float().mean()),
        lava_acc=float((count_predictions(lava_counts) == labels).float().mean()),
        report=report, lava_activity=activity)
