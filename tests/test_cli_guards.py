"""Bad parameters, outputs that cannot be written, runs that would be overwritten: one clear
line before any work, and nothing but the command's own output on stdout."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lava_init.cli import main as cli
from lava_init.training.checkpoints import save_model
from lava_init.training.models import build_model

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
TINY_RUN = ["--dataset", "digits", "--depth", "1", "--width", "8", "--epochs", "1",
            "--limit", "64", "--test-limit", "32", "--time-steps", "2", "--no-progress"]
#: A folder no one can create files in, even root (/proc takes no new entries).
UNWRITABLE = "/proc/lava-init-test/run"


def error_line(capsys, argv: list[str]) -> str:
    """The one stderr line of a refused command (exit code 2)."""
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"lava-init {argv[0]}: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("option, value, message", [
    ("--threshold", "-1", "threshold must be a finite number > 0 (got -1.0)"),
    ("--threshold", "inf", "threshold must be a finite number > 0 (got inf)"),
    ("--threshold", "nan", "threshold must be a finite number > 0 (got nan)"),
    ("--current-decay", "2", "current_decay must be in [0, 1] (got 2.0)"),
    ("--voltage-decay", "-1", "voltage_decay must be in [0, 1] (got -1.0)"),
    ("--tau-grad", "0", "tau_grad must be a finite number > 0 (got 0.0)"),
])
def test_bad_neuron_parameters_are_refused(capsys, option, value, message):
    assert message in error_line(capsys, ["train", *TINY_RUN, option, value])


def test_graded_input_needs_memoryless_neurons(capsys):
    line = error_line(capsys, ["train", *TINY_RUN, "--encoding", "graded", "--current-decay",
                               "0.25"])
    assert "--encoding graded needs memoryless neurons" in line


def test_a_run_folder_is_not_overwritten_without_resume_or_overwrite(capsys, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY_RUN, "--out", str(out)]) == 0
    capsys.readouterr()
    checkpoint = (out / "checkpoint.pt").read_bytes()
    line = error_line(capsys, ["train", *TINY_RUN, "--out", str(out)])
    assert "already holds a run (checkpoint.pt, metrics.csv)" in line
    assert "--resume" in line and "--overwrite" in line
    assert (out / "checkpoint.pt").read_bytes() == checkpoint
    assert cli.main(["train", *TINY_RUN, "--out", str(out), "--overwrite"]) == 0
    assert "--resume and --overwrite exclude" in error_line(
        capsys, ["train", *TINY_RUN, "--out", str(out), "--overwrite", "--resume"])


def test_resume_needs_an_out_folder_with_a_training_checkpoint(capsys, tmp_path):
    assert "give --out RUN_DIR" in error_line(capsys, ["train", *TINY_RUN, "--resume"])
    config = {"arch": "mlp", "in_features": 64, "out_features": 10, "depth": 1, "width": 8}
    save_model(tmp_path / "checkpoint.pt", build_model(config), config)
    line = error_line(capsys, ["train", *TINY_RUN, "--out", str(tmp_path), "--resume"])
    assert "holds a saved model, not a training run's checkpoint" in line


def test_a_corrupt_checkpoint_gives_no_torch_advice(capsys, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    line = error_line(capsys, ["export", str(bad), str(tmp_path / "x.net")])
    assert "is not a lava-init checkpoint" in line and "weights_only" not in line


@pytest.mark.parametrize("argv", [
    ["train", *TINY_RUN, "--out", UNWRITABLE],
    ["propagate", "--depth", "2", "--width", "8", "--out", UNWRITABLE],
    ["demo", "--out", UNWRITABLE],
])
def test_unwritable_outputs_are_refused_before_any_work(capsys, argv):
    line = error_line(capsys, argv)
    assert f"{UNWRITABLE} cannot be written" in line
    assert "%" not in capsys.readouterr().out  # no progress bar: nothing ran


def test_an_output_below_a_file_is_refused(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    line = error_line(capsys, ["propagate", "--depth", "2", "--width", "8",
                               "--out", str(afile / "sub")])
    assert "cannot be written" in line


def test_verify_refuses_zero_time_steps(capsys, tmp_path):
    config = {"arch": "mlp", "in_features": 8, "out_features": 2, "depth": 1, "width": 4}
    torch.manual_seed(0)
    path = save_model(tmp_path / "m.pt", build_model(config), config)
    line = error_line(capsys, ["verify", str(path), str(tmp_path / "m.net"), "--time-steps", "0"])
    assert "--time-steps must be an integer >= 1 (got 0)" in line


def test_stdout_holds_only_the_commands_output_and_version_works(tmp_path):
    config = {"arch": "mlp", "in_features": 8, "out_features": 2, "depth": 1, "width": 4}
    path = save_model(tmp_path / "m.pt", build_model(config), config)
    result = subprocess.run([sys.executable, "-m", "lava_init.cli", "export", str(path),
                             str(tmp_path / "m.net")], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.startswith("wrote "), result.stdout[:200]
    assert "Prophesee" not in result.stdout + result.stderr
    version = subprocess.run([sys.executable, "-m", "lava_init.cli", "--version"],
                             capture_output=True, text=True, cwd=ROOT, check=True)
    assert version.stdout.strip() == "lava-init 0.1.0"


def _stderr_on_a_terminal(argv: list[str]) -> str:
    """Run ``lava-init ARGV`` (this process's ``main``: a fresh one would add seconds of imports
    and nothing the bar depends on) with ``sys.stderr`` on a pseudo-terminal; what it wrote
    there, read by a thread as it comes so that a long bar cannot fill the terminal's buffer."""
    import fcntl
    import os
    import select
    import struct
    import termios
    import threading

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    chunks: list[bytes] = []
    done = threading.Event()

    def drain() -> None:  # until the command is done and the terminal holds nothing more
        while True:
            if select.select([leader], [], [], 0.1)[0]:
                chunks.append(os.read(leader, 65536))
            elif done.is_set():
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    terminal = open(follower, "w", closefd=False)  # noqa: SIM115 (closed below, with its fd)
    try:
        with contextlib.redirect_stderr(terminal), contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(argv) == 0
        terminal.flush()
    finally:
        done.set()
        reader.join(timeout=60)
        terminal.close()
        os.close(follower)
        os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_verify_draws_a_progress_bar_on_a_terminal_unless_told_not_to(tmp_path):
    config = {"arch": "mlp", "in_features": 8, "out_features": 2, "depth": 1, "width": 4}
    model = build_model(config)
    path = save_model(tmp_path / "m.pt", model, config)
    assert cli.main(["export", str(path), str(tmp_path / "m.net")]) == 0
    argv = ["verify", str(path), str(tmp_path / "m.net"), "--samples", "2", "--time-steps", "6"]
    assert "sample" in _stderr_on_a_terminal(argv)
    assert "sample" not in _stderr_on_a_terminal([*argv, "--no-progress"])


def test_an_os_error_during_the_work_is_one_line_with_the_path(capsys, tmp_path):
    config = {"arch": "mlp", "in_features": 8, "out_features": 2, "depth": 1, "width": 4}
    path = save_model(tmp_path / "m.pt", build_model(config), config)
    too_long = tmp_path / ("n" * 300 + ".net")  # the folder is fine, the name is not
    line = error_line(capsys, ["export", str(path), str(too_long)])
    assert "File name too long" in line and "nnnn" in line
