"""Lava runs that stop cleanly on SIGINT and SIGTERM: no hang, no orphaned worker.

Lava's runtime forks one worker per process model plus a shared-memory manager. Left to
Python's defaults, Ctrl-C reaches every process of the group (each prints a traceback and
``network.stop()`` then waits forever for workers that died), and SIGTERM kills the parent
alone (the workers keep running with no parent). :func:`interruptible` turns either signal
into :class:`LavaInterrupted` in the process that started the run; the forked workers
inherit the handler and ignore the signal, so that :func:`stop_runtime` can stop them:
``network.stop()`` with a time limit, then SIGKILL for whatever is left.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

#: The signals a Lava run turns into :class:`LavaInterrupted`.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds ``network.stop()`` gets after an interruption before the workers are killed.
STOP_TIMEOUT = 2.0


class LavaInterrupted(KeyboardInterrupt):
    """A Lava run stopped by a signal; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def _stop_signals_handled_by(action) -> Iterator[None]:
    """``action`` for SIGINT and SIGTERM during the ``with`` body, the previous handlers after.
    Outside the main thread signals cannot be caught: the body runs with them as they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, action) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def interruptible() -> contextlib.AbstractContextManager:
    """Within the ``with`` body, the first SIGINT or SIGTERM raises :class:`LavaInterrupted`
    in this process (later ones are ignored, so that the cleanup it starts is not cut short);
    processes forked from it (Lava's workers) ignore them."""
    owner = os.getpid()

    def handler(signum: int, _frame) -> None:
        if os.getpid() == owner:
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_IGN)
            raise LavaInterrupted(signum)

    return _stop_signals_handled_by(handler)


def signals_ignored() -> contextlib.AbstractContextManager:
    """Ignore SIGINT and SIGTERM for the ``with`` body (cleanup that must not be cut short)."""
    return _stop_signals_handled_by(signal.SIG_IGN)


def descendants(pid: int | None = None) -> list[int]:
    """Process ids of every descendant of ``pid`` (this process by default), from /proc,
    without multiprocessing's resource tracker (it ends with the interpreter)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # it ended while we looked
            continue
        if b"resource_tracker" not in command:
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [os.getpid() if pid is None else pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _shutdown_shared_memory(network) -> None:
    """Ask the run's shared-memory manager to unlink its segments and exit (best effort: an
    attribute Lava 0.10 has; without it the segments are freed at exit, with a warning)."""
    messaging = getattr(getattr(network, "runtime", None), "_messaging_infrastructure", None)
    manager = getattr(messaging, "smm", None)
    if manager is not None:
        with contextlib.suppress(Exception):
            manager.shutdown()


def kill_and_reap(pids: list[int]) -> None:
    """SIGKILL ``pids``, then reap them: through multiprocessing's own process objects where
    they are its children (so that its exit handler finds them ended), else directly."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    reaped = set()
    for child in list(multiprocessing.process._children):  # active_children() skips none
        with contextlib.suppress(ValueError):  # closed by Lava's own join meanwhile
            if child.pid in pids:
                with contextlib.suppress(Exception):
                    child.join()
                reaped.add(child.pid)
    for pid in set(pids) - reaped:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


def stop_runtime(network, interrupted: bool) -> None:
    """Stop ``network``'s Lava runtime. After a normal run: ``network.stop()``. After an
    interruption: ``network.stop()`` for at most :data:`STOP_TIMEOUT` seconds, then the
    shared memory is released and every process this one started that is still there is
    killed and reaped; signals are ignored meanwhile."""
    if not interrupted:
        network.stop()
        return
    with signals_ignored():
        stopper = threading.Thread(target=_stop_quietly, args=(network,), daemon=True)
        stopper.start()
        stopper.join(STOP_TIMEOUT)
        deadline = time.monotonic() + 1.0
        while descendants() and time.monotonic() < deadline and not stopper.is_alive():
            time.sleep(0.05)
        if descendants():
            _shutdown_shared_memory(network)
            kill_and_reap(descendants())


def _stop_quietly(network) -> None:
    with contextlib.suppress(Exception):
        network.stop()
