"""The tutorials run as users run them and reach their stated results."""

import subprocess
import sys
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"


def test_tutorial_1_exports_a_deep_active_network_spike_exact(tmp_path):
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / "01_deep_network_on_lava.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "total mismatched spikes: 0 (spike-exact)" in result.stdout
    assert "activity reaches the last layer: yes" in result.stdout
    assert (tmp_path / "deep_mlp.net").is_file()
