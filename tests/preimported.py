"""Commands started from a pre-imported interpreter: a fork of a Python that has already
imported torch, lava-dl, Lava and lava-init.

A fresh interpreter spends about 9 s of CPU importing torch and lava-dl before a command's first
line (issue 28's measurement); the tests of what a command does once it runs (signals, worker
clean-up, exit codes) start many such commands. :func:`start_command` forks them from one
interpreter per test process that imported those packages once (the "template"): each command
is a new process, in a session of its own, with its own stdin (``/dev/null``), stdout and
stderr pipes, working folder, ``sys.argv``, ``__main__`` module, default signal handling and
exit code, and it ends as an interpreter ends (atexit handlers, an uncaught KeyboardInterrupt
as exit code -2). What it does not repeat is the import: the tests of the start-up itself
(what importing prints, a signal during the imports, the console script) start real
interpreters with :mod:`subprocess`.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What the template imports before it forks: what the commands of the tests import.
PREIMPORTED = ("lava.lib.dl.netx", "lava_init.cli.main", "lava_init.training.loop", "netx_export",
               "netx_export.running.lava_run")


def serve(requests: socket.socket) -> None:
    """The template's loop: one command per request until the test process closes its end. A
    request is one datagram (JSON ``argv``, ``cwd``) with three descriptors (stdout, stderr, a
    status pipe); a waiter process forks the command, writes its pid and, once it ended, its
    exit code (as :attr:`subprocess.Popen.returncode` states it) on the status pipe. Returns in
    the command's process only, which then ends as an interpreter ends."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the waiters reap themselves
    while True:
        data, fds, _, _ = socket.recv_fds(requests, 1 << 20, 3)
        if not data:
            sys.exit(0)
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork():
            for fd in fds:
                os.close(fd)
            continue
        requests.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        out_fd, err_fd, status_fd = fds
        command = os.fork()
        if command == 0:
            os.close(status_fd)
            return _become_command(json.loads(data), out_fd, err_fd)
        os.close(out_fd)
        os.close(err_fd)
        os.write(status_fd, f"{command}\n".encode())
        _, status = os.waitpid(command, 0)
        os.write(status_fd, f"{os.waitstatus_to_exitcode(status)}\n".encode())
        os._exit(0)


def _become_command(request: dict, out_fd: int, err_fd: int) -> None:
    """This (forked) process takes the command's session, descriptors, folder and arguments
    and runs it; its uncaught exception is printed without the template's frames."""
    os.setsid()
    stdin = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((stdin, 0), (out_fd, 1), (err_fd, 2)):
        os.dup2(source, target)
        os.close(source)
    os.chdir(request["cwd"])
    flag, target, *rest = request["argv"]
    sys.path[0] = "" if flag == "-c" else os.getcwd()
    sys.excepthook = _excepthook_without_the_template
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    if flag == "-m":
        sys.argv = [target, *rest]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *rest]
        exec(compile(target, "<string>", "exec"), main.__dict__)


def _excepthook_without_the_template(kind, value, trace) -> None:
    while trace is not None and trace.tb_frame.f_code.co_filename in (__file__, runpy.__file__):
        trace = trace.tb_next
    sys.__excepthook__(kind, value.with_traceback(trace), trace)  # it prints value's own


class Template:
    """The pre-imported interpreter of this test process, started on first use. It detaches
    itself (a double fork), so it is no descendant of the test process: the tests that count
    a test process's descendants (no Lava process left behind) do not see it. It ends when
    the test process closes its end of the requests socket, at the latest when it exits."""

    _requests: socket.socket | None = None

    @classmethod
    def requests(cls) -> socket.socket:
        if cls._requests is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            subprocess.run([sys.executable, __file__, str(theirs.fileno())], check=True,
                           pass_fds=[theirs.fileno()], cwd=ROOT, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            theirs.close()
            cls._requests = ours
        return cls._requests


class Command:
    """A command forked from the template, read as a :class:`subprocess.Popen` with text pipes
    is read: ``pid``, ``returncode``, ``poll``, ``wait``, ``communicate``, ``send_signal``."""

    def __init__(self, argv: list[str], cwd: Path):
        self.args = [sys.executable, *argv]
        out, self._out_writer = os.pipe()
        err, self._err_writer = os.pipe()
        self._status, status_writer = os.pipe()
        writers = [self._out_writer, self._err_writer, status_writer]
        try:
            socket.send_fds(Template.requests(),
                            [json.dumps({"argv": argv, "cwd": str(cwd)}).encode()], writers)
        finally:
            for fd in writers:
                os.close(fd)
        self._pipes = {out: bytearray(), err: bytearray()}
        self._out, self._err = out, err
        self._status_text = b""
        self.returncode: int | None = None
        self.pid = int(self._read_status_line(timeout=60))

    def _read_status_line(self, timeout: float | None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._status_text:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self._status], [], [], left)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout)
            chunk = os.read(self._status, 64)
            if not chunk:
                raise RuntimeError("the pre-imported interpreter's waiter ended without a status")
            self._status_text += chunk
        line, self._status_text = self._status_text.split(b"\n", 1)
        return line.decode()

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = int(self._read_status_line(timeout=0))
            except subprocess.TimeoutExpired:
                return None
            os.close(self._status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = int(self._read_status_line(timeout))
            os.close(self._status)
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Everything the command wrote on stdout and stderr until both closed, then its exit
        code awaited (``subprocess.TimeoutExpired`` after ``timeout`` seconds in all)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(fd >= 0 for fd in (self._out, self._err)):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = select.select([fd for fd in (self._out, self._err) if fd >= 0], [], [], left)[0]
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout)
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                self._pipes[fd] += chunk
                if not chunk:
                    os.close(fd)
                    if fd == self._out:
                        self._out = -1
                    else:
                        self._err = -1
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        out, err = self._pipes.values()
        return out.decode(), err.decode()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)


def start_command(argv: list[str], cwd: Path = ROOT) -> Command:
    """``python *argv`` (``["-m", module, ...]`` or ``["-c", code, ...]``) in ``cwd``, forked
    from the pre-imported interpreter of this test process, in a session of its own.

    Example:
        >>> command = start_command(["-c", "print('hi')"])  # doctest: +SKIP
        >>> command.communicate(timeout=10), command.returncode  # doctest: +SKIP
        (('hi\\n', ''), 0)
    """
    return Command(argv, cwd)


if __name__ == "__main__":  # the template: python tests/preimported.py FD
    if os.fork():  # detached: the test process waits only for this first process
        os._exit(0)
    os.setsid()
    for name in PREIMPORTED:
        importlib.import_module(name)
    serve(socket.socket(fileno=int(sys.argv[1])))
