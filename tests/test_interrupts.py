"""SIGINT and SIGTERM during real Lava runs: the run stops, every worker ends, one line.

The commands are forked from a pre-imported interpreter (tests/preimported.py): the signals
land once the command runs; test_run_safety signals a real interpreter during its imports."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from conftest import finish, start_run_lava, wait_for_descendants
from preimported import start_command

from lava_init.network_init import initialize
from lava_init.training.checkpoints import save_model
from lava_init.training.example_nets import DENSE_INPUT, dense_net
from lava_init.training.models import build_model
from netx_export import export_netx

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

#: Lava's runtime for a 2-layer net: a runtime service, one process per layer and I/O process,
#: a shared-memory manager. Wait for at least this many before sending the signal.
MIN_WORKERS = 3


@pytest.fixture
def checkpoint(tmp_path) -> tuple[Path, Path]:
    config = {"arch": "mlp", "in_features": 16, "out_features": 4, "depth": 1, "width": 16}
    torch.manual_seed(0)
    model = build_model(config)
    initialize(model, generator=torch.Generator().manual_seed(0))
    path = save_model(tmp_path / "model.pt", model, config)
    return path, export_netx(model, tmp_path / "model.net")


@pytest.mark.parametrize("signum, group", [(signal.SIGINT, False), (signal.SIGINT, True),
                                           (signal.SIGTERM, False)])
def test_signal_during_cli_verify_ends_every_worker_with_one_line(checkpoint, signum, group):
    model, net_file = checkpoint
    process = start_command(["-m", "lava_init.cli", "verify", str(model), str(net_file),
                             "--samples", "100000", "--time-steps", "20"])
    workers = wait_for_descendants(process, MIN_WORKERS)
    if group:  # a terminal's Ctrl-C: the whole process group
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    out, err = finish(process, workers)
    assert process.returncode == 128 + signum, err
    name = signal.Signals(signum).name
    assert err.strip().splitlines() == [
        f"lava-init verify: interrupted by {name}; stopped cleanly (Lava runtime and workers "
        "ended, finished files kept)"], err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_run_lava_script_leaves_no_worker(tmp_path, signum):
    path = export_netx(dense_net(), tmp_path / "net.net")
    process = start_run_lava(path, f"np.ones({DENSE_INPUT} + (100000,))")
    workers = wait_for_descendants(process, MIN_WORKERS)
    os.kill(process.pid, signum)
    _, err = finish(process, workers)
    assert process.returncode != 0
    assert f"LavaInterrupted: interrupted by {signal.Signals(signum).name}" in err


#: ``python -m lava_init.cli`` (the same ``main``) with the demo's networks shrunk (2 x 16
#: instead of 8 x 64 trained, 2 x 16 instead of 20 x 128 measured): the same four steps and
#: Lava phase, reached with less work before it.
SMALL_DEMO = """
import dataclasses, functools, sys
from lava_init.cli import demo
from lava_init.cli.main import main
assert {"depth", "width", "activity_depth", "activity_width"} <= {
    field.name for field in dataclasses.fields(demo.DemoSettings)}
demo.DemoSettings = functools.partial(demo.DemoSettings, depth=2, width=16, activity_depth=2,
                                      activity_width=16)
sys.exit(main())
"""


def test_ctrl_c_during_the_demos_lava_phase_is_one_line(tmp_path):
    process = start_command(["-c", SMALL_DEMO, "demo", "--out", str(tmp_path), "--epochs", "1",
                             "--lava-samples", "100000", "--no-progress"])
    workers = wait_for_descendants(process, MIN_WORKERS, timeout=300)
    os.killpg(process.pid, signal.SIGINT)
    out, err = finish(process, workers)
    assert process.returncode == 130, err
    assert err.strip().splitlines() == [
        "lava-init demo: interrupted by SIGINT; stopped cleanly (Lava runtime and workers "
        "ended, finished files kept)"], err
    assert "3. Exporting" in out and "Traceback" not in out + err
