"""Run the tutorial notebooks top to bottom and store their outputs, or read their headlines.

    .venv/bin/python tutorials/execute.py                      # every notebook, stored in place
    .venv/bin/python tutorials/execute.py tutorials/02_*.ipynb  # some of them
    make tutorials                                             # the same as the first line
    .venv/bin/python tutorials/execute.py --check              # rerun, compare, store nothing

Each notebook runs in a fresh kernel of this Python (``sys.executable``, so the virtualenv's
lava-init is the one imported), in the ``tutorials`` folder, with its figures embedded as PNG.
A notebook prints its key results as lines ``HEADLINE name = value`` or ``HEADLINE name =
value ± tolerance``; ``--check`` reruns every notebook at its full budget and compares those
lines with the stored ones (:func:`compare_headlines`), which is how the stored numbers are
held to a rerun. ``tests/test_tutorials.py`` runs every notebook in a fresh IPython shell
inside the test process (:func:`execute_here`: no kernel, no second import of torch and
lava-dl), the long ones (:data:`QUICK_NOTEBOOKS`) in their short mode
(:data:`QUICK_VARIABLE` set: a tiny budget), where only the exact lines (spike-exactness,
equal accuracies) and the names are compared, and the others in full.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

TUTORIALS = Path(__file__).resolve().parent
#: The tutorial notebooks, in reading order.
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
#: Seconds one cell may run before the execution is stopped.
CELL_TIMEOUT = 600
#: The kernel every notebook names (its metadata) and gets: this Python with ipykernel.
KERNEL_NAME = "python3"
#: Set to "1" in a notebook's kernel, it makes the notebook run at a tiny budget (for tests).
QUICK_VARIABLE = "LAVA_INIT_TUTORIAL_QUICK"
#: The notebooks that read :data:`QUICK_VARIABLE` (the long ones: training runs, deep stacks
#: over several seeds).
QUICK_NOTEBOOKS = ("01_why_deep_snns_go_silent", "02_initialize_train_deploy",
                   "03_event_data_integrating_neurons", "04_bring_your_own_network",
                   "06_snntorch_to_lava_through_nir", "07_depth_on_mnist1d")
HEADLINE = re.compile(r"^HEADLINE (?P<name>\S+) = (?P<value>\S+)(?: ± (?P<tolerance>\S+))?$")


@dataclass(frozen=True)
class Headline:
    """One key result: a number with the tolerance a fresh run must meet, or an exact word."""

    value: str
    tolerance: float | None

    def matches(self, fresh: Headline) -> bool:
        """True when ``fresh`` (a new run's line) agrees with this stored one."""
        if self.tolerance is None:
            return fresh.value == self.value
        return abs(float(fresh.value) - float(self.value)) <= self.tolerance


@contextlib.contextmanager
def _quick_mode(quick: bool):
    """:data:`QUICK_VARIABLE` set to "1" (or removed) for the kernels started inside."""
    before = os.environ.pop(QUICK_VARIABLE, None)
    if quick:
        os.environ[QUICK_VARIABLE] = "1"
    try:
        yield
    finally:
        os.environ.pop(QUICK_VARIABLE, None)
        if before is not None:
            os.environ[QUICK_VARIABLE] = before


def execute(path: Path, timeout: int = CELL_TIMEOUT, quick: bool = False
            ) -> tuple[nbformat.NotebookNode, float]:
    """The notebook at ``path`` run top to bottom in a fresh kernel of this Python, and the
    seconds it took; the file itself is not touched. ``quick``: in its short mode (see
    :data:`QUICK_VARIABLE`). A failing cell raises ``nbclient.exceptions.CellExecutionError``
    with its traceback."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="lava-init-kernel-") as kernels, _quick_mode(quick):
        write_kernel_spec(Path(kernels) / KERNEL_NAME)  # argv: [sys.executable, -m, ipykernel]
        manager = KernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                                ip=f"{kernels}/kernel-ipc",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
        client = NotebookClient(notebook, km=manager, timeout=timeout, kernel_name=KERNEL_NAME,
                                resources={"metadata": {"path": str(TUTORIALS)}})
        started = time.perf_counter()
        try:
            client.execute()
        finally:  # a kernel manager handed to nbclient is ours to stop
            if manager.has_kernel:
                manager.shutdown_kernel()
    return notebook, time.perf_counter() - started


class CellFailed(RuntimeError):
    """A cell of a notebook run by :func:`execute_here` raised; the message holds its source
    and traceback."""


def _show_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextlib.contextmanager
def _notebook_surroundings():
    """The tutorials folder as the working folder, and this process's state that a notebook
    changes (warning filters, matplotlib's backend and settings, signal handlers, torch's
    threads) restored afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt
    import torch

    folder, backend, threads = os.getcwd(), matplotlib.get_backend(), torch.get_num_threads()
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    os.chdir(TUTORIALS)
    try:
        with warnings.catch_warnings(), matplotlib.rc_context():
            warnings.resetwarnings()  # a kernel's filters: Python's, each warning once
            warnings.simplefilter("default")
            warnings.showwarning = _show_on_stderr  # into the cell's output, as in a kernel
            yield
    finally:
        plt.close("all")
        plt.switch_backend(backend)
        torch.set_num_threads(threads)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        os.chdir(folder)


def _cell_outputs(captured) -> list[nbformat.NotebookNode]:
    """A captured cell's stdout, stderr and displays (figures) as notebook outputs."""
    outputs = [nbformat.v4.new_output("stream", name=name, text=text)
               for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr))
               if text]
    return outputs + [nbformat.v4.new_output("display_data", data=output.data,
                                             metadata=output.metadata)
                      for output in captured.outputs]


