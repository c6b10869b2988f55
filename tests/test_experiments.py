"""The deep-propagation experiments (lava_init.experiments.propagation), ``lava-init propagate``."""

from __future__ import annotations

import csv

import pytest
import torch

from lava_init.cli.main import main
from lava_init.experiments.propagation import (
    CSV_COLUMNS,
    PropagationSetup,
    lif_soft_reset,
    parse_thresholds,
    read_csv,
    silent_depth,
    simulate,
)

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

#: Width 1000 as in the paper; the batch is small because deep layers of one network see
#: strongly correlated samples anyway (the scatter comes from the finite width).
PAPER_LAYER = {"width": 1000, "batch": 8}


def _curve(records, threshold):
    return [r for r in records if r.threshold == threshold]


@pytest.fixture(scope="module")
def deep_variance_conserving():
    """100 Heaviside layers x 1000, variance_conserving, sigma 1, two networks averaged."""
    setup = PropagationSetup(depth=100, networks=2, **PAPER_LAYER)
    return simulate("variance_conserving", (0.0, 0.5, 1.0), setup)


@pytest.mark.parametrize("threshold", [0.0, 0.5, 1.0])
def test_variance_conserving_keeps_membrane_variance_to_layer_100(
        deep_variance_conserving, threshold):
    curve = _curve(deep_variance_conserving, threshold)
    assert [r.layer for r in curve] == list(range(101))
    assert 0.8 <= curve[-1].variance <= 1.25
    assert curve[-1].rate > 0.5 * curve[0].rate


def test_kaiming_is_silent_by_layer_100_at_threshold_1():
    records = simulate("kaiming", (1.0,), PropagationSetup(depth=100, **PAPER_LAYER))
    depth = silent_depth(records, "kaiming", 1.0)
    assert depth is not None and 2 <= depth <= 5  # the paper: Kaiming dies within a few layers
    assert records[-1].rate == 0.0 and records[-1].silent_fraction == 1.0
    assert records[-1].variance == 0.0


@pytest.mark.parametrize(("method", "thresholds"), [
    ("variance_conserving", (0.0, 0.5, 1.0)),
    ("kaiming", (0.0, 0.5, 1.0)),
])
def test_variance_map_matches_simulation_within_10_percent(method, thresholds):
    """Average of 4 networks of width 1000; every layer that the theory keeps active
    (predicted Var[u] > 0.01: Kaiming at theta = 1 dies after layer 2)."""
    setup = PropagationSetup(depth=20, networks=4, **PAPER_LAYER)
    records = simulate(method, thresholds, setup)
    compared = [r for r in records if r.predicted_variance > 0.01]
    assert len(compared) >= 2 * 21
    for record in compared:
        assert record.variance == pytest.approx(record.predicted_variance, rel=0.10), record


def test_lif_soft_reset_conserves_spike_rate_over_100_layers():
    setup = PropagationSetup(neuron="lif", depth=100, time_steps=20, leak=0.5, **PAPER_LAYER)
    records = simulate("variance_conserving", (1.0,), setup)
    first, last = records[1].rate, records[-1].rate
    assert first > 0.05
    assert 0.5 <= last / first <= 2.0, (first, last)


def test_lif_soft_reset_arithmetic_and_heaviside_limit():
    drive = torch.full((1, 4, 1, 1), 0.6)
    membrane, spikes = lif_soft_reset(drive, torch.tensor(1.0), leak=1.0)
    assert membrane.flatten().tolist() == pytest.approx([0.6, 1.2, 0.8, 1.4])
    assert spikes.flatten().tolist() == [0.0, 1.0, 0.0, 1.0]
    drive = torch.tensor([-1.0, 0.0, 0.5, 2.0]).view(1, 1, 1, 4)
    membrane, spikes = lif_soft_reset(drive, torch.tensor(0.0), leak=0.0)
    assert spikes.flatten().tolist() == [0.0, 0.0, 1.0, 1.0]
    assert torch.equal(membrane, drive)


@pytest.mark.parametrize(("current_decay", "voltage_decay"), [(1.0, 1.0), (0.25, 0.03)])
def test_slayer_cuba_dense_blocks_propagate_with_variance_conserving(current_decay,
                                                                     voltage_decay):
    setup = PropagationSetup(neuron="cuba", depth=6, width=1000, batch=4, time_steps=8,
                             current_decay=current_decay, voltage_decay=voltage_decay)
    records = simulate("variance_conserving", (1.0,), setup)
    assert all(r.rate > 0.02 for r in records)
    if current_decay == 1.0:  # memoryless: the synaptic input is the membrane, as in theory
        variances = [record.variance for record in records]
        assert variances == pytest.approx([r.input_variance for r in records], rel=1e-5)
        assert variances == pytest.approx([1.0] * len(records), rel=0.25)
        assert sum(variances) / len(variances) == pytest.approx(1.0, rel=0.1)


def test_simulation_is_deterministic():
    setup = PropagationSetup(depth=5, width=64, batch=4, seed=3)
    assert simulate("xavier", (0.5,), setup) == simulate("xavier", (0.5,), setup)


def test_cli_writes_csv_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["propagate", "--depth", "3", "--width", "40", "--batch", "4",
                 "--thresholds", "0.5,1", "--methods", "variance_conserving,kaiming",
                 "--widths", "20,40", "--out", str(out)])
    assert code == 0
    with open(out / "propagation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) >= {"method", "threshold", "layer", "variance", "rate",
                            "silent_fraction", "predicted_variance"}
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2 * 2 * 4
    assert {row["method"] for row in rows} == {"variance_conserving", "kaiming"}
    assert float(rows[0]["variance"]) > 0
    records = read_csv(out / "propagation.csv")
    assert [r.layer for r in records[:4]] == [0, 1, 2, 3] and records[0].width == 40
    for name in ("variance_vs_layer.png", "rate_vs_layer.png", "activity_heatmap.png",
                 "width_sweep.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "width_sweep.csv", newline="") as handle:
        assert {row["width"] for row in csv.DictReader(handle)} == {"20", "40"}
    assert "variance_conserving" in capsys.readouterr().out


@pytest.mark.parametrize(("argument", "value", "message"), [
    ("--width", "-5", "width must be an integer >= 1"),
    ("--thresholds", "0,abc", "--thresholds: could not parse '0,abc'"),
    ("--thresholds", "0.5,-1", "is not a threshold"),
    ("--methods", "kaiming,nope", "unknown init method 'nope'"),
])
def test_cli_bad_arguments_give_one_clear_line(tmp_path, capsys, argument, value, message):
    code = main(["propagate", "--depth", "2", "--width", "16", argument, value,
                 "--out", str(tmp_path)])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("lava-init propagate: error:") and message in lines[0]


def test_cuba_rejects_threshold_zero():
    with pytest.raises(ValueError, match="threshold step 1/64"):
        parse_thresholds("0,0.5", "cuba")
