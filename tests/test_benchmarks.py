"""The benchmark scripts load and run end to end on small settings (results in tmp_path)."""

from __future__ import annotations

import json
from types import ModuleType

import numpy as np
import pytest
from conftest import BENCHMARKS, import_benchmark

from lava_init import theory
from lava_init.encoding import GRADED_LEVELS
from lava_init.training import saccades
from lava_init.training.data import load_dataset

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration


#: The benchmark scripts (modules with a ``main``; the others are helpers they share).
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if "\ndef main(" in p.read_text())


def test_the_scripts_are_found():
    assert {"convergence", "deep_cuba", "netx_examples"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_loads_and_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        import_benchmark(name).main(["--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_convergence_runs_the_calibrated_recipes(tmp_path):
    convergence = import_benchmark("convergence")
    assert convergence.main(["--datasets", "digits", "--deep-depth", "0", "--depth", "2",
                             "--width", "16", "--methods", "temporal,calibrated_readout",
                             "--seeds", "0", "--epochs", "1", "--limit", "128",
                             "--test-limit", "64", "--time-steps", "6", "--out",
                             str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "convergence.json").read_text())["runs"]
    assert [run["method"] for run in runs] == ["temporal", "calibrated_readout"]
    table = (tmp_path / "convergence.md").read_text()
    assert "| digits | 2 | calibrated_readout | 1 |" in table


def test_deep_cuba_writes_rates_for_every_method(tmp_path):
    deep_cuba = import_benchmark("deep_cuba")
    assert deep_cuba.main(["--depth", "4", "--width", "16", "--time-steps", "6", "--batch",
                           "2", "--input-rates", "0.2", "--out", str(tmp_path / "deep")]) == 0
    runs = json.loads((tmp_path / "deep.json").read_text())["runs"]
    assert {run["method"] for run in runs} == set(deep_cuba.METHODS)
    assert all(len(run["rates"]) == 4 for run in runs)
    assert (tmp_path / "deep.png").stat().st_size > 0


def test_saccade_recordings_follow_the_digit_and_load_as_nmnist(tmp_path, shared_data):
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 10:18, 12:16] = 255  # a bright bar
    (x, y, t, p), = saccades.saccade_events(image)
    bar = (slice(saccades.OFFSET + 10 - 3, saccades.OFFSET + 18 + 3),
           slice(saccades.OFFSET + 12 - 3, saccades.OFFSET + 16 + 3))
    assert x.size > 0 and set(p.tolist()) == {0, 1}  # ON and OFF edges
    assert np.all((y >= bar[0].start) & (y < bar[0].stop) & (x >= bar[1].start)
                  & (x < bar[1].stop))  # events only where the bar moves (shifts <= 2 px)
    assert t.min() >= 0 and t.max() < len(saccades.SACCADE) * saccades.SACCADE_US
    assert import_benchmark("saccade_nmnist").main(
        ["--mnist-dir", str(shared_data / "mnist"), "--out", str(tmp_path), "--limit", "20",
         "--test-limit", "10"]) == 0
    train = load_dataset("nmnist", True, tmp_path, time_steps=20)
    assert len(train) == 20 and sorted(set(train.labels.tolist())) == list(range(10))
    spikes, _ = train[0]
    assert spikes.shape == (2, 34, 34, 20) and 0 < float(spikes.mean()) < 0.5
    assert all(float(spikes[..., step].sum()) > 0 for step in range(20))


def test_operating_point_study_sets_theta_over_sigma_and_writes_a_figure(tmp_path):
    """A smaller r = theta / sigma (a larger sigma) fires the first layer more: 0.250, 0.197,
    0.156 at r = 0.5, 0.7, 1.0 (width 32, seed 0; over seeds 0 .. 4 each step down is at
    least 0.027); 'default' is initialize's own sigma, the one of r = theory.DEFAULT_RATIO."""
    study = import_benchmark("operating_point")
    ratios = ["0.5", f"{theory.DEFAULT_RATIO:g}", "1", "default"]
    assert study.main(["--widths", "32", "--ratios", ",".join(ratios), "--thresholds", "1.0",
                       "--seeds", "0", "--depth", "4", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "operating_point.json").read_text())["results"]
    assert [r["ratio"] for r in results] == ratios
    first_rates = [r["rates"][0] for r in results[:3]]
    steps_down = [higher - lower for higher, lower in zip(first_rates[:-1], first_rates[1:],
                                                          strict=True)]
    assert min(steps_down) > 0.02
    assert results[3]["rates"] == results[1]["rates"]
    assert (tmp_path / "operating_point.png").read_bytes()[:4] == b"\x89PNG"


def test_backward_flow_writes_norms_and_a_figure(tmp_path):
    flow = import_benchmark("backward_flow")
    assert flow.main(["--depth", "4", "--width", "16", "--samples", "8",
                      "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path)]) == 0
    norms = json.loads((tmp_path / "backward_flow.json").read_text())["norms"]
    assert len(norms) == 4 and all(len(n) == 5 for n in norms.values())
    assert (tmp_path / "backward_flow.png").read_bytes()[:4] == b"\x89PNG"


def test_lava_throughput_compares_the_cases_on_the_same_spikes(tmp_path, capsys):
    throughput = import_benchmark("lava_throughput")
    out = tmp_path / "throughput.json"
    assert throughput.main(["--samples", "3", "--time-steps", "4", "--depth", "1", "--width",
                            "8", "--workers", "2", "--out", str(out)]) == 0
    records = {record["case"]: record for record in json.loads(out.read_text())}
    assert set(records) == {"before", "1 worker", "2 workers", "one long run"}
    assert [record["same_spikes_as_before"] for record in records.values()] == [
        True, True, True, None]
    assert "samples_per_s" in capsys.readouterr().out


def test_training_recipe_runs_and_summarizes_a_tiny_part(tmp_path):
    recipe = import_benchmark("training_recipe")
    args = recipe.parse_args(["--out", str(tmp_path)])
    labels = [label for label, _, _ in recipe.runs_for("first_epoch", args)]
    assert "recipe d30 s2" in labels and "slayer_default d10 s0" in labels
    converged = {label: config for label, config, _ in recipe.runs_for("converged", args)}
    assert converged["recipe fashion-mnist s2"].label_smoothing == recipe.FASHION_SMOOTHING > 0
    assert converged["recipe unsmoothed fashion-mnist s2"].label_smoothing == 0
    assert converged["recipe mnist s0"].shift == 1
    graded = converged["recipe graded fashion-mnist s1"]
    assert graded.encoding == "graded" and graded.label_smoothing == recipe.FASHION_SMOOTHING
    assert converged["kaiming graded fashion-mnist s0"].encoding == "graded"
    assert converged["recipe fashion-mnist s0"].encoding == "regular"
    stored = {"config": recipe.plan_training(graded).config.as_dict(),
              "input_levels": GRADED_LEVELS}
    assert recipe.is_stored({"run": stored}, "run", graded)
    assert not recipe.is_stored({"run": {**stored, "input_levels": 64}}, "run", graded)
    with pytest.raises(ValueError, match="unknown part 'deep'"):
        recipe.runs_for("deep", args)
    config = recipe.TrainConfig(dataset="digits", depth=2, width=16, epochs=1, limit=64,
                                test_limit=32, progress=False)
    record = recipe.run_one(config, 0, tmp_path, "tiny s0",
                            recipe.current_provenance(recipe.__file__, []))
    table = recipe.summary({"tiny s0": record, "tiny s1": record})
    row = next(line for line in table.splitlines() if line.startswith("tiny"))
    assert row.split()[1:3] == ["2", "1"]  # two seeds, one epoch
    figure = recipe.plot_deep_run(record, tmp_path / "deep.png")
    assert figure.stat().st_size > 1000
    recipe.train(recipe.dataclasses.replace(config, out=str(tmp_path / "run")))
    check = recipe.relay_copy_check(tmp_path / "run" / "checkpoint.pt", samples=16)
    # measured over seeds 0 .. 4: the relay still copies its input after one epoch (0 to
    # 0.0013 of spikes differ; independent layers at these rates: 0.28 to 0.44), its diagonal
    # 2.47 to 2.61 (2 theta = 2.5 at initialization)
    assert check["first_last_differ"] < 0.01
    assert 2.3 < check["relay_diagonal"] < 2.8


def _tiny_recipe_config(recipe: ModuleType) -> object:
    """A digits-sized training_recipe run: about a second on one core."""
    return recipe.TrainConfig(dataset="digits", depth=2, width=16, epochs=1, limit=256,
                              test_limit=64, progress=False)


def test_training_recipe_check_fails_where_a_stored_number_moved(tmp_path, capsys):
    recipe = import_benchmark("training_recipe")
    made_by = recipe.current_provenance(recipe.__file__, [])
    record = recipe.run_one(_tiny_recipe_config(recipe), 0, tmp_path, "tiny s0", made_by)
    assert record["provenance"]["command"].endswith("benchmarks/training_recipe.py")
    store = tmp_path / "runs_first_epoch.json"
    store.write_text(json.dumps({"tiny s0": record}))
    check = ["--out", str(tmp_path), "--parts", "first_epoch", "--check", "1"]
    assert recipe.main(check) == 0
    assert capsys.readouterr().out.startswith("same: first_epoch 'tiny s0'")
    accuracy = record["metrics"][-1]["test_acc"]
    record["metrics"][-1]["test_acc"] = accuracy + 1 / 64  # one test sample more, by hand
    store.write_text(json.dumps({"tiny s0": record}))
    assert recipe.main(check) == 1
    out = capsys.readouterr().out
    assert f"MOVED: first_epoch 'tiny s0': test acc {accuracy + 1 / 64:.4g} -> {accuracy:.4g}" \
        in out and "(tolerance 0.01, the platform tolerance" in out
    assert json.loads(store.read_text())["tiny s0"] == record  # nothing stored without --update
    other_seed = json.loads(json.dumps(record))
    other_seed["metrics"][-1]["test_acc"], other_seed["seconds"] = accuracy, 1e9  # not rerun
    store.write_text(json.dumps({"tiny s0": record, "tiny s1": other_seed}))
    assert recipe.main([*check, "--update"]) == 0  # the seed spread, 1 / 64, covers the move
    assert "moved within tolerance: first_epoch 'tiny s0'" in capsys.readouterr().out
    assert json.loads(store.read_text())["tiny s0"]["metrics"][-1]["test_acc"] == accuracy


def test_training_recipe_reruns_rows_of_other_code_and_refuses_mixed_tables(
        tmp_path, capsys, monkeypatch):
    recipe = import_benchmark("training_recipe")
    config = _tiny_recipe_config(recipe)
    monkeypatch.setattr(recipe, "runs_for", lambda part, args: [("tiny s0", config, 0)])
    made_by = recipe.current_provenance(recipe.__file__, [])
    unknown = {"config": recipe.plan_training(config).config.as_dict(), "seconds": 1.0,
               "metrics": [{"epoch": 1, "test_acc": 0.5, "test_silent": 0.0}]}
    store = tmp_path / "runs_first_epoch.json"
    store.write_text(json.dumps({"tiny s0": unknown}))
    run = ["--out", str(tmp_path), "--parts", "first_epoch"]
    assert recipe.main([*run, "--allow-mixed"]) == 0  # kept: same config, code not asked
    assert json.loads(store.read_text())["tiny s0"] == unknown
    assert recipe.main(run) == 0  # stored by unknown code: stale, rerun
    assert "tiny s0: stored by code unknown" in capsys.readouterr().out
    rerun = json.loads(store.read_text())["tiny s0"]
    assert recipe.same_code(rerun, made_by) and rerun["provenance"]["command"].endswith(
        "training_recipe.py --out " + " ".join(run[1:]))
    assert recipe.main(run) == 0  # stored by this code: skipped
    assert capsys.readouterr().out.startswith("case")  # no run before the table
    other_code = {**made_by, "code_commit": "0" * 40, "dirty": False}
    assert not recipe.same_code({"provenance": other_code}, made_by)
    store.write_text(json.dumps({"tiny s0": rerun, "tiny s1": {**unknown,
                                                               "provenance": other_code}}))
    table = tmp_path / "training_recipe.md"
    table.unlink()
    assert recipe.main(["--out", str(tmp_path), "--parts", ""]) == 1
    refusal = capsys.readouterr().err
    assert refusal.count("\n") == 1 and refusal.startswith(
        f"refusing a table of rows from different code: {recipe.code_identity(made_by)} (1 "
        f"row: tiny s0); 000000000000 (1 row: tiny s1);")
    assert not table.exists()
    assert recipe.main(["--out", str(tmp_path), "--parts", "", "--allow-mixed"]) == 0
    assert table.read_text().startswith("Rows from different code") and table.read_text().endswith(
        ",".join(sorted([recipe.code_identity(made_by), "000000000000"])) + "\n```\n")


@pytest.mark.slow
def test_the_cheapest_stored_first_epoch_row_reruns_to_its_stored_number(shared_data, capsys):
    """``--check 1`` on the real store: the row's number reruns with this code (nothing is
    written: without --update the store is only read)."""
    recipe = import_benchmark("training_recipe")
    store = BENCHMARKS / "results" / "training_recipe" / "runs_first_epoch.json"
    before = store.read_bytes()
    assert recipe.main(["--parts", "first_epoch", "--check", "1"]) == 0
    assert "--check: 0 of 1 rows moved beyond their tolerance" in capsys.readouterr().out
    assert store.read_bytes() == before
