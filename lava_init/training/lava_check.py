"""A trained network exported to NetX and run on Lava fixed_pt: accuracy and mismatches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from lava_init.records import LayerActivity, layer_activity
from lava_init.slayer_blocks import LavaCurrentWrap
from lava_init.training.data import SpikeDataset
from lava_init.training.models import (
    class_counts,
    count_predictions,
    pad_for_lava,
    readout_population,
    spiking_layers,
)
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
    """Export ``model`` with ``netx_export.export_netx`` and check it on Lava fixed_pt.

    It runs the network on Lava's fixed-point simulator on the first ``samples`` of
    ``dataset`` (each followed by one silent step per layer, see
    :func:`~.models.pad_for_lava`) and compares: accuracy from the output spike counts
    in SLAYER (steps 0 .. T-1) and on Lava (steps L .. L+T-1), per class summed over its
    readout population, and ``verify``'s per-layer mismatches.

    Args:
        model: the trained network (moved to the CPU, put in eval mode).
        dataset: the test set; its first ``samples`` are run.
        path: the NetX file to write.
        samples: how many test samples to run.
        progress: show Lava's progress.

    Returns:
        A :class:`LavaCheck`: the NetX path, the sample count, both accuracies, the
        ``VerifyReport`` and each Lava layer's activity.

    Example:
        A Lava run takes a few seconds, so the run itself is skipped here; on a 2-block MLP
        and 2 samples it reports no mismatched spike and the same accuracy on both sides:

        >>> import tempfile
        >>> from lava_init.training.data import RateEncodedImages
        >>> from lava_init.training.models import build_model
        >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> _ = torch.manual_seed(0)
        >>> net = build_model({"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1,
        ...                    "width": 3, "settings": {"neuron": neuron}})
        >>> data = RateEncodedImages(torch.full((2, 1, 2, 2), 16), torch.tensor([0, 1]), 16, 3,
        ...                          flatten=True, encoding="regular")
        >>> check = export_and_verify(net, data, tempfile.mkdtemp() + "/net.net", samples=2)
        ... # doctest: +SKIP
        >>> check.samples, check.slayer_acc == check.lava_acc  # doctest: +SKIP
        (2, True)
        >>> print(check)  # doctest: +SKIP
        SLAYER vs Lava fixed_pt: 2 sample(s) x 5 steps
        ...
        total mismatched spikes: 0 (spike-exact)
        ...
    """

    items = [dataset[i] for i in range(min(samples, len(dataset)))]
    spikes = torch.stack([spikes for spikes, _ in items])
    labels = torch.tensor([label for _, label in items])
    model = model.cpu().eval()
    path = export_netx(model, path, input_shape=dataset.model_input_shape)
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


@dataclass(frozen=True)
class CurrentWrapMeasurement:
    """How far a graded first layer's current (SLAYER units, before the wrap) goes on some
    samples, against the limit ``M`` of Lava's 24-bit register (:class:`LavaCurrentWrap`).

    ``wrapped_fraction``: the fraction of the layer's ``neuron_steps`` (samples x neurons x
    steps) whose current Lava wraps (above ``M`` or at or below ``-M``)."""

    limit: float
    largest_current: float
    wrapped_fraction: float
    neuron_steps: int

    def __str__(self) -> str:
        return (f"first-layer current: largest |current| {self.largest_current:.4g} against "
                f"Lava's limit {self.limit:g}; wrapped in {self.wrapped_fraction:.3%} of "
                f"{self.neuron_steps} neuron-steps")


@torch.no_grad()
def measure_current_wrap(model: torch.nn.Module, dataset: torch.utils.data.Dataset,
                         samples: int | None = None, batch_size: int = 64
                         ) -> CurrentWrapMeasurement:
    """The first layer's current on the first ``samples`` of ``dataset`` (``(input, label)``
    pairs, e.g. a graded :class:`SpikeDataset`; all of them: None), read at
    its :class:`LavaCurrentWrap` (the model of graded input, ``input_levels``): the largest
    magnitude and the fraction of neuron-steps that Lava wraps.

    Args:
        model: a network built for graded input (its first block has a
            :class:`LavaCurrentWrap`; ValueError otherwise).
        dataset: ``(input, label)`` pairs.
        samples: how many of the first samples to run (None: all).
        batch_size: samples per forward pass.

    Returns:
        A :class:`CurrentWrapMeasurement`.

    Example:
        >>> from lava_init.training.data import RateEncodedImages
        >>> from lava_init.training.models import build_model
        >>> _ = torch.manual_seed(0)
        >>> net = build_model({"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1,
        ...                    "width": 3, "input": {"encoding": "graded", "time_steps": 3,
        ...                                          "levels": 16}})
        >>> data = RateEncodedImages(torch.full((2, 1, 2, 2), 16), torch.tensor([0, 1]), 16, 3,
        ...                          flatten=True, encoding="graded")
        >>> measured = measure_current_wrap(net, data)
        >>> measured.limit, measured.wrapped_fraction, measured.neuron_steps  # 2 x 3 x 3
        (128.0, 0.0, 18)
    """
    wrap = getattr(model.blocks[0].neuron, "norm", None)
    if not isinstance(wrap, LavaCurrentWrap):
        raise ValueError("the model's first block has no LavaCurrentWrap: only a model built "
                         "for graded input (input_levels) has a current that Lava wraps")
    count = len(dataset) if samples is None else min(samples, len(dataset))
    largest, wrapped, total = 0.0, 0, 0

    def record(_module: torch.nn.Module, inputs: tuple[torch.Tensor], _output: torch.Tensor
               ) -> None:
        nonlocal largest, wrapped, total
        current = inputs[0]
        largest = max(largest, float(current.abs().max()))
        wrapped += int(wrap.wraps(current).sum())
        total += current.numel()

    model = model.eval()
    handle = wrap.register_forward_hook(record)
    try:
        loader = torch.utils.data.DataLoader(torch.utils.data.Subset(dataset, range(count)),
                                             batch_size=batch_size)
        for spikes, _ in loader:
            model(spikes)
    finally:
        handle.remove()
    return CurrentWrapMeasurement(limit=wrap.limit, largest_current=largest,
                                  wrapped_fraction=wrapped / max(total, 1), neuron_steps=total)
