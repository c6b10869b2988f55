"""Runs that always end and leave nothing behind: a failed Lava process ends the run with one
line, a stop signal is never lost, a killed parent takes its Lava processes and shared memory
with it, a second writer is refused, a full disk is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import alive, start_run_lava, wait_for_descendants

from lava_init.files import atomic_write, exclusive, stale_temp_files
from lava_init.training.example_nets import DENSE_INPUT, dense_net
from netx_export import export_netx
from netx_export.running.interrupts import LavaRunFailed, descendants
from netx_export.running.lava_run import RUN_FOLDER_PREFIX, netx_plan, run_in_process

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dense_file(tmp_path_factory) -> Path:
    return export_netx(dense_net(), tmp_path_factory.mktemp("net") / "net.net")


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_failing_lava_process_ends_the_run_naming_its_layer(dense_file, tmp_path):
    """The file NetX loads has a threshold Lava's LIF cannot take (checked files never do:
    the plan is the good file's), so a Lava process fails mid-run: the watchdog stops it."""
    broken = tmp_path / "broken.net"
    broken.write_bytes(dense_file.read_bytes())
    with h5py.File(broken, "a") as handle:
        del handle["layer/1/neuron/vThMant"]
        handle["layer/1/neuron/vThMant"] = 80.5
    started = time.monotonic()
    with pytest.raises(LavaRunFailed, match=r"Lava process PyLifModelBitAcc of layer/1 ended "
                                            r"\(exit code 0\): TypeError"):
        run_in_process(broken, netx_plan(dense_file), np.ones((2, *DENSE_INPUT, 6)), "fixed_pt")
    assert time.monotonic() - started < 30
    deadline = time.monotonic() + 5
    while descendants() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert descendants() == []


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_run_without_progress_is_stopped_by_the_watchdog(dense_file, monkeypatch):
    from netx_export.running import interrupts

    monkeypatch.setattr(interrupts, "STALL_TIMEOUT", 0.3)  # one sample of 3,000 steps: seconds
    started = time.monotonic()
    with pytest.raises(LavaRunFailed, match=r"made no progress for 0.3 s"):
        run_in_process(dense_file, netx_plan(dense_file), np.ones((1, *DENSE_INPUT, 3000)),
                       "fixed_pt")
    assert time.monotonic() - started < 30


