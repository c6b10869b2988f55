"""Lava fixed-point throughput: samples per second of run_lava, one worker against all.

    .venv/bin/python benchmarks/lava_throughput.py              # 784-100x6-10 MLP, T = 16

Cases, all on the same seeded random inputs (Bernoulli, rate 0.2) and the same NetX file:

* ``before``: what ``run_lava`` did before issue 16, in this process: Lava's RingBuffer source
  and sink, the input set and every layer's spikes read back per sample (Lava 0.10 moves
  ``Var`` data one number per message), states zeroed between samples;
* ``1 worker``: ``run_lava(..., workers=1)``: all inputs in one source, a memory-mapped
  recorder per layer, one ``run`` call and one reset per sample;
* ``N workers``: the same in N processes (default: the available cores);
* ``one long run``: one worker, all samples as one ``run`` of samples x T steps without
  resets (its spikes differ: states carry over), to measure what a ``run`` call per sample
  costs.

Times include loading and compiling the network (what a user waits for). Results go to
``benchmarks/results/lava_throughput.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from provenance import current_provenance

from lava_init.network_init import initialize
from lava_init.tables import format_table
from lava_init.training.models import SlayerMLP
from netx_export import export_netx, run_lava
from netx_export.running.interrupts import stop_runtime
from netx_export.running.lava_run import (
    _reset_state,
    _run_config,
    _source_data,
    _to_slayer_neurons,
    load_lava_network,
    netx_plan,
)
from netx_export.running.workers import available_cores

RESULTS = Path(__file__).resolve().parent / "results" / "lava_throughput.json"


def mlp_file(folder: Path, depth: int, width: int) -> Path:
    """The issue's network: 784 inputs, ``depth`` hidden CUBA layers of ``width``, 10 outputs."""
    torch.manual_seed(0)
    net = SlayerMLP(784, 10, depth=depth, width=width)
    initialize(net, generator=torch.Generator().manual_seed(0))
    return export_netx(net, folder / "mlp.net")


def before(path: Path, batch: np.ndarray) -> list[np.ndarray]:
    """Before issue 16: RingBuffer source and sinks, data set and read per sample."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import RingBuffer as SpikeSink
    from lava.proc.io.source import RingBuffer as SpikeSource

    plan = netx_plan(path)
    lava, steps = load_lava_network(path, plan), batch.shape[-1]
    source = SpikeSource(data=_source_data(batch[0], plan))
    source.s_out.connect(lava.input_port)
    sinks = [SpikeSink(shape=layer.out.shape, buffer=steps) for layer in lava.network.layers]
    for layer, sink in zip(lava.network.layers, sinks, strict=True):
        layer.out.connect(sink.a_in)
    outputs: list[list[np.ndarray]] = [[] for _ in sinks]
    try:
        for index, sample in enumerate(batch):
            if index > 0:
                _reset_state(lava.network)
                source.data.set(_source_data(sample, plan))
            lava.network.run(condition=RunSteps(num_steps=steps), run_cfg=_run_config("fixed_pt"))
            for recorded, sink in zip(outputs, sinks, strict=True):
                recorded.append(_to_slayer_neurons(sink.data.get()).astype(np.int8))
    finally:
        stop_runtime(lava.network, False)
    return [np.stack(recorded) for recorded in outputs]


def one_long_run(path: Path, batch: np.ndarray) -> list[np.ndarray]:
    """All samples back to back in one ``run`` call, no resets (states carry over)."""
    joined = np.concatenate(list(batch), axis=-1)[None]
    return run_lava(path, joined, workers=1)


def timed(case, *args) -> tuple[float, list[np.ndarray]]:
    start = time.perf_counter()
    result = case(*args)
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--time-steps", type=int, default=16)
    parser.add_argument("--depth", type=int, default=6, help="hidden layers (default 6)")
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--workers", type=int, default=available_cores(),
                        help="workers of the parallel case (default: the available cores)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(1)
    batch = (torch.rand(args.samples, 784, args.time_steps, generator=generator) < 0.2)
    batch = batch.float().numpy()
    with tempfile.TemporaryDirectory() as folder:
        path = mlp_file(Path(folder), args.depth, args.width)
        cases = {"before": (before, path, batch),
                 "1 worker": (lambda p, b: run_lava(p, b, workers=1), path, batch),
                 f"{args.workers} workers": (
                     lambda p, b: run_lava(p, b, workers=args.workers), path, batch),
                 "one long run": (one_long_run, path, batch)}
        results = {name: timed(*case) for name, case in cases.items()}
    reference = results["before"][1]
    rows, records = [], []
    made_by = current_provenance(__file__, argv)
    for name, (wall, spikes) in results.items():
        same = None if name == "one long run" else all(  # states carry over: not comparable
            np.array_equal(a, b) for a, b in zip(reference, spikes, strict=True))
        record = {"case": name, "samples": args.samples, "wall_s": wall,
                  "samples_per_s": args.samples / wall,
                  "speedup": results["before"][0] / wall, "same_spikes_as_before": same,
                  "provenance": made_by}
        records.append(record)
        rows.append([name, args.samples, wall, record["samples_per_s"], record["speedup"],
                     {None: "-", True: "yes", False: "NO"}[same]])
    print(f"run_lava throughput: 784-{args.width}x{args.depth}-10 CUBA MLP, T = "
          f"{args.time_steps}, {available_cores()} cores available")
    print(format_table(["case", "samples", "wall_s", "samples_per_s", "speedup", "same_spikes"],
                       rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=2) + "\n")
    return 0 if all(r["same_spikes_as_before"] is not False for r in records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
