"""The README is a front page whose numbers rerun: short, its results table generated from the
stored records, every result number in it found in a stored result, the demo's numbers what
``make demo`` prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import results_page

from lava_init.apps.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
#: Longest README allowed: a front page, details in docs/.
MAX_README_LINES = 250
#: A result number: a fraction written with two or more decimals (accuracies, rates). Settings
#: and constants are written in backticks (or code blocks), which this check skips.
RESULT_NUMBER = re.compile(r"(?<![\w.])0\.\d{2,}(?![\w.])")
#: The demo paragraph's numbers, in the order the README gives them.
DEMO_SENTENCE = re.compile(
    r"reaches\s+(0\.\d+)\s+from\s+the\s+variance-conserving\s+init\s+\((0\.\d+)\s+after\s+"
    r"epoch\s+1\)\s+and\s+(0\.\d+)\s+from\s+SLAYER's\s+default.*?Lava\s+both\s+(0\.\d+)", re.S)


def prose(text: str) -> str:
    """``text`` without code blocks and code spans (settings and constants live there)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


def sourced_numbers() -> set[str]:
    """The result numbers the README may quote: those of its generated table (computed from
    the stored records) and of the demo's stored output, as text at 2, 3 and 4 decimals."""
    text = results_page.readout_table() + (RESULTS / "demo.txt").read_text()
    return {f"{float(n):.{digits}f}" for n in re.findall(r"\d+\.\d+", text)
            for digits in (2, 3, 4)}


def test_the_readme_is_a_front_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, len(lines)
    for heading in ("## The two commands", "## In Python", "## Command line", "## Results",
                    "## Known limits"):
        assert heading in lines


def test_the_results_table_and_page_are_generated_from_the_stored_records():
    assert results_page.main(["--check"]) == 0, "rerun benchmarks/results_page.py"
    table = README.read_text().split(results_page.START)[1].split(results_page.END)[0]
    assert table.strip().count("\n") == len(results_page.CLAIMS) + 1


def test_every_result_number_in_the_readme_is_a_stored_one():
    sourced = sourced_numbers()
    quoted = RESULT_NUMBER.findall(prose(README.read_text()))
    assert quoted, "the check found no number: the pattern is broken"
    missing = sorted({number for number in quoted if number not in sourced})
    assert not missing, f"README numbers with no stored result: {missing}"


def test_a_number_with_no_stored_source_is_caught():
    sourced = sourced_numbers()
    unsourced = next(f"0.{i:03d}" for i in range(1000) if f"0.{i:03d}" not in sourced)
    text = README.read_text() + f"\nA scratch run reached {unsourced} once.\n"
    assert unsourced in RESULT_NUMBER.findall(prose(text))
    assert len(sourced) < 200, "the pool of sourced numbers is too large to catch anything"


@pytest.mark.slow
def test_make_demo_prints_the_readmes_numbers(tmp_path, capsys):
    """The demo at its defaults (what ``make demo`` runs), compared with the README and with
    its stored output (benchmarks/results/demo.txt)."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "variance_conserving: reaches the last layer" in out
    assert "total mismatched spikes: 0 (spike-exact)" in out
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    assert (tmp_path / "digits_mlp.net").is_file()
    quoted = DEMO_SENTENCE.search(README.read_text())
    assert quoted, "the README's demo sentence moved: update DEMO_SENTENCE"
    printed = demo_numbers(out)
    assert printed == list(quoted.groups()), (printed, quoted.groups())
    assert printed == demo_numbers((RESULTS / "demo.txt").read_text())


def demo_numbers(out: str) -> list[str]:
    """variance_conserving's final and epoch-1 accuracy, SLAYER's default's final, Lava's."""
    rows = {match[0]: match[1:] for match in re.findall(
        r"^(variance_conserving|slayer_default)\s+(0\.\d+)\s+(0\.\d+)", out, re.M)}
    lava = re.search(r"Lava fixed_pt accuracy (0\.\d+)", out)
    return [rows["variance_conserving"][1], rows["variance_conserving"][0],
            rows["slayer_default"][1], lava.group(1)]
