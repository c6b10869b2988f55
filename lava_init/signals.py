"""Stop signals that always stop: SIGINT and SIGTERM become one exception, never lost.

A Python signal handler that raises while an ``os.fork`` hook runs (logging's lock release,
as Lava spawns its processes) has its exception printed and swallowed. Here a handler made by
:func:`stop_handler` records the signal first, defers it while a fork is under way (and raises
it as soon as the fork is done), and :func:`raise_if_signalled` raises a recorded signal
whose exception was swallowed anyway, at the next point the caller checks. Processes forked
while :func:`children_die_with_parent` is active get ``PR_SET_PDEATHSIG``: killed with their
parent, even by SIGKILL, so that no Lava process outlives the run that started it.

Standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging  # noqa: F401 (imported before the fork hooks below, so that they enclose its own)
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: The signals that stop a run.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Linux's prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@dataclass
class _SignalState:
    """This process's record: the stop signal not yet reported, a fork under way, a signal
    deferred until it is done, and how many contexts bind forked children to their parent."""

    pending: int | None = None
    forking: bool = False
    deferred: int | None = None
    forker: int = 0
    binding: int = 0


_STATE = _SignalState()


def pending_signal() -> int | None:
    """The stop signal received and not yet reported (None when there is none).

    Returns:
        The signal number, or None.

    Example:
        >>> pending_signal() is None
        True
    """
    return _STATE.pending


def raise_if_signalled(kind: type[Interrupted] = Interrupted) -> None:
    """Raise ``kind`` for a stop signal received whose exception was lost, and forget it.

    Args:
        kind: the :class:`Interrupted` subclass to raise.

    Example:
        >>> raise_if_signalled()  # nothing pending: returns
    """
    signum, _STATE.pending = _STATE.pending, None
    if signum is not None:
        raise kind(signum)


def interruption_of(error: BaseException) -> KeyboardInterrupt | None:
    """The stop behind ``error``: ``error`` itself when it is a ``KeyboardInterrupt``, else the
    first one in its chain of causes. Python wraps an exception raised while a class body is
    set up (``__set_name__``, as during an import) in a ``RuntimeError``, so a signal handled
    there reaches the caller as that error.

    Args:
        error: the exception that ended the work.

    Returns:
        The ``KeyboardInterrupt`` (an :class:`Interrupted` for a handled signal), or None.

    Example:
        >>> try:
        ...     try:
        ...         stop_handler()(signal.SIGTERM, None)
        ...     except Interrupted as stop:
        ...         raise RuntimeError("Error calling __set_name__") from stop
        ... except RuntimeError as wrapped:
        ...     print(interruption_of(wrapped), interruption_of(ValueError()))
        interrupted by SIGTERM None
        >>> forget_signal()
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def forget_signal() -> None:
    """Forget the pending stop signal: its exception reached whoever reports it.

    Example:
        >>> try:
        ...     stop_handler()(signal.SIGTERM, None)  # as if SIGTERM arrived
        ... except Interrupted as stop:
        ...     print(stop.exit_code, pending_signal() == signal.SIGTERM)
        143 True
        >>> forget_signal()
        >>> pending_signal() is None
        True
    """
    _STATE.pending = None


def stop_handler(kind: type[Interrupted] = Interrupted, ignore_after: bool = False
                 ) -> Callable[[int, object], None]:
    """A handler for :data:`STOP_SIGNALS` that records the signal and raises ``kind`` in the
    process that made it (processes forked from it do nothing); during a fork it only records,
    and the signal is raised again once the fork is done.

    Args:
        kind: the :class:`Interrupted` subclass raised.
        ignore_after: the first signal makes both ignored (the cleanup it starts must not be
            cut short).

    Returns:
        The handler, for ``signal.signal`` or :func:`handled_by`.

    Example:
        >>> handler = stop_handler()
        >>> for stop in (lambda: handler(signal.SIGINT, None), raise_if_signalled):
        ...     try:  # a handler raises; a signal whose exception was lost raises later
        ...         stop()
        ...     except Interrupted as interrupted:  # a KeyboardInterrupt: caught here
        ...         print(interrupted)
        interrupted by SIGINT
        interrupted by SIGINT
        >>> pending_signal() is None
        True
    """
    owner = os.getpid()

    def handler(signum: int, _frame) -> None:
        if os.getpid() != owner:
            return
        if _STATE.pending is None:
            _STATE.pending = signum
        if _STATE.forking:
            _STATE.deferred = signum
            return
        if ignore_after:
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_IGN)
        raise kind(signum)

    return handler


@contextlib.contextmanager
def handled_by(action) -> Iterator[None]:
    """``action`` for SIGINT and SIGTERM during the ``with`` body, the previous handlers after.
    Outside the main thread signals cannot be caught: the body runs with them as they are.

    Args:
        action: a handler (e.g. :func:`stop_handler`'s) or ``signal.SIG_IGN`` / ``SIG_DFL``.

    Returns:
        A context manager.

    Example:
        >>> before = signal.getsignal(signal.SIGTERM)
        >>> with handled_by(signal.SIG_IGN):
        ...     signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        True
        >>> signal.getsignal(signal.SIGTERM) is before
        True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, action) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def signals_ignored() -> contextlib.AbstractContextManager:
    """Ignore SIGINT and SIGTERM for the ``with`` body (cleanup that must not be cut short).

    Returns:
        A context manager (:func:`handled_by` with ``SIG_IGN``).

    Example:
        >>> with signals_ignored():
        ...     signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        True
    """
    return handled_by(signal.SIG_IGN)


@contextlib.contextmanager
def children_die_with_parent() -> Iterator[None]:
    """Processes forked during the ``with`` body are killed (SIGKILL) when their parent dies,
    however it dies (Linux; elsewhere nothing changes).

    Returns:
        A context manager; the contexts nest (a fork is bound while any of them is open).

    Example:
        >>> with children_die_with_parent():
        ...     _STATE.binding  # each os.fork() now sets PR_SET_PDEATHSIG in the child
        1
        >>> _STATE.binding
        0
    """
    _STATE.binding += 1
    try:
        yield
    finally:
        _STATE.binding -= 1


def _before_fork() -> None:
    _STATE.forking, _STATE.forker = True, os.getpid()


def _after_fork_in_parent() -> None:
    _STATE.forking = False
    deferred, _STATE.deferred = _STATE.deferred, None
    if deferred is not None and threading.current_thread() is threading.main_thread():
        signal.pthread_kill(threading.get_ident(), deferred)


def _after_fork_in_child() -> None:
    _STATE.forking, _STATE.deferred, _STATE.pending = False, None, None
    if _STATE.binding:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != _STATE.forker:  # the parent died before the prctl took effect
            os._exit(128 + signal.SIGKILL)


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)
