"""The main job, `lava-init demo`: bad budgets (the full run is tests/test_readme.py's, which
compares its numbers with the README's)."""

import pytest

from lava_init.cli.main import main

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration


def test_demo_bad_budget_is_one_clear_line(capsys):
    assert main(["demo", "--epochs", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "lava-init demo: error: --epochs and --lava-samples must be >= 1")
