"""run_lava in parallel worker processes: the same spikes as one process, clean stops."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from conftest import finish, start_run_lava, wait_for_descendants

from lava_init.training.example_nets import (
    CONV_INPUT,
    DENSE_INPUT,
    conv_net,
    dense_net,
    random_spikes,
)
from netx_export import export_netx, run_lava, verify
from netx_export.running.interrupts import descendants
from netx_export.running.workers import (
    CORES_PER_WORKER,
    available_cores,
    map_samples,
    resolve_workers,
)

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration


def test_workers_give_exactly_the_spikes_of_one_process(tmp_path):
    net = conv_net(bias=True)
    path = export_netx(net, tmp_path / "conv.net", input_shape=CONV_INPUT)
    spikes = random_spikes(CONV_INPUT, steps=10, batch=5, seed=4)
    alone = run_lava(path, spikes, workers=1)
    shared = run_lava(path, spikes, workers=3)  # shares of 2, 2 and 1 samples
    assert [layer.shape for layer in shared] == [(5, 64, 10), (5, 128, 10), (5, 10, 10)]
    for one, many in zip(alone, shared, strict=True):
        np.testing.assert_array_equal(many, one)
    assert sum(int(layer.sum()) for layer in alone) > 0
    report = verify(net, path, spikes, workers=2)
    assert report.total_mismatches == 0, str(report)


def test_worker_count_defaults_to_one_per_two_cores_and_never_exceeds_the_samples():
    assert resolve_workers(None, 1000) == max(1, available_cores() // CORES_PER_WORKER)
    assert resolve_workers(8, 3) == 3
    for wrong in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a whole number >= 1"):
            resolve_workers(wrong, 10)


def _fails(share: np.ndarray, on_sample) -> list[np.ndarray]:
    raise ValueError(f"cannot run {len(share)} samples")


def _dies(share: np.ndarray, on_sample) -> list[np.ndarray]:
    os._exit(3)


def test_a_failing_or_vanished_worker_is_one_clear_error():
    batch = np.zeros((4, 2, 3))
    with pytest.raises(RuntimeError, match=r"Lava worker \d failed: ValueError: cannot run 2 "):
        map_samples(_fails, batch, workers=2)
    with pytest.raises(RuntimeError, match=r"Lava worker \d ended \(exit code 3\) without "
                                           "returning its samples"):
        map_samples(_dies, batch, workers=2)
    assert descendants() == []


@pytest.mark.parametrize("signum, group", [(signal.SIGTERM, False), (signal.SIGINT, True)])
def test_signal_during_a_parallel_run_leaves_no_process_behind(tmp_path, signum, group):
    path = export_netx(dense_net(), tmp_path / "net.net")
    process = start_run_lava(path, f"np.ones((2,) + {DENSE_INPUT} + (50000,))", workers=2)
    started = wait_for_descendants(process, 8)  # 2 workers, each with Lava's processes
    if group:  # a terminal's Ctrl-C reaches every process of the group
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    _, err = finish(process, started)
    assert process.returncode != 0
    assert f"LavaInterrupted: interrupted by {signal.Signals(signum).name}" in err, err
