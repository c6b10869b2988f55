"""Shared fixtures: the real data sets in ../shared/data (skipped with a reason where absent)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
import torch
from preimported import Command, start_command

from lava_init.training.data import SHARED_DATA

#: The benchmark scripts' folder. Only the tests of the benchmarks and of what they store import
#: from it, through :func:`import_benchmark`; the other tests need only the packages.
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def import_benchmark(name: str) -> ModuleType:
    """The benchmark script ``benchmarks/<name>.py`` imported as a module, with its folder on
    ``sys.path`` as when it runs as a command (the scripts import their siblings by name)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)

#: Torch threads per test process: ``make test`` runs two pytest-xdist workers on the 2 cores,
#: one thread each, and so do the processes they start (kernels, CLI runs); two threads each
#: would oversubscribe the cores, which slows OpenMP many times over. A plain ``pytest``: one
#: process with two.
PARALLEL_WORKER = bool(os.environ.get("PYTEST_XDIST_WORKER"))
if PARALLEL_WORKER:
    os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1 if PARALLEL_WORKER else max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def shared_data() -> Path:
    """The shared real-data folder; the test is skipped (with the reason) when it is absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run with the shared data at {SHARED_DATA}")
        pytest.skip(f"real data not found at {SHARED_DATA} (set LAVA_INIT_DATA to its folder)")
    return SHARED_DATA


#: Packages whose doctests build Lava processes or NetX files: the integration tier. Test files
#: mark themselves (``pytestmark = pytest.mark.integration``); everything else (math, single
#: blocks, layout) is the fast tier: ``pytest -m "not integration"``.
INTEGRATION_DOCTEST_PACKAGES = {"netx_export"}


def pytest_collection_modifyitems(config, items):
    for item in items:  # the doctests of a package's subpackages too (netx_export/running)
        if BENCHMARKS.parent in item.path.parents and \
                item.path.relative_to(BENCHMARKS.parent).parts[0] in INTEGRATION_DOCTEST_PACKAGES:
            item.add_marker(pytest.mark.integration)


def alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_descendants(process: subprocess.Popen | Command, at_least: int, timeout: float = 120.0
                         ) -> list[int]:
    """``process``'s descendants once at least ``at_least`` exist and their number is steady
    for 2 s (Lava's workers all started)."""
    from netx_export.running.interrupts import descendants

    deadline, steady_since, seen = time.monotonic() + timeout, time.monotonic(), []
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        now = descendants(process.pid)
        if len(now) != len(seen):
            seen, steady_since = now, time.monotonic()
        elif len(seen) >= at_least and time.monotonic() - steady_since > 2.0:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"the workers never all started ({seen})")


def finish(process: subprocess.Popen | Command, workers: list[int]) -> tuple[str, str]:
    """``process``'s output once it ended; asserts none of ``workers`` outlived it (10 s)."""
    out, err = process.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "workers outlived their parent"
    return out, err


def start_run_lava(path: Path, spikes: str, workers: int | None = None) -> Command:
    """A Python process, in a session of its own, that runs ``run_lava(path, <spikes>)``
    (``spikes``: a numpy expression) with ``workers``; stdout and stderr piped as text. It is
    forked from a pre-imported interpreter (tests/preimported.py): what it tests starts after
    the imports."""
    script = (f"import numpy as np\nfrom netx_export import run_lava\n"
              f"run_lava({str(path)!r}, {spikes}, workers={workers!r})\n")
    return start_command(["-c", script])
