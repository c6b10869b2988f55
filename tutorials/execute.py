"""Run the tutorial notebooks top to bottom and store their outputs, or read their headlines.

    .venv/bin/python tutorials/execute.py                      # every notebook, stored in place
    .venv/bin/python tutorials/execute.py tutorials/02_*.ipynb  # some of them
    make tutorials                                             # the same as the first line

Each notebook runs in a fresh kernel of this Python (``sys.executable``, so the virtualenv's
lava-init is the one imported), in the ``tutorials`` folder, with its figures embedded as PNG.
A notebook prints its key results as lines ``HEADLINE name = value`` or ``HEADLINE name =
value ± tolerance``; ``tests/test_tutorials.py`` runs each notebook into a temporary copy and
compares those lines with the stored ones (:func:`compare_headlines`).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
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


def execute(path: Path, timeout: int = CELL_TIMEOUT) -> tuple[nbformat.NotebookNode, float]:
    """The notebook at ``path`` run top to bottom in a fresh kernel of this Python, and the
    seconds it took; the file itself is not touched. A failing cell raises
    ``nbclient.exceptions.CellExecutionError`` with its traceback."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="lava-init-kernel-") as kernels:
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


def compare_headlines(stored: dict[str, Headline], fresh: dict[str, Headline]) -> list[str]:
    """One line per disagreement between the stored and a fresh run's headlines (none: [])."""
    problems = [f"{name}: missing in the fresh run" for name in stored if name not in fresh]
    problems += [f"{name}: new in the fresh run (re-run tutorials/execute.py)"
                 for name in fresh if name not in stored]
    problems += [f"{name}: stored {stored[name].value}, fresh {fresh[name].value} (tolerance "
                 f"{stored[name].tolerance if stored[name].tolerance is not None else 'exact'})"
                 for name in stored if name in fresh and not stored[name].matches(fresh[name])]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=NOTEBOOKS,
                        help="notebooks to run and store (default: every tutorial)")
    args = parser.parse_args(argv)
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
