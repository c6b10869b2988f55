"""Shared fixtures: the real data sets in ../shared/data (skipped with a reason where absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

from lava_init.apps.data import SHARED_DATA

#: The benchmark scripts' folder: tests import its modules (example_nets) as its scripts do.
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def shared_data() -> Path:
    """The shared real-data folder; the test is skipped (with the reason) when it is absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run with the shared data at {SHARED_DATA}")
        pytest.skip(f"real data not found at {SHARED_DATA} (set LAVA_INIT_DATA to its folder)")
    return SHARED_DATA