#: A signal that lands inside an os.fork hook (as logging's, while Lava starts its
#: processes): Python prints the handler's exception and swallows it.
SWALLOWED_SIGNAL = """
import multiprocessing, os, signal, sys, time
from netx_export.running.interrupts import LavaInterrupted, interruptible
os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGTERM))
try:
    with interruptible():
        worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(0.1,))
        worker.start()
        worker.join()
        print("the body went on")
except LavaInterrupted as stop:
    print("stopped", stop.signum)
    sys.exit(stop.exit_code)
"""


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_signal_swallowed_in_a_fork_hook_still_stops_the_run():
    done = subprocess.run([sys.executable, "-c", SWALLOWED_SIGNAL], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 143, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "stopped 15"


@pytest.mark.parametrize("delay", [0.5, 3.0])
@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_signal_in_any_phase_of_verify_exits_143_with_one_line(tmp_path, delay):
    import torch

    from lava_init.training.checkpoints import save_model
    from lava_init.training.models import build_model

    config = {"arch": "mlp", "in_features": 16, "out_features": 4, "depth": 1, "width": 16}
    model = build_model(config)
    checkpoint = save_model(tmp_path / "model.pt", model, config)
    torch.manual_seed(0)
    net_file = export_netx(model, tmp_path / "model.net")
    process = subprocess.Popen(
        [sys.executable, "-m", "lava_init.cli", "verify", str(checkpoint), str(net_file),
         "--samples", "2000", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT, start_new_session=True)
    time.sleep(delay)  # start-up (imports, loading) or Lava compiling and forking
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("lava-init verify: interrupted by SIGTERM")
    assert "Traceback" not in err


def shared_memory_of(pids: list[int]) -> set[str]:
    """The /dev/shm segments that processes ``pids`` have mapped and that still exist: the
    run's own, whatever other runs on the machine (a parallel test worker's) hold."""
    mapped = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        mapped |= {line.split("/dev/shm/", 1)[1].split()[0] for line in maps.splitlines()
                   if "/dev/shm/" in line}
    return mapped & set(os.listdir("/dev/shm"))


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_killed_parent_takes_its_lava_processes_and_shared_memory_along(dense_file):
    process = start_run_lava(dense_file, f"np.ones((100000,) + {DENSE_INPUT} + (5,))", workers=2)
    workers = wait_for_descendants(process, 8)
    shared = shared_memory_of([process.pid, *workers])
    assert shared, "the run maps no shared memory: nothing to check"
    run_folders = list(Path(tempfile.gettempdir()).glob(f"{RUN_FOLDER_PREFIX}{process.pid}-*"))
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "Lava processes outlived their parent"
    while shared & set(os.listdir("/dev/shm")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not shared & set(os.listdir("/dev/shm")), "shared memory left behind"
    from netx_export.running.lava_run import remove_orphaned_run_folders

    assert set(run_folders) <= set(remove_orphaned_run_folders())
    assert not any(folder.exists() for folder in run_folders)


HOLD = """
import sys, time
from lava_init.files import exclusive
with exclusive(sys.argv[1], "output file"):
    print("holding", flush=True)
    time.sleep(30)
"""


def test_a_second_writer_is_refused_naming_the_first_and_a_live_temp_file_is_kept(tmp_path):
    target = tmp_path / "net.net"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(ValueError, match=rf"{target} is in use by another lava-init "
                                             rf"process \(pid {holder.pid}\)"):
            atomic_write(target, lambda temp: Path(temp).write_text("second"))
        live_temp = tmp_path / f".net.net.{holder.pid}.abc.tmp"
        live_temp.write_text("the first writer's")
        assert stale_temp_files(target) == []
    finally:
        holder.kill()
        holder.wait()
    atomic_write(target, lambda temp: Path(temp).write_text("after"))  # a killed holder
    assert target.read_text() == "after" and not live_temp.exists()  # its temp is now stale
    with exclusive(target):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.net"]


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 3 MiB tmpfs (root can mount one; the test says so where it cannot)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_is_one_line_and_leaves_nothing(small_disk):
    def large(temp: str) -> None:
        with h5py.File(temp, "w") as handle:
            handle["x"] = np.ones((800, 800))

    with pytest.raises(ValueError, match="no space left in .* while writing big.net"):
        atomic_write(small_disk / "big.net", large)
    with pytest.raises(ValueError, match=r"no space for big.net in .* MiB are needed"):
        atomic_write(small_disk / "big.net", large, size=5 << 20)
    assert list(small_disk.iterdir()) == []


def test_inspect_and_load_refuse_a_file_whose_weights_live_in_another_file(tmp_path,
                                                                            dense_file):
    from netx_export import inspect, load_netx

    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.full(16 * 32, 2.0).tobytes())
    hostile = tmp_path / "hostile.net"
    hostile.write_bytes(dense_file.read_bytes())
    with h5py.File(hostile, "a") as handle:
        del handle["layer/1/weight"]
        handle.create_dataset("layer/1/weight", (16, 32), "f8", external=[(str(secret), 0, 4096)])
    for use in (lambda: inspect(hostile, np.ones((*DENSE_INPUT, 4))), lambda: load_netx(hostile)):
        with pytest.raises(ValueError, match=r"/layer/1/weight is stored in another file .*"
                                             r"secret.bin\); a NetX file must be self-contained"):
            use()


def test_a_signal_wrapped_by_python_during_an_import_is_still_one_line(monkeypatch, capsys):
    """A signal handled while a class body is set up reaches the CLI as a RuntimeError (Python
    wraps errors of ``__set_name__``, as PIL's during lava-dl's import): still exit 143 and the
    one line, as the subprocess test above saw under load."""
    from lava_init.cli import main as cli_main
    from lava_init.signals import stop_handler

    def import_interrupted(_args):
        try:
            stop_handler()(signal.SIGTERM, None)
        except KeyboardInterrupt as stop:
            raise RuntimeError("Error calling __set_name__ on 'cached_property'") from stop

    monkeypatch.setattr(cli_main, "_run_command", import_interrupted)
    assert cli_main.main(["inspect", "x.net"]) == 143
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "lava-init inspect: interrupted by SIGTERM; stopped cleanly (Lava runtime and workers "
        "ended, finished files kept)"]
