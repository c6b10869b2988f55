"""Atomic writes: the umask's mode, no stale temp files, the old file kept on failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lava_init.files import atomic_write, atomic_write_text, stale_temp_files


def test_written_files_get_the_umask_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        path = atomic_write_text("x", tmp_path / "a.csv")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        os.umask(0o077)
        assert stat.S_IMODE(atomic_write_text("y", path).stat().st_mode) == 0o600
    finally:
        os.umask(previous)


def test_an_interrupted_write_keeps_the_old_file_and_the_next_one_removes_its_temp(tmp_path):
    path = atomic_write_text("old", tmp_path / "net.net")
    stale = tmp_path / ".net.net.abc123.tmp"  # what a SIGKILL during a write leaves
    stale.write_text("half")
    other = tmp_path / ".other.net.abc123.tmp"
    other.write_text("another target's")
    assert stale_temp_files(path) == [stale]

    def fail(temp: str) -> None:
        Path(temp).write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, fail)
    assert path.read_text() == "old" and stale.exists()
    atomic_write_text("new", path)
    assert path.read_text() == "new"
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.net.abc123.tmp", "net.net"]
