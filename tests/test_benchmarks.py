"""The benchmark scripts load and run end to end on small settings (results in tmp_path)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCHMARKS.glob("*.py")))
def test_every_benchmark_loads_and_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _load(name).main(["--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_convergence_runs_the_calibrated_recipes(tmp_path):
    convergence = _load("convergence")
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
    deep_cuba = _load("deep_cuba")
    assert deep_cuba.main(["--depth", "4", "--width", "16", "--time-steps", "6", "--batch",
                           "2", "--input-rates", "0.2", "--out", str(tmp_path / "deep")]) == 0
    runs = json.loads((tmp_path / "deep.json").read_text())["runs"]
    assert {run["method"] for run in runs} == set(deep_cuba.METHODS)
    assert all(len(run["rates"]) == 4 for run in runs)
    assert (tmp_path / "deep.png").stat().st_size > 0
