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
    """Per-layer activity of the same deep MLP (memoryless CUBA, threshold 1.25) per method.

    Each method gets the same network (seeded) and the same digits as Bernoulli spikes
    (:func:`~lava_init.training.data.digits_spikes`).

    Args:
        depth: hidden layers of the MLP.
        width: neurons per hidden layer.
        samples: digits run through it.
        time_steps: T, the steps per sample.
        methods: the initializers' names.
        seed: the seed of the spikes, the network and the weights.

    Returns:
        Method -> :class:`~lava_init.activity.ActivityReport`.

    Example:
        >>> reports = activity_comparison(depth=3, width=16, samples=8, time_steps=4,
        ...                               methods=("slayer_default", "variance_conserving"))
        >>> [len(report.layers) for report in reports.values()]  # 3 hidden + the output
        [4, 4]
        >>> reports["slayer_default"].rates[0], reports["variance_conserving"].rates[0] > 0
        (0.0, True)
    """
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
    """One row per layer, the spike rate of each method in a column.

    Below the table, one line per method: whether its activity reaches the last layer, or
    the first silent layer.

    Args:
        reports: method -> :class:`~lava_init.activity.ActivityReport`, all of the same
            network (:func:`activity_comparison`).

    Returns:
        The table and the verdicts, as text.

    Example:
        >>> from lava_init.records import LayerActivity
        >>> silent = ActivityReport([LayerActivity("blocks.0", 4, 0, 0.0, 1.0)])
        >>> lively = ActivityReport([LayerActivity("blocks.0", 4, 0, 0.25, 0.0)])
        >>> print(format_comparison({"slayer_default": silent, "variance_conserving": lively}))
        layer (spike rate)  slayer_default  variance_conserving
        ------------------  --------------  -------------------
        blocks.0                    0.0000               0.2500
        slayer_default: silent from layer blocks.0
        variance_conserving: reaches the last layer
    """
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
    """Train the same MLP from each init in :data:`TRAINED_METHODS` on digits.

    Args:
        settings: the demo's budget (depth, width, T, epochs, learning rate, seed).
        out: the folder; each method's run goes to ``out/<method>`` (overwritten).

    Returns:
        Method -> :class:`~lava_init.training.loop.TrainResult`.

    Example:
        Even one epoch of a small MLP trains twice on all 1,437 training digits (seconds), so
        the run is skipped here; it returns one metrics row per epoch and method:

        >>> import tempfile
        >>> settings = DemoSettings(depth=1, width=8, epochs=1, progress=False)
        >>> results = train_both(settings, Path(tempfile.mkdtemp()))  # doctest: +SKIP
        >>> {method: len(result.metrics) for method, result in results.items()}  # doctest: +SKIP
        {'variance_conserving': 1, 'slayer_default': 1}
    """
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
    """Per-layer spike rate at initialization, and test accuracy per epoch, per init.

    Args:
        activity: method -> :class:`~lava_init.activity.ActivityReport`
            (:func:`activity_comparison`).
        results: method -> :class:`~lava_init.training.loop.TrainResult` (only its
            ``metrics`` rows are read: ``epoch`` and ``test_acc``).
        path: the PNG file to write.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> from lava_init.records import LayerActivity
        >>> activity = {"kaiming": ActivityReport([LayerActivity("blocks.0", 4, 0, 0.2, 0.0)])}
        >>> rows = [{"epoch": 1, "test_acc": 0.5}, {"epoch": 2, "test_acc": 0.7}]
        >>> results = {"kaiming": TrainResult(rows, None, {}, None, None, None)}
        >>> path = Path(tempfile.mkdtemp()) / "demo.png"
        >>> demo_figure(activity, results, path).read_bytes()[1:4]
        b'PNG'
    """
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
    """Run the four steps, print what they show, return 0 when Lava matches SLAYER.

    1. the activity of four inits in a deep memoryless MLP (:func:`activity_comparison`);
    2. the same MLP trained from two inits on digits (:func:`train_both`);
    3. the better one exported to NetX and run on Lava fixed_pt
       (:func:`~lava_init.training.lava_check.export_and_verify`);
    4. the figure (:func:`demo_figure`).

    Args:
        settings: the demo's budget.
        out: the folder for the runs, the NetX file and ``demo.png``.

    Returns:
        0 when Lava's spikes match SLAYER's exactly, else 1 (the exit status of
        ``lava-init demo``).

    Example:
        The demo takes a minute or two (it trains and runs Lava), so it is skipped here; it
        prints the four steps' tables and returns 0:

        >>> import tempfile
        >>> end_to_end(DemoSettings(progress=False), Path(tempfile.mkdtemp()))  # doctest: +SKIP
        1. Activity at initialization: 20 memoryless CUBA Dense layers x 128, threshold 1.25, ...
        ...
        0
    """
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
