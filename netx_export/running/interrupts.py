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
from dataclasses import dataclass, field
from pathlib import Path

from lava_init.signals import (
    STOP_SIGNALS,
    Interrupted,
    children_die_with_parent,
    forget_signal,
    handled_by,
    raise_if_signalled,
    signals_ignored,
    stop_handler,
)

__all__ = ["STOP_SIGNALS", "LavaInterrupted", "LavaRunFailed", "RunWatch", "interruptible",
           "signals_ignored", "stop_runtime", "watched"]

#: Seconds ``network.stop()`` gets after an interruption before the workers are killed.
STOP_TIMEOUT = 2.0
#: Seconds a Lava run may go without finishing a sample (compiling included) before the
#: watchdog ends it: a run that makes no progress is stopped, never waited on forever.
STALL_TIMEOUT = 600.0
#: Seconds between the watchdog's looks at Lava's processes.
WATCH_SECONDS = 0.2
#: The signal the watchdog sends to the main thread to end a failed run.
WATCHDOG_SIGNAL = signal.SIGUSR1


class LavaInterrupted(Interrupted):
    """A Lava run stopped by a signal; ``exit_code`` is the shell's 128 + signal number."""


class LavaRunFailed(RuntimeError):
    """A Lava run that cannot finish: one of its processes ended, or it made no progress for
    :data:`STALL_TIMEOUT` seconds; ``str()`` names the process and the layer."""


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Within the ``with`` body, the first SIGINT or SIGTERM raises :class:`LavaInterrupted`
    in this process (later ones are ignored, so that the cleanup it starts is not cut short);
    processes forked from it (Lava's workers) ignore them and die with it. A signal whose
    exception was swallowed (e.g. inside a fork hook) is raised when the body ends.

    Returns:
        A context manager; the previous handlers are back after it.

    Example:
        >>> try:
        ...     with interruptible():
        ...         os.kill(os.getpid(), signal.SIGTERM)  # as ``kill PID`` from a shell
        ...         time.sleep(5)
        ... except LavaInterrupted as stop:  # a KeyboardInterrupt: catch it by name
        ...     print(stop, stop.exit_code)
        interrupted by SIGTERM 143
    """
    try:
        with handled_by(stop_handler(LavaInterrupted, ignore_after=True)), \
                children_die_with_parent():
            yield
        raise_if_signalled(LavaInterrupted)
    except Interrupted:
        forget_signal()
        raise


def descendants(pid: int | None = None) -> list[int]:
    """Process ids of every descendant of ``pid`` (this process by default), from /proc,
    without multiprocessing's resource tracker (it ends with the interpreter).

    Args:
        pid: the ancestor (None: this process).

    Returns:
        The pids, children first, then grandchildren, ...

    Example:
        >>> os.getpid() in descendants(os.getppid())
        True
    """
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
    they are its children (so that its exit handler finds them ended), else directly.

    Args:
        pids: the processes, e.g. :func:`descendants` after a failed run; ones already gone
            are passed over.

    Example:
        >>> kill_and_reap([])  # nothing left to end: returns at once
    """
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


def stop_runtime(network, forced: bool) -> None:
    """Stop ``network``'s Lava runtime. After a normal run: ``network.stop()`` (forced if the
    watchdog ends it). After an interruption or a failure (``forced``): ``network.stop()``
    for at most :data:`STOP_TIMEOUT` seconds, then the shared memory is released and every
    process this one started that is still there is killed and reaped; signals are ignored
    meanwhile.

    Args:
        network: the Lava process whose ``run`` started the runtime.
        forced: True after an interruption or a failure.

    Example:
        >>> class Network:  # stands in for a Lava network that has run
        ...     def stop(self):
        ...         print("stopped")
        >>> stop_runtime(Network(), forced=False)
        stopped
    """
    if not forced:
        try:
            network.stop()
            return
        except LavaRunFailed:
            stop_runtime(network, True)
            raise
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


def _actors(network) -> list[tuple[object, str, int | None]]:
    """``(OS process, model name, Lava process id)`` of ``network``'s running Lava runtime:
    Lava starts one per Python process model in its executable's order, then one per runtime
    service (no model, no id)."""
    runtime = getattr(network, "runtime", None)
    actors = list(getattr(getattr(runtime, "_messaging_infrastructure", None), "_actors", ()))
    builders = getattr(getattr(runtime, "_executable", None), "proc_builders", None) or {}
    models = [(builder.proc_model.__name__, process.id) for process, builder in builders.items()
              if type(builder).__name__ == "PyProcessBuilder"]
    models += [("a runtime service", None)] * max(0, len(actors) - len(models))
    return [(actor, *model) for actor, model in zip(actors, models, strict=False)]


def _failed_process(network, owners: dict[int, str]) -> str | None:
    """A line naming the first Lava process of ``network`` that ended, its layer (``owners``:
    Lava process id -> layer name) and its error; None while all run."""
    for actor, model, process_id in _actors(network):
        try:
            code = actor.exitcode
        except ValueError:  # closed: the runtime is stopping it
            continue
        if code is None:
            continue
        error = ""
        with contextlib.suppress(Exception):
            raised = actor.exception
            if raised:
                error = f": {type(raised[0]).__name__}: {raised[0]}"
        owner = owners.get(process_id, "the runtime")
        return (f"Lava process {model} of {owner} ended (exit code {code}){error}; the run "
                "cannot finish")
    return None


@dataclass
class RunWatch:
    """What the run tells its watchdog: ``progress()`` after each finished sample,
    ``stopping()`` before it stops the runtime (whose processes then end on purpose)."""

    last: float = field(default_factory=time.monotonic)
    is_stopping: bool = False
    failure: str | None = None

    def progress(self) -> None:
        self.last = time.monotonic()

    def stopping(self) -> None:
        self.is_stopping = True
        self.progress()


@contextlib.contextmanager
def watched(network, owners: dict[int, str] | None = None,
            stall_timeout: float | None = None) -> Iterator[RunWatch]:
    """Watch ``network``'s Lava run during the ``with`` body, which reports to the
    :class:`RunWatch` it gets: when one of its processes ends (before ``stopping()``) or no
    progress comes for ``stall_timeout`` seconds (default :data:`STALL_TIMEOUT`),
    :class:`LavaRunFailed` is raised in the main thread, wherever it waits, and again when
    the body ends (should Lava's code have swallowed it; outside the main thread only then).

    Args:
        network: the running Lava network (its runtime's processes are looked at).
        owners: Lava process id -> layer name, for the message.
        stall_timeout: seconds without progress before the run is ended.

    Returns:
        A context manager that yields the :class:`RunWatch`.

    Example:
        >>> with watched(object(), stall_timeout=0.1):  # an object with no runtime
        ...     time.sleep(5)  # no sample finishes: the watchdog ends the wait
        Traceback (most recent call last):
        netx_export.running.interrupts.LavaRunFailed: the Lava run made no progress for 0.1 s ...
    """
    timeout = STALL_TIMEOUT if stall_timeout is None else stall_timeout
    watch, finished = RunWatch(), threading.Event()
    main = threading.current_thread() is threading.main_thread()

    def fail(_signum=None, _frame=None) -> None:
        if watch.failure is not None and not finished.is_set():
            raise LavaRunFailed(watch.failure)

    def look(target: int) -> None:
        while not finished.wait(WATCH_SECONDS):
            failure = None if watch.is_stopping else _failed_process(network, owners or {})
            if failure is None and time.monotonic() - watch.last > timeout:
                failure = (f"the Lava run made no progress for {timeout:g} s (no sample "
                           "finished); stopped it")
            if failure is not None:
                watch.failure = failure
                if main:
                    signal.pthread_kill(target, WATCHDOG_SIGNAL)
                return

    previous = signal.signal(WATCHDOG_SIGNAL, fail) if main else None
    watcher = threading.Thread(target=look, args=(threading.get_ident(),), daemon=True)
    watcher.start()
    try:
        yield watch
        fail()
    finally:
        finished.set()
        watcher.join()
        if main:
            signal.signal(WATCHDOG_SIGNAL, previous)
