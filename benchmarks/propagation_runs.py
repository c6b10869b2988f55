"""The ``lava-init propagate`` runs that docs/propagation.md shows, stored with their provenance,
and the page's tables generated from them so that they cannot drift.

Each run writes its CSV and figures into ``docs/figures/NAME/`` and ``run.json`` beside them
(the command and the code that made it, :mod:`provenance`); ``--page`` rewrites every block of
docs/propagation.md between ``<!-- propagate: NAME -->`` and ``<!-- propagate: end -->`` from
the stored CSVs, ``--check`` fails when a block differs from what the CSVs give.

Usage::

    .venv/bin/python benchmarks/propagation_runs.py            # every run, then --page
    .venv/bin/python benchmarks/propagation_runs.py --runs lif  # one run, then --page
    .venv/bin/python benchmarks/propagation_runs.py --check     # the page is up to date
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

from provenance import current_provenance

from lava_init.cli.main import main as lava_init_main
from lava_init.experiments.propagation import LayerRecord, read_csv, summary_rows
from lava_init.files import atomic_write_text
from lava_init.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
PAGE = ROOT / "docs" / "propagation.md"
#: name (its folder under docs/figures) -> the arguments of ``lava-init propagate``.
RUNS: dict[str, list[str]] = {
    "heaviside": [],
    "heaviside_4networks": ["--methods", "variance_conserving,kaiming", "--thresholds", "0.5,1",
                            "--networks", "4"],
    "lif": ["--neuron", "lif", "--time-steps", "20", "--leak", "0.5"],
    "cuba_memoryless": ["--neuron", "cuba", "--thresholds", "0.5,1", "--time-steps", "8",
                        "--batch", "8"],
    "cuba_tutorial": ["--neuron", "cuba", "--thresholds", "0.5,1", "--time-steps", "8",
                      "--batch", "8", "--current-decay", "0.25", "--voltage-decay", "0.03"],
    "width_sweep": ["--methods", "variance_conserving", "--thresholds", "1",
                    "--widths", "50,100,200,500,1000,2000,4000", "--sweep-thresholds", "0.5,1"],
}
BLOCK = re.compile(r"(<!-- propagate: (\w+) -->\n).*?(<!-- propagate: end -->)", re.S)


def command(name: str) -> list[str]:
    """The ``lava-init propagate`` arguments of run ``name``, its output folder included."""
    return ["propagate", *RUNS[name], "--out", str(FIGURES.relative_to(ROOT) / name)]


def run(name: str) -> None:
    """Run ``name`` from the repository root and store ``run.json`` beside its CSV."""
    argv = command(name)
    print(f"lava-init {shlex.join(argv)}", flush=True)
    if lava_init_main([*argv[:-1], str(FIGURES / name)]) != 0:
        raise SystemExit(f"lava-init propagate failed for {name}")
    record = {"command": f"lava-init {shlex.join(argv)}",
              "provenance": current_provenance(__file__, ["--runs", name])}
    atomic_write_text(json.dumps(record, indent=1) + "\n", FIGURES / name / "run.json")


def width_rows(records: list[LayerRecord]) -> tuple[list[str], list[list]]:
    """One row per width and threshold of a width sweep: its layer-100 summary."""
    widths = sorted({r.width for r in records})
    headers, rows = ["width"], []
    for width in widths:
        sub_headers, sub_rows = summary_rows([r for r in records if r.width == width], (100,))
        headers = ["width", *sub_headers[1:]]
        rows += [[width, *row[1:]] for row in sub_rows]
    return headers, rows


def block(name: str) -> str:
    """The generated Markdown of run ``name``: its summary table, with the command above."""
    folder = FIGURES / name
    stored = json.loads((folder / "run.json").read_text())
    if (folder / "width_sweep.csv").is_file():
        table = markdown_table(*width_rows(read_csv(folder / "width_sweep.csv")))
    else:
        table = markdown_table(*summary_rows(read_csv(folder / "propagation.csv")))
    code = stored["provenance"]["code_commit"] or "unknown"
    return (f"`{stored['command']}` (stored in `docs/figures/{name}/`, code {code[:12]}):\n\n"
            f"{table}\n")


def page_text(text: str) -> str:
    """``text`` with every propagate block regenerated from the stored runs."""
    return BLOCK.sub(lambda m: f"{m.group(1)}{block(m.group(2))}{m.group(3)}", text)


def stale_summaries() -> list[str]:
    """The runs whose stored ``summary.md`` (the table the page quotes, so that the numbers
    derived from the CSV are stored too) differs from their CSV's."""
    return [name for name in RUNS if (FIGURES / name / "run.json").is_file() and (
        not (FIGURES / name / "summary.md").is_file()
        or (FIGURES / name / "summary.md").read_text() != block(name))]


def write_page() -> None:
    """Store every run's ``summary.md`` and regenerate the page's blocks from the runs."""
    for name in stale_summaries():
        atomic_write_text(block(name), FIGURES / name / "summary.md")
    atomic_write_text(page_text(PAGE.read_text()), PAGE)
    print(f"wrote {PAGE.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=",".join(RUNS),
                        help=f"comma-separated runs (default all: {','.join(RUNS)})")
    parser.add_argument("--page", action="store_true", help="only regenerate the page")
    parser.add_argument("--check", action="store_true", help="fail if the page is stale")
    args = parser.parse_args(argv)
    if args.check:
        text = PAGE.read_text()
        stale = page_text(text) != text or bool(stale_summaries())
        print("docs/propagation.md is stale: run benchmarks/propagation_runs.py --page"
              if stale else "docs/propagation.md is up to date")
        return int(stale)
    if not args.page:
        unknown = sorted(set(args.runs.split(",")) - set(RUNS))
        if unknown:
            parser.error(f"unknown runs {unknown}; choose from {', '.join(RUNS)}")
        for name in args.runs.split(","):
            run(name)
    write_page()
    return 0


if __name__ == "__main__":
    sys.exit(main())