def _fresh_shell():
    """A new IPython shell of this process (the singleton, as a kernel's), with a kernel's
    defaults: matplotlib's inline backend, figures as PNG, no history file, plain tracebacks."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats
    from traitlets.config import Config

    class Shell(InteractiveShell):
        def enable_gui(self, gui=None):  # `%matplotlib inline` needs no GUI event loop
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    shell = Shell.instance(config=config)
    shell.enable_matplotlib("inline")
    select_figure_formats(shell, {"png"})  # matplotlib-inline sets them for a process's first
    return shell


def execute_here(path: Path, quick: bool = False) -> tuple[nbformat.NotebookNode, float]:
    """The notebook at ``path`` run top to bottom in a fresh IPython shell inside this process
    (no kernel to start: the libraries this process imported are reused), and the seconds it
    took; the file itself is not touched. Same outputs as :func:`execute` for what the tests
    read (printed text, figures), same folder and ``quick`` mode; the process's warning
    filters, matplotlib state, signal handlers and torch threads are restored afterwards. A
    failing cell raises :class:`CellFailed` with its source and traceback.

    Example:
        >>> notebook, seconds = execute_here(NOTEBOOKS[0], quick=True)  # doctest: +SKIP
    """
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    with _quick_mode(quick), _notebook_surroundings():  # IPython's import adds warning filters
        from IPython.utils.capture import capture_output

        shell = _fresh_shell()
        try:
            for count, cell in enumerate(
                    (cell for cell in notebook.cells if cell.cell_type == "code"), start=1):
                with capture_output() as captured:
                    result = shell.run_cell(cell.source, store_history=False, silent=False)
                cell.outputs, cell.execution_count = _cell_outputs(captured), count
                if not result.success:
                    raise CellFailed(f"{path.name}, cell {count}:\n{cell.source}\n\n"
                                     f"{captured.stdout[-4000:]}{captured.stderr[-4000:]}")
        finally:
            shell.cleanup()
            shell.clear_instance()
    return notebook, time.perf_counter() - started


def printed_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's code cells printed (stdout streams), in order."""
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def headlines(notebook: nbformat.NotebookNode) -> dict[str, Headline]:
    """The ``HEADLINE`` lines the notebook printed, by name."""
    found = {}
    for line in printed_text(notebook).splitlines():
        match = HEADLINE.match(line.strip())
        if match:
            tolerance = match["tolerance"]
            found[match["name"]] = Headline(match["value"],
                                            None if tolerance is None else float(tolerance))
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def compare_headlines(stored: dict[str, Headline], fresh: dict[str, Headline],
                      quick: bool = False) -> list[str]:
    """One line per disagreement between the stored and a fresh run's headlines (none: []).
    ``quick``: the fresh run was a short one, so its numbers (lines with a tolerance) are only
    required to be numbers; exact lines and names are compared as always."""
    if quick:
        numbers = {name for name, line in stored.items() if line.tolerance is not None}
        problems = [f"{name}: {fresh[name].value} is not a number" for name in numbers
                    if name in fresh and not _is_number(fresh[name].value)]
        problems += [f"{name}: missing in the fresh run" for name in numbers if name not in fresh]
        return problems + compare_headlines(
            {name: line for name, line in stored.items() if name not in numbers},
            {name: line for name, line in fresh.items() if name not in numbers})
    problems = [f"{name}: missing in the fresh run" for name in stored if name not in fresh]
    problems += [f"{name}: new in the fresh run (re-run tutorials/execute.py)"
                 for name in fresh if name not in stored]
    problems += [f"{name}: stored {stored[name].value}, fresh {fresh[name].value} (tolerance "
                 f"{stored[name].tolerance if stored[name].tolerance is not None else 'exact'})"
                 for name in stored if name in fresh and not stored[name].matches(fresh[name])]
    return problems


def check(paths: list[Path]) -> int:
    """Rerun ``paths`` at their full budget and compare with the stored headlines: 0 when
    every line agrees, 1 otherwise (each disagreement printed)."""
    failed = 0
    for path in paths:
        notebook, seconds = execute(path)
        problems = compare_headlines(headlines(nbformat.read(path, as_version=4)),
                                     headlines(notebook))
        print(f"{path.name}: {seconds:.0f} s, " + ("agrees with its stored headlines" if not
                                                  problems else "; ".join(problems)))
        failed += bool(problems)
    return int(failed > 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=NOTEBOOKS,
                        help="notebooks to run and store (default: every tutorial)")
    parser.add_argument("--check", action="store_true",
                        help="rerun at the full budget and compare, storing nothing")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.notebooks)
    for path in args.notebooks:
        notebook, seconds = execute(path)
        nbformat.write(notebook, path)
        print(f"{path.name}: {seconds:.0f} s")
        for name, line in headlines(notebook).items():
            tolerance = "" if line.tolerance is None else f" ± {line.tolerance:g}"
            print(f"  {name} = {line.value}{tolerance}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
