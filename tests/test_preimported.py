"""A command forked from the pre-imported interpreter (tests/preimported.py) runs and ends as
the same command in a fresh interpreter does, for everything the signal tests read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from preimported import ROOT, start_command

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

#: Prints what a command sees of its process, then ends as its first argument says.
PROBE = """
import atexit, os, signal, sys
atexit.register(lambda: print("atexit ran", flush=True))
print(sys.argv[1:], os.getcwd(), os.getsid(0) == os.getpid(), sys.stdin.read() == "",
      signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
      signal.getsignal(signal.SIGINT) is signal.default_int_handler,
      sys.modules["__main__"].__dict__.get("PROBE_SEEN") is None)
print("to stderr", file=sys.stderr)
PROBE_SEEN = True
ending = sys.argv[1]
if ending == "exit":
    sys.exit(3)
if ending == "raise":
    raise ValueError("the probe failed")
if ending == "interrupt":
    raise KeyboardInterrupt
if ending == "term":
    os.kill(os.getpid(), signal.SIGTERM)
"""


@pytest.mark.parametrize("ending", ["exit", "raise", "interrupt", "term", "return"])
def test_a_forked_command_ends_as_a_fresh_interpreter_does(tmp_path, ending):
    fresh = subprocess.Popen([sys.executable, "-c", PROBE, ending], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path, start_new_session=True)
    fresh_out, fresh_err = fresh.communicate(timeout=60)
    forked = start_command(["-c", PROBE, ending], cwd=tmp_path)
    forked_out, forked_err = forked.communicate(timeout=60)
    assert forked.returncode == fresh.returncode, forked_err
    assert forked_out == fresh_out
    # argv, folder, own session, stdin, SIGTERM's default; SIGINT's and __main__'s as the fresh
    # one's (a pytest-xdist worker starts its children with SIGINT ignored)
    assert forked_out.splitlines()[0].startswith(f"['{ending}'] {tmp_path} True True True ")
    assert forked_err.splitlines() == fresh_err.splitlines()
    assert forked.pid != os.getpid() and forked.pid > 0


def test_a_forked_module_command_sees_its_module_and_is_signalled_on_its_pid():
    sleeper = start_command(["-m", "http.server", "--help"], cwd=ROOT)
    out, _ = sleeper.communicate(timeout=60)
    assert sleeper.returncode == 0 and "usage:" in out
    waiting = start_command(["-c", "import time\nprint('up', flush=True)\ntime.sleep(60)"])
    assert waiting.poll() is None
    waiting.send_signal(signal.SIGTERM)
    assert waiting.wait(timeout=30) == -signal.SIGTERM
