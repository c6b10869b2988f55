"""Figures of the propagation experiments (matplotlib, Agg backend, small PNGs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from lava_init import theory  # noqa: E402
from lava_init.experiments.propagation import LayerRecord  # noqa: E402
from lava_init.files import atomic_write  # noqa: E402

DPI = 72
#: Var[u] band the tests require of variance_conserving at layer 100.
VARIANCE_BAND = (0.8, 1.25)
#: Lowest spike rate shown on log axes; silent layers are drawn below it.
RATE_FLOOR = 1e-5


def _series(records: Sequence[LayerRecord], method: str, threshold: float, field: str
            ) -> tuple[np.ndarray, np.ndarray]:
    chosen = [r for r in records if r.method == method and r.threshold == threshold]
    return (np.array([r.layer for r in chosen]),
            np.array([getattr(r, field) for r in chosen], dtype=float))


def _keys(records: Sequence[LayerRecord]) -> tuple[list[str], list[float]]:
    methods = list(dict.fromkeys(r.method for r in records))
    thresholds = list(dict.fromkeys(r.threshold for r in records))
    return methods, thresholds


def _title(records: Sequence[LayerRecord]) -> str:
    first = records[0]
    depth = max(r.layer for r in records)
    return (f"{first.neuron} network, {depth} layers x {first.width} neurons, "
            f"sigma = {first.sigma:g}")


def save_figure(figure: plt.Figure, path: Path) -> Path:
    """Save ``figure`` as a PNG at :data:`DPI`, atomically, and close it.

    Args:
        figure: the matplotlib figure (closed afterwards).
        path: the PNG file to write.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> figure, axis = plt.subplots(figsize=(1, 1))
        >>> _ = axis.plot([0, 1])
        >>> path = save_figure(figure, Path(tempfile.mkdtemp()) / "line.png")
        >>> path.read_bytes()[1:4], plt.fignum_exists(figure.number)
        (b'PNG', False)
    """
    atomic_write(path, lambda temp: figure.savefig(temp, dpi=DPI, format="png"))
    plt.close(figure)
    return path


def _panel_grid(count: int) -> tuple[plt.Figure, np.ndarray]:
    figure, axes = plt.subplots(1, count, figsize=(3.2 * count, 3.0), sharey=True,
                                squeeze=False, constrained_layout=True)
    return figure, axes[0]


def _threshold_panels(records: Sequence[LayerRecord], path: Path, draw, ylabel: str,
                      legend_loc: str) -> Path:
    """One panel per threshold, one color per method: ``draw(axis, method, threshold,
    color)`` plots a method's curves; the figure is saved to ``path``."""
    methods, thresholds = _keys(records)
    figure, axes = _panel_grid(len(thresholds))
    for axis, threshold in zip(axes, thresholds, strict=True):
        for index, method in enumerate(methods):
            draw(axis, method, threshold, f"C{index}")
        axis.set_title(f"theta = {threshold:g}")
        axis.set_xlabel("layer")
    axes[0].set_ylabel(ylabel)
    axes[-1].legend(fontsize=7, loc=legend_loc)
    figure.suptitle(_title(records), fontsize=9)
    return save_figure(figure, path)


def variance_figure(records: Sequence[LayerRecord], path: Path) -> Path:
    """Var[u] vs layer, one panel per threshold; measured solid, theory dashed.

    Args:
        records: the experiment's records (:func:`~lava_init.experiments.propagation.simulate`).
        path: the PNG file of the Var[u] panels.

    Returns:
        The path written.

    Example:
        Its log axes take most of a second to draw, so the drawing is skipped here (the
        call returns ``path``, a PNG):

        >>> import tempfile
        >>> from lava_init.experiments.propagation import PropagationSetup, simulate
        >>> records = simulate("kaiming", [1.0], PropagationSetup(depth=2, width=20, batch=8))
        >>> out = Path(tempfile.mkdtemp())
        >>> variance_figure(records, out / "variance.png").read_bytes()[1:4]  # doctest: +SKIP
        b'PNG'
    """
    top = max(10.0, 2.0 * max(r.variance for r in records))

    def draw(axis, method: str, threshold: float, color: str) -> None:
        layers, measured = _series(records, method, threshold, "variance")
        _, predicted = _series(records, method, threshold, "predicted_variance")
        axis.plot(layers, np.maximum(measured, 1e-8), color=color, label=method)
        axis.plot(layers, np.maximum(predicted, 1e-8), color=color, linestyle="--", linewidth=1)
        axis.set_yscale("log")
        axis.set_ylim(1e-4, top)

    return _threshold_panels(records, path, draw, "Var[u] (solid: measured, dashed: theory)",
                             "lower left")


