"""Files written atomically: a temp file in the target's folder, then a rename over it.

A reader never sees a half-written file, and an interrupted write leaves the old file intact.
Standard library only.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it where Linux shows it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stale_temp_files(path: str | Path) -> list[Path]:
    """Temp files an earlier, interrupted :func:`atomic_write` to ``path`` left beside it."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temp_path)`` on a temp file beside ``path``, then rename it over ``path``.

    The file gets the mode a plain ``open(path, "w")`` would (0666 less the umask), and temp
    files of earlier interrupted writes to the same ``path`` are removed once this one is in
    place.

    Args:
        path: the file to (re)place; its folder is created when missing.
        write: writes the content to the temp file whose name it is given.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", lambda temp: pathlib.Path(temp).write_text("hi")).read_text()
    'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    earlier = stale_temp_files(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temp)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    for stale in earlier:
        stale.unlink(missing_ok=True)
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda temp: Path(temp).write_text(text))


def check_writable_folder(folder: str | Path, option: str = "the output folder") -> Path:
    """Create ``folder`` if needed and make sure files can be written in it, before any work.

    Raises ValueError naming ``option``, the folder and the reason.
    """
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(20, "it is a file", str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ValueError(f"{option} {folder} cannot be written ({error.strerror or error}); "
                         "choose a folder you can write to") from None
    return folder
