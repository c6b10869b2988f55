"""The main job, end to end on scikit-learn's embedded digits, offline.

1. Activity at initialization: a 20-layer memoryless CUBA MLP, four inits side by side.
2. Training: a deep SLAYER MLP initialized with the variance-conserving rule and with SLAYER's
   default, trained for the same short budget.
3. The better network exported to NetX HDF5, run on Lava's fixed-point simulator and compared
   with SLAYER spike for spike; accuracy of both on the same test samples.
4. A PNG with per-layer activity and the learning curves.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from lava_init.activity import ActivityReport, measure_activity
from lava_init.experiments.plots import plt, save_figure
from lava_init.experiments.settings import DemoSettings
from lava_init.network_init import initialize
from lava_init.tables import format_table
from lava_init.training.config import MEMORYLESS, BlockSettings
from lava_init.training.data import digits_spikes
from lava_init.training.lava_check import export_and_verify
from lava_init.training.loop import TrainConfig, TrainResult, train
from lava_init.training.models import SlayerMLP

DEMO_METHODS = ("slayer_default", "kaiming", "xavier", "variance_conserving")


def activity_comparison(
    depth: int = 20,
    width: int = 256,
    samples: int = 128,
    time_steps: int = 32,
    methods: tuple[str, ...] = DEMO_METHODS,
    seed: int = 0,
) -> dict[str, ActivityReport]:
    """Per-layer activity of the same deep MLP (memoryless CUBA, threshold 1.25) per method."""
    spikes = digits_spikes(samples, time_steps, seed)
    reports = {}
    for method in methods:
        torch.manual_seed(seed)
        net = SlayerMLP(spikes.shape[1], 10, depth=depth, width=width,
                        settings=BlockSettings(neuron=MEMORYLESS))
        initialize(net, method, generator=torch.Generator().manual_seed(seed))
        reports[method] = measure_activity(net, spikes)
    return reports


def format_comparison(reports: dict[str, ActivityReport]) -> str:
    """One row per layer, the spike rate of each method in a column."""
    methods = list(reports)
    names = [layer.name for layer in reports[methods[0]].layers]
    rows = [[name, *(reports[m].layers[i].rate for m in methods)] for i, name in enumerate(names)]
    verdicts = [f"{m}: " + ("reaches the last layer" if reports[m].propagates else
                            f"silent from layer {_first_silent(reports[m])}") for m in methods]
    return "\n".join([format_table(["layer (spike rate)", *methods], rows), *verdicts])


def _first_silent(report: ActivityReport) -> str:
    silent = [layer.name for layer in report.layers if layer.rate == 0]
    return silent[0] if silent else "-"


TRAINED_METHODS = ("variance_conserving", "slayer_default")


def train_both(settings: DemoSettings, out: Path) -> dict[str, TrainResult]:
    """Train the same MLP from each init in :data:`TRAINED_METHODS` on digits."""
    results = {}
    with tqdm(total=len(TRAINED_METHODS) * settings.epochs, desc="training", unit="epoch",
              leave=False, disable=None if settings.progress else True) as bar:
        for method in TRAINED_METHODS:
            config = TrainConfig(dataset="digits", depth=settings.depth, width=settings.width,
                                 init=method, time_steps=settings.time_steps,
                                 epochs=settings.epochs, lr=settings.lr, seed=settings.seed,
                                 out=str(out / method), overwrite=True, progress=False)
            results[method] = train(config, callback=lambda _row: bar.update())
    return results


def demo_figure(activity: dict[str, ActivityReport], results: dict[str, TrainResult],
                path: Path) -> Path:
    """Per-layer spike rate at initialization, and test accuracy per epoch, per init."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for method, report in activity.items():
        left.plot(range(1, len(report.layers) + 1), report.rates, marker=".", label=method)
    left.set(xlabel="layer", ylabel="spike rate (spikes / neuron / step)",
             title="activity at initialization", ylim=(0, 1))
    left.set_yscale("symlog", linthresh=1e-3)
    left.legend()
    for method, result in results.items():
        epochs = [row["epoch"] for row in result.metrics]
        right.plot(epochs, [row["test_acc"] for row in result.metrics], marker="o", label=method)
    right.set(xlabel="epoch", ylabel="test accuracy", title="training on digits", ylim=(0, 1))
    right.legend()
    figure.tight_layout()
    return save_figure(figure, path)


def end_to_end(settings: DemoSettings, out: Path) -> int:
    """Run the four steps, print what they show, return 0 when Lava matches SLAYER."""
    print(f"1. Activity at initialization: {settings.activity_depth} memoryless CUBA Dense "
          f"layers x {settings.activity_width}, threshold 1.25, digits as spikes")
    activity = activity_comparison(settings.activity_depth, settings.activity_width,
                                   samples=64, seed=settings.seed)
    print(format_comparison(activity))

    print(f"\n2. Training a {settings.depth}-layer x {settings.width} SLAYER MLP on digits, "
          f"T = {settings.time_steps}, {settings.epochs} epochs, per init")
    results = train_both(settings, out)
    final = {m: r.metrics[-1]["test_acc"] for m, r in results.items()}
    print(format_table(["init", "test accuracy after epoch 1", "final test accuracy"],
                       [[m, r.metrics[0]["test_acc"], final[m]] for m, r in results.items()]))

    best = max(final, key=final.get)
    print(f"\n3. Exporting the {best} network to NetX and running it on Lava fixed_pt")
    check = export_and_verify(results[best].model, results[best].test_set,
                              out / "digits_mlp.net",
                              samples=settings.lava_samples, progress=settings.progress)
    print(check)

    figure = demo_figure(activity, results, out / "demo.png")
    print(f"\n4. Figure (activity per layer, learning curves): {figure}")
    return 0 if check.report.total_mismatches == 0 else 1
