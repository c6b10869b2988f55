"""Files written atomically: a temp file in the target's folder, then a rename over it.

A reader never sees a half-written file, and an interrupted write leaves the old file intact.
Standard library only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temp_path)`` on a temp file beside ``path``, then rename it over ``path``.

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
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda temp: Path(temp).write_text(text))