def rate_figure(records: Sequence[LayerRecord], path: Path) -> Path:
    """Spike rate vs layer, one panel per threshold; dashed: P(u > theta) from the theory.

    Args:
        records: the records of :func:`~lava_init.experiments.propagation.simulate`, for one
            or more methods and thresholds.
        path: where the rate panels go (PNG).

    Returns:
        ``path``, written atomically.

    Example:
        >>> import tempfile
        >>> from lava_init.experiments import propagation
        >>> setup = propagation.PropagationSetup(depth=3, width=16, batch=8)
        >>> rates = propagation.simulate("variance_conserving", [0.5, 1.0], setup)
        >>> rate_figure(rates, Path(tempfile.mkdtemp()) / "rate.png").stat().st_size > 1000
        True
    """

    def draw(axis, method: str, threshold: float, color: str) -> None:
        layers, rate = _series(records, method, threshold, "rate")
        _, predicted = _series(records, method, threshold, "predicted_variance")
        predicted_rate = [np.nan if np.isnan(v) else
                          theory.firing_probability(threshold, float(np.sqrt(v)))
                          if v > 0 else 0.0 for v in predicted]
        axis.plot(layers, rate, color=color, label=method)
        axis.plot(layers, predicted_rate, color=color, linestyle="--", linewidth=1)

    return _threshold_panels(records, path, draw, "spikes / neuron / step", "upper right")


def activity_heatmap(records: Sequence[LayerRecord], path: Path) -> Path:
    """Spike rate over (threshold, layer), one panel per method; black = silent.

    Args:
        records: what :func:`~lava_init.experiments.propagation.simulate` recorded; each
            method becomes a panel, each threshold a row of it.
        path: the heatmap's PNG file.

    Returns:
        The heatmap's path.

    Example:
        >>> import tempfile
        >>> from lava_init.experiments.propagation import PropagationSetup, simulate
        >>> setup = PropagationSetup(depth=4, width=16, batch=8)
        >>> grid = simulate("kaiming", [0.5, 1.0, 1.5], setup)
        >>> heatmap = activity_heatmap(grid, Path(tempfile.mkdtemp()) / "heatmap.png")
        >>> heatmap.name, heatmap.read_bytes()[1:4]
        ('heatmap.png', b'PNG')
    """
    methods, thresholds = _keys(records)
    depth = max(r.layer for r in records)
    figure, axes = plt.subplots(len(methods), 1, figsize=(7.0, 1.0 + 0.9 * len(methods)),
                                sharex=True, squeeze=False, constrained_layout=True)
    colormap = matplotlib.colormaps["viridis"].with_extremes(under="black")
    image = None
    for axis, method in zip(axes[:, 0], methods, strict=True):
        grid = np.array([_series(records, method, threshold, "rate")[1]
                         for threshold in thresholds])
        image = axis.imshow(np.where(grid > 0, grid, RATE_FLOOR / 10), aspect="auto",
                            origin="lower", cmap=colormap, norm=LogNorm(RATE_FLOOR, 1.0),
                            extent=(-0.5, depth + 0.5, -0.5, len(thresholds) - 0.5),
                            interpolation="nearest")
        axis.set_yticks(range(len(thresholds)), [f"{t:g}" for t in thresholds], fontsize=7)
        axis.set_ylabel("theta", fontsize=8)
        axis.set_title(method, fontsize=8)
    axes[-1, 0].set_xlabel("layer")
    figure.colorbar(image, ax=axes[:, 0], label="spike rate (black: silent)", extend="min")
    figure.suptitle(_title(records), fontsize=9)
    return save_figure(figure, path)


