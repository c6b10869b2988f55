"""The main job, `lava-init demo`, end to end with a small budget."""

import re

from lava_init.apps.cli import main


def test_demo_trains_exports_and_lava_matches_slayer(tmp_path, capsys):
    assert main(["demo", "--epochs", "2", "--lava-samples", "4", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "variance_conserving: reaches the last layer" in out
    assert "slayer_default: silent from layer" in out
    assert "total mismatched spikes: 0 (spike-exact)" in out
    accuracies = re.search(r"SLAYER accuracy ([\d.]+), Lava fixed_pt accuracy ([\d.]+)", out)
    assert accuracies and accuracies.group(1) == accuracies.group(2)
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    assert (tmp_path / "digits_mlp.net").is_file()
    assert (tmp_path / "variance_conserving" / "metrics.csv").is_file()


def test_demo_bad_budget_is_one_clear_line(capsys):
    assert main(["demo", "--epochs", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "lava-init demo: error: --epochs and --lava-samples must be >= 1")
