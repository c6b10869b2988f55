"""Wall time, peak memory and GFLOP/s of the propagation experiments vs a plain torch matmul.

    .venv/bin/python benchmarks/propagation_speed.py

Cases, each in its own process so that peak memory (max RSS) is per case:

* ``default``: ``lava-init propagate`` with its defaults (Heaviside, 100 layers x 1000,
  thresholds 0..1, four methods, CSV and figures);
* ``lif``: 100 LIF soft-reset layers x 1000, batch 256, T = 20, variance_conserving, theta 1;
* ``matmul``: the same matrix products as each case, plain ``x @ w.T`` on random data;
* ``draw``: one 1000 x 1000 weight matrix through the registry (variance_conserving).

FLOPs count the matrix products only (2 * rows * width^2 per layer); the neuron updates
are O(rows * width) per layer, 1000 times fewer. Results go to
``benchmarks/results/propagation_speed.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results" / "propagation_speed.json"
DEPTH, WIDTH = 100, 1000
LIF_BATCH, LIF_STEPS = 256, 20


def _default_case() -> dict:
    from lava_init.cli.main import main
    from lava_init.experiments.propagation import PropagationSetup
    from lava_init.experiments.settings import PAPER_METHODS, PAPER_THRESHOLDS

    setup = PropagationSetup()
    rows = len(PAPER_THRESHOLDS) * setup.steps * setup.batch
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        code = main(["propagate", "--out", out])
        wall = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"lava-init propagate exited with {code}")
    return {"wall_s": wall, "rows": rows,
            "flops": 2.0 * rows * setup.width**2 * setup.depth * len(PAPER_METHODS),
            "matmuls": setup.depth * len(PAPER_METHODS)}


def _lif_case() -> dict:
    from lava_init.experiments.propagation import PropagationSetup, simulate

    setup = PropagationSetup(neuron="lif", depth=DEPTH, width=WIDTH, batch=LIF_BATCH,
                             time_steps=LIF_STEPS)
    start = time.perf_counter()
    records = simulate("variance_conserving", (1.0,), setup)
    wall = time.perf_counter() - start
    rows = LIF_STEPS * LIF_BATCH
    return {"wall_s": wall, "rows": rows, "flops": 2.0 * rows * WIDTH**2 * DEPTH,
            "matmuls": DEPTH, "last_layer_rate": records[-1].rate}


def _matmul_case(rows: int, matmuls: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    inputs = (torch.rand((rows, WIDTH), generator=generator) < 0.2).float()
    weights = torch.randn((WIDTH, WIDTH), generator=generator)
    inputs @ weights.T
    start = time.perf_counter()
    for _ in range(matmuls):
        inputs @ weights.T
    wall = time.perf_counter() - start
    return {"wall_s": wall, "rows": rows, "flops": 2.0 * rows * WIDTH**2 * matmuls,
            "matmuls": matmuls}


def _draw_case(repeats: int = 20) -> dict:
    from lava_init.initializers import get_initializer

    method = get_initializer("variance_conserving")
    weights = torch.empty((WIDTH, WIDTH))
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(repeats):
        method.fn(weights, threshold=1.0, sigma=1.0, generator=generator)
    return {"wall_s": (time.perf_counter() - start) / repeats, "flops": 0.0}


def _child(case: str, rows: int, matmuls: int) -> None:
    torch.set_num_threads(2)
    if case == "default":
        result = _default_case()
    elif case == "lif":
        result = _lif_case()
    elif case == "draw":
        result = _draw_case()
    else:
        result = _matmul_case(rows, matmuls)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(case: str, rows: int = 0, matmuls: int = 0) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", case, "--rows", str(rows),
         "--matmuls", str(matmuls)],
        capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--matmuls", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.rows, args.matmuls)
        return 0

    from provenance import current_provenance

    from lava_init.files import atomic_write_text
    from lava_init.tables import format_table

    results = {}
    for case in ("default", "lif"):
        measured = _run_child(case)
        measured["gflops"] = measured["flops"] / measured["wall_s"] / 1e9
        plain = _run_child("matmul", measured["rows"], measured["matmuls"])
        plain["gflops"] = plain["flops"] / plain["wall_s"] / 1e9
        measured["plain_matmul"] = plain
        measured["slowdown_vs_matmul"] = plain["gflops"] / measured["gflops"]
        results[case] = measured
    results["weight_draw_1000x1000"] = _run_child("draw")
    results["machine"] = {"torch_threads": 2, "note": "2 cores shared with other jobs"}
    results["provenance"] = current_provenance(__file__, argv)

    headers = ["case", "wall s", "peak RSS MiB", "GFLOP", "GFLOP/s", "matmul GFLOP/s",
               "slowdown"]
    rows = [[case, r["wall_s"], r["peak_rss_mib"], r["flops"] / 1e9, r["gflops"],
             r["plain_matmul"]["gflops"], r["slowdown_vs_matmul"]]
            for case, r in results.items() if case in ("default", "lif")]
    print(format_table(headers, rows))
    print(f"one 1000x1000 registry draw: {results['weight_draw_1000x1000']['wall_s']:.3f} s")
    atomic_write_text(json.dumps(results, indent=2), RESULTS)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
