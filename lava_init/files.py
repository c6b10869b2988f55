"""Files written atomically: a temp file in the target's folder, then a rename over it.

A reader never sees a half-written file, and an interrupted write leaves the old file intact.
Standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
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


#: Free bytes a write must leave on its device beyond its own size (file-system overhead).
FREE_MARGIN = 1 << 20


def process_alive(pid: int) -> bool:
    """True while process ``pid`` exists (also when it belongs to another user).

    Args:
        pid: the process id.

    Returns:
        Whether ``os.kill(pid, 0)`` finds it.

    Example:
        >>> process_alive(os.getpid())
        True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temp_writer(temp: Path, path: Path) -> int | None:
    """The process id a temp file's name carries (``.NAME.PID.RANDOM.tmp``), else None."""
    middle = temp.name[len(path.name) + 2:-len(".tmp")]
    owner = middle.split(".", 1)[0]
    return int(owner) if owner.isdigit() and "." in middle else None


def stale_temp_files(path: str | Path) -> list[Path]:
    """Temp files an interrupted :func:`atomic_write` to ``path`` left beside it: those of a
    writer that is gone (a live writer's temp file is never stale).

    Args:
        path: the target file; its folder is searched for ``.NAME.PID.RANDOM.tmp``.

    Returns:
        The stale temp files, sorted.

    Example:
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".w.npz.4999999.x1.tmp").write_text("")  # no such pid on Linux
        >>> _ = (folder / f".w.npz.{os.getpid()}.x2.tmp").write_text("")  # this process: alive
        >>> [temp.name for temp in stale_temp_files(folder / "w.npz")]
        ['.w.npz.4999999.x1.tmp']
    """
    path = Path(path)
    temps = path.parent.glob(f".{glob.escape(path.name)}.*.tmp")
    return sorted(temp for temp in temps
                  if (writer := _temp_writer(temp, path)) is None or not process_alive(writer))


@contextlib.contextmanager
def exclusive(path: str | Path, what: str = "path", lock: str | Path | None = None
              ) -> Iterator[Path]:
    """Hold ``path`` for this process during the ``with`` body: a second process asking for
    it meanwhile gets a ValueError naming the first (its pid) and ``what`` to change. The lock
    (``flock`` on ``lock``, by default ``.NAME.lock`` beside ``path``, removed after) ends
    with the process, however it ends, so that a killed writer never blocks the next.

    Args:
        path: what is held (it need not exist).
        what: the option the message tells the other process to change.
        lock: the lock file (None: ``.NAME.lock`` beside ``path``).

    Returns:
        A context manager that yields ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> target = Path(tempfile.mkdtemp()) / "run"
        >>> with exclusive(target, "run folder"):
        ...     with exclusive(target):  # a second holder (another open file) is refused
        ...         pass
        Traceback (most recent call last):
        ValueError: ...run is in use by another lava-init process (pid ...); wait for it ...
    """
    path = Path(path)
    lock = path.parent / f".{path.name}.lock" if lock is None else Path(lock)
    while True:
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 32).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise ValueError(f"{path} is in use by another lava-init process (pid {holder}); "
                             f"wait for it to finish or choose another {what}") from None
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(handle).st_ino == os.stat(lock).st_ino:
                break
        os.close(handle)  # the lock file was replaced while we waited for it: again
    try:
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(handle)


def check_free_space(folder: str | Path, size: int, what: str) -> None:
    """ValueError before writing ``size`` bytes of ``what`` into ``folder`` when its device
    has not that much (plus :data:`FREE_MARGIN`) free.

    Args:
        folder: an existing folder on the device written to.
        size: the bytes about to be written.
        what: what is written, for the message.

    Example:
        >>> check_free_space(tempfile.gettempdir(), 10, "a note")  # fits: returns None
        >>> check_free_space(tempfile.gettempdir(), 1 << 62, "the weights")
        Traceback (most recent call last):
        ValueError: no space for the weights in ...; free some space or write elsewhere
    """
    free = shutil.disk_usage(folder).free
    if free < size + FREE_MARGIN:
        raise ValueError(f"no space for {what} in {folder}: about {size / 2**20:.1f} MiB are "
                         f"needed and {free / 2**20:.1f} MiB are free; free some space or "
                         "write elsewhere")


def atomic_write(path: str | Path, write: Callable[[str], object], size: int = 0) -> Path:
    """Call ``write(temp_path)`` on a temp file beside ``path``, then rename it over ``path``.

    The file gets the mode a plain ``open(path, "w")`` would (0666 less the umask). ``path``
    is held (:func:`exclusive`) meanwhile: a second writer is refused with one line. Temp
    files of earlier writers that are gone are removed once this one is in place. A full disk
    (checked first against ``size``, the bytes the write is expected to take, and again on
    failure) gives one line and leaves the old file and no temp file.

    Args:
        path: the file to (re)place; its folder is created when missing.
        write: writes the content to the temp file whose name it is given.
        size: bytes the content is expected to take (0: not checked before writing).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", lambda temp: pathlib.Path(temp).write_text("hi")).read_text()
    'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_free_space(path.parent, size, path.name)
    with exclusive(path, "output file"):
        earlier = stale_temp_files(path)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                        dir=path.parent)
        os.close(handle)
        try:
            write(temp)
            os.chmod(temp, 0o666 & ~_umask())
            os.replace(temp, path)
        except BaseException as error:
            Path(temp).unlink(missing_ok=True)
            if isinstance(error, Exception) and (
                    getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
                    or shutil.disk_usage(path.parent).free < FREE_MARGIN):
                raise ValueError(f"no space left in {path.parent} while writing {path.name} "
                                 "(nothing was written); free some space or write "
                                 "elsewhere") from None
            raise
        for stale in earlier:
            stale.unlink(missing_ok=True)
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`).

    Args:
        text: the content.
        path: the file to write or replace.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> note = atomic_write_text("done", Path(tempfile.mkdtemp()) / "sub" / "note.txt")
        >>> note.read_text(), note.parent.name
        ('done', 'sub')
    """
    return atomic_write(path, lambda temp: Path(temp).write_text(text))


def check_writable_folder(folder: str | Path, option: str = "the output folder") -> Path:
    """Create ``folder`` if needed and make sure files can be written in it, before any work.

    Args:
        folder: the folder files will be written to.
        option: the command-line option or argument that named it, for the message.

    Returns:
        ``folder`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: naming ``option``, the folder and the reason (a file in the way, no
            permission, ...).

    Example:
        >>> blocker = Path(tempfile.mkdtemp()) / "out"
        >>> _ = blocker.write_text("")
        >>> check_writable_folder(blocker / "runs", "--out")
        Traceback (most recent call last):
        ValueError: --out ... cannot be written (Not a directory); choose a folder you can write to
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