def propagation_figures(records: Sequence[LayerRecord], out: Path) -> list[Path]:
    """variance_vs_layer.png, rate_vs_layer.png and activity_heatmap.png in ``out``.

    Args:
        records: the whole experiment (every method and threshold
            :func:`~lava_init.experiments.propagation.simulate` ran).
        out: an existing folder; the three files are (re)written there.

    Returns:
        The three paths: :func:`variance_figure`, :func:`rate_figure`,
        :func:`activity_heatmap`.

    Example:
        Three figures take over a second to draw, so the drawing is skipped here:

        >>> import tempfile
        >>> from lava_init.experiments import propagation
        >>> run = propagation.simulate("xavier", [1.0], propagation.PropagationSetup(depth=2))
        >>> folder = Path(tempfile.mkdtemp())
        >>> [path.name for path in propagation_figures(run, folder)]  # doctest: +SKIP
        ['variance_vs_layer.png', 'rate_vs_layer.png', 'activity_heatmap.png']
    """
    return [variance_figure(records, out / "variance_vs_layer.png"),
            rate_figure(records, out / "rate_vs_layer.png"),
            activity_heatmap(records, out / "activity_heatmap.png")]


def width_sweep_figure(records: Sequence[LayerRecord], path: Path) -> Path:
    """Last-layer Var[u] / theory and worst per-layer deviation from theory vs width.

    Args:
        records: the records of a width sweep
            (:func:`~lava_init.experiments.propagation.width_sweep`).
        path: the PNG file to write.

    Returns:
        The path written.

    Example:
        Drawing the log axes takes most of a second, so the drawing is skipped here (it
        returns the path of a PNG):

        >>> import tempfile
        >>> from lava_init.experiments.propagation import PropagationSetup, width_sweep
        >>> records = width_sweep([20, 40], ["kaiming"], [1.0], PropagationSetup(depth=2))
        >>> path = Path(tempfile.mkdtemp()) / "width_sweep.png"
        >>> width_sweep_figure(records, path).read_bytes()[1:4]  # doctest: +SKIP
        b'PNG'
    """
    methods, thresholds = _keys(records)
    widths = sorted({r.width for r in records})
    depth = max(r.layer for r in records)
    figure, (last_axis, worst_axis) = plt.subplots(1, 2, figsize=(8.0, 3.2),
                                                   constrained_layout=True)
    for index, (method, threshold) in enumerate((m, t) for m in methods for t in thresholds):
        last, worst = [], []
        for width in widths:
            chosen = [r for r in records if r.method == method and r.threshold == threshold
                      and r.width == width and r.predicted_variance > 0]
            ratios = np.array([r.variance / r.predicted_variance for r in chosen])
            last.append(ratios[-1] if chosen and chosen[-1].layer == depth else np.nan)
            worst.append(np.max(np.abs(ratios - 1.0)) if ratios.size else np.nan)
        label = f"{method}, theta = {threshold:g}"
        last_axis.plot(widths, last, marker="o", color=f"C{index}", label=label)
        worst_axis.plot(widths, worst, marker="o", color=f"C{index}", label=label)
    last_axis.axhspan(*VARIANCE_BAND, color="0.9", zorder=0)
    last_axis.set_ylabel(f"Var[u] at layer {depth} / theory")
    worst_axis.axhline(0.1, color="0.5", linestyle=":", linewidth=1)
    worst_axis.set_ylabel("max over layers |Var[u] / theory - 1|")
    worst_axis.set_yscale("log")
    for axis in (last_axis, worst_axis):
        axis.set_xscale("log")
        axis.set_xlabel("width (neurons per layer)")
    last_axis.legend(fontsize=7)
    figure.suptitle(f"finite-width sweep, {records[0].neuron} network, {depth} layers",
                    fontsize=9)
    return save_figure(figure, path)
