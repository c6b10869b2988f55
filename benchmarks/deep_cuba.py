"""Deep CUBA benchmark: does activity survive 100 SLAYER CUBA layers over T time steps?

For each decay pair, input rate and method, a ``depth``-layer CUBA Dense network of ``width``
neurons (threshold 1.25) is initialized, fed Bernoulli input spikes for ``time_steps`` steps and
measured per layer (spike rate, active fraction) with lava_init.measure_activity. The blocks are
built with ``delay_shift=False``: every layer then sees the same T steps, which is the same
spike trains as SLAYER's default one-step delay per block with each layer measured over its
own T-step window after its latency (without it, nothing reaches layer 100 within T = 20).

Run (full size, about 10 minutes on one core)::

    .venv/bin/python benchmarks/deep_cuba.py --out docs/figures/deep_cuba

Writes ``<out>.json`` (every layer of every run), ``<out>.png`` and prints the summary table,
the temporal rule's mean-field prediction and a mean-field sweep of the drive N Var[w].
The worst-case current bound N max|w| / current_decay and the largest current seen are to be
compared with Lava's 24-bit current range, temporal.LAVA_CURRENT_LIMIT = 2048.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from provenance import current_provenance  # noqa: E402

from lava_init import calibrate, initialize, measure_activity, temporal  # noqa: E402
from lava_init.files import atomic_write  # noqa: E402
from lava_init.tables import format_table  # noqa: E402
from lava_init.training.config import BlockSettings, NeuronConfig
from lava_init.training.models import SlayerMLP, pad_for_lava  # noqa: E402
from netx_export.export import export_netx  # noqa: E402
from netx_export.verification import verify  # noqa: E402

METHODS = ("slayer_default", "kaiming", "variance_conserving", "fluctuation_driven",
           "temporal", "calibrated")
#: lava-dl tutorial decays and a faster pair (current, voltage).
DECAYS = ((0.25, 0.03), (0.5, 0.2))
#: Per-step rate from which a layer counts as started (onset columns of the table).
ONSET_RATE = 0.05
#: Rate ratio band (last layer / first layer) the time-aware methods should stay in.
RATIO_BAND = (0.5, 2.0)


@dataclass
class Run:
    """One network: per-layer rates and active fractions, and the summary numbers."""

    method: str
    current_decay: float
    voltage_decay: float
    input_rate: float
    rates: list[float]
    active: list[float]
    ratio: float
    dies_at: int | None
    profile_first: list[float]
    profile_last: list[float]
    current_bound: float
    current_seen: float
    seconds: float


def _initialize(net: torch.nn.Module, method: str, x: torch.Tensor, input_rate: float,
                time_steps: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    if method in ("temporal", "calibrated"):
        initialize(net, "temporal", generator=generator, time_steps=time_steps)
    elif method == "fluctuation_driven":
        initialize(net, method, generator=generator, rate=input_rate)
    else:
        initialize(net, method, generator=generator)
    if method == "calibrated":
        calibrate(net, x)


def largest_current(drive: torch.Tensor, current_decay: float) -> float:
    """Largest |c[t]| of ``c[t] = (1 - a) c[t-1] + drive[t]`` (SLAYER units), over all neurons."""
    current = torch.zeros_like(drive[..., 0])
    largest = 0.0
    for step in range(drive.shape[-1]):
        current = (1.0 - current_decay) * current + drive[..., step]
        largest = max(largest, float(current.abs().max()))
    return largest


def run_one(method: str, decays: tuple[float, float], input_rate: float, depth: int,
            width: int, time_steps: int, batch: int, seed: int) -> Run:
    """Build, initialize and measure one network; ``dies_at``: first silent layer (1-based)."""
    start = time.perf_counter()
    neuron = NeuronConfig(threshold=1.25, current_decay=decays[0], voltage_decay=decays[1])
    net = SlayerMLP(width, width, depth=depth - 1, width=width,
                    settings=BlockSettings(neuron=neuron, delay_shift=False))
    generator = torch.Generator().manual_seed(seed + 1)
    x = (torch.rand(batch, width, time_steps, generator=generator) < input_rate).float()
    _initialize(net, method, x, input_rate, time_steps, seed)
    profiles: dict[int, list[float]] = {}
    ends = (0, len(net.blocks) - 1)
    handles = [net.blocks[index].register_forward_hook(
        lambda _m, _i, out, index=index: profiles.__setitem__(index, out.mean(dim=(0, 1)).tolist()))
        for index in ends]
    currents: list[float] = []
    handles += [block.synapse.register_forward_hook(
        lambda _m, _i, out: currents.append(largest_current(out, decays[0])))
        for block in net.blocks]
    try:
        report = measure_activity(net, x)
    finally:
        for handle in handles:
            handle.remove()
    largest_weight = max(float(block.synapse.weight.abs().max()) for block in net.blocks)
    current_bound = temporal.worst_case_current(width, largest_weight, decays[0])
    current_seen = max(currents)
    rates = report.rates
    active = [1.0 - layer.silent_fraction for layer in report.layers]
    silent = [index + 1 for index, rate in enumerate(rates) if rate == 0.0]
    ratio = rates[-1] / rates[0] if rates[0] > 0 else float("nan")
    return Run(method, decays[0], decays[1], input_rate, rates, active, ratio,
               silent[0] if silent else None, profiles[ends[0]], profiles[ends[1]],
               current_bound, current_seen, time.perf_counter() - start)


def lava_check(depth: int, width: int, time_steps: int, batch: int, input_rate: float,
               seed: int, folder: Path) -> dict:
    """Export the temporal-initialized net (delay_shift on, as Lava delays) and run it on Lava.

    The input is T steps of spikes followed by one silent step per layer, so every layer's
    T-step window is covered; SLAYER and Lava fixed_pt are compared spike for spike.
    """
    neuron = NeuronConfig(threshold=1.25, current_decay=DECAYS[0][0], voltage_decay=DECAYS[0][1])
    net = SlayerMLP(width, width, depth=depth - 1, width=width,
                    settings=BlockSettings(neuron=neuron))
    initialize(net, "temporal", generator=torch.Generator().manual_seed(seed),
               time_steps=time_steps)
    generator = torch.Generator().manual_seed(seed + 1)
    x = (torch.rand(batch, width, time_steps, generator=generator) < input_rate).float()
    started = time.perf_counter()
    report = verify(net, export_netx(net, folder / "deep_cuba.net"), pad_for_lava(x, net))
    print(report, flush=True)
    return {"depth": depth, "width": width, "batch": batch, "input_rate": input_rate,
            "mismatches": report.total_mismatches, "propagates": report.propagates,
            "lava_rates": [layer.lava_rate for layer in report.layers],
            "slayer_rates": [layer.slayer_rate for layer in report.layers],
            "seconds": time.perf_counter() - started}


def _cell(value: int | None) -> object:
    return "-" if value is None else value


def onset_step(profile: list[float]) -> int | None:
    """First step at which at least ONSET_RATE of the layer's neurons spike (None: never)."""
    return next((step for step, rate in enumerate(profile) if rate >= ONSET_RATE), None)


def summary_table(runs: list[Run]) -> str:
    headers = ["decays", "input", "method", "rate L1", "rate Llast", "ratio", "active L1",
               "active Llast", "dies at", "in band", "onset L1", "onset Llast",
               "max |current| bound", "max |current| seen"]
    rows = [[f"{r.current_decay}/{r.voltage_decay}", r.input_rate, r.method, r.rates[0],
             r.rates[-1], r.ratio, r.active[0], r.active[-1],
             _cell(r.dies_at),
             RATIO_BAND[0] <= r.ratio <= RATIO_BAND[1], _cell(onset_step(r.profile_first)),
             _cell(onset_step(r.profile_last)), r.current_bound, r.current_seen] for r in runs]
    return format_table(headers, rows)


def mean_field_table(decays: tuple[tuple[float, float], ...], input_rates: list[float],
                     time_steps: int, depth: int) -> str:
    """The temporal rule's drive for ``depth`` blocks and its mean-field rates (layer 1 and
    layer ``depth``) per case."""
    headers = ["decays", "input", "N Var[w]", "rate L1 (mf)", "rate deep (mf)",
               "active deep (mf)"]
    rows = []
    for current, voltage in decays:
        drive = temporal.temporal_drive_scale(1.25, temporal.quantize_decay(current),
                                              temporal.quantize_decay(voltage), time_steps,
                                              depth=depth)
        for rate in input_rates:
            stack = temporal.deep_stack_response(drive, 1.25, current, voltage, time_steps,
                                                 rate, layers=depth)
            rows.append([f"{current}/{voltage}", rate, drive, stack[0].rate, stack[-1].rate,
                         stack[-1].active_fraction])
    return format_table(headers, rows)


#: Drives N Var[w] of the mean-field sweep, around the onset drive of threshold 1.25 (9.85).
SWEEP_DRIVES = (1.0, 4.0, 8.0, 9.0, 9.85, 12.0, 20.0)
#: Layers of the mean-field stack reported by the sweep.
SWEEP_LAYERS = (1, 10, 30, 100)


def mean_field_sweep(time_steps: int, input_rate: float) -> list[list[object]]:
    """Mean-field rate at layers SWEEP_LAYERS of a stack with one drive in every layer."""
    rows = []
    for current, voltage in DECAYS:
        for drive in SWEEP_DRIVES:
            stack = temporal.deep_stack_response(drive, 1.25, current, voltage, time_steps,
                                                 input_rate, layers=max(SWEEP_LAYERS),
                                                 samples=2048)
            rates = [stack[layer - 1].rate if layer <= len(stack) else 0.0
                     for layer in SWEEP_LAYERS]
            onset = stack[-1].spikes[:, 0].mean() if len(stack) == max(SWEEP_LAYERS) else 0.0
            rows.append([f"{current}/{voltage}", drive, *rates, float(onset)])
    return rows


def figure(runs: list[Run], path: Path, input_rate: float) -> Path:
    """Rate and active fraction vs layer for one input rate, one row per decay pair."""
    pairs = list(dict.fromkeys((r.current_decay, r.voltage_decay) for r in runs))
    fig, axes = plt.subplots(len(pairs), 2, figsize=(9, 3.0 * len(pairs)), squeeze=False,
                             constrained_layout=True)
    for row, pair in enumerate(pairs):
        for run in runs:
            if (run.current_decay, run.voltage_decay) != pair or run.input_rate != input_rate:
                continue
            layers = range(1, len(run.rates) + 1)
            style = "--" if run.method == "temporal" else "-"
            axes[row, 0].plot(layers, run.rates, style, label=run.method)
            axes[row, 1].plot(layers, run.active, style, label=run.method)
        axes[row, 0].set(title=f"decays {pair[0]}/{pair[1]}, input rate {input_rate}",
                         xlabel="layer", ylabel="spike rate (per neuron per step)")
        axes[row, 1].set(title="fraction of neurons that spike", xlabel="layer",
                         ylabel="active fraction", ylim=(-0.02, 1.02))
    axes[0, 0].legend(fontsize=7)
    atomic_write(path, lambda temp: fig.savefig(temp, dpi=72, format="png"))
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--time-steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--input-rates", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/figures/deep_cuba"))
    parser.add_argument("--lava-depth", type=int, default=0,
                        help="also export a temporal net of this depth and run it on Lava")
    parser.add_argument("--lava-width", type=int, default=64)
    parser.add_argument("--lava-only", action="store_true", help="skip the SLAYER runs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.lava_depth:
        with tempfile.TemporaryDirectory() as folder:
            lava = lava_check(args.lava_depth, args.lava_width, args.time_steps, 2, 0.2,
                              args.seed, Path(folder))
        lava["provenance"] = current_provenance(__file__, argv)
        lava_path = args.out.with_name(args.out.name + "_lava.json")
        atomic_write(lava_path, lambda temp: Path(temp).write_text(json.dumps(lava, indent=1)))
        print(f"Lava fixed_pt vs SLAYER: {lava['mismatches']} mismatches; wrote {lava_path}")
        if args.lava_only:
            return 0
    runs = []
    for decays in DECAYS:
        for input_rate in args.input_rates:
            for method in args.methods:
                runs.append(run_one(method, decays, input_rate, args.depth, args.width,
                                    args.time_steps, args.batch, args.seed))
                print(f"{method:20s} decays {decays} input {input_rate}: "
                      f"ratio {runs[-1].ratio:.3f} ({runs[-1].seconds:.1f} s)", flush=True)
    config = {key: (str(value) if isinstance(value, Path) else value)
              for key, value in vars(args).items()}
    payload = {"config": config, "threshold": 1.25, "runs": [asdict(r) for r in runs],
               "provenance": current_provenance(__file__, argv)}
    json_path = args.out.with_suffix(".json")
    atomic_write(json_path, lambda temp: Path(temp).write_text(json.dumps(payload, indent=1)))
    middle_rate = args.input_rates[len(args.input_rates) // 2]
    png_path = figure(runs, args.out.with_suffix(".png"), middle_rate)
    print(summary_table(runs))
    print("\ntemporal rule, mean-field prediction")
    print(mean_field_table(DECAYS, args.input_rates, args.time_steps, args.depth))
    sweep = mean_field_sweep(args.time_steps, 0.2)
    print(f"\nmean-field stack, input rate 0.2, {args.time_steps} steps: rate per layer by drive")
    print(format_table(["decays", "N Var[w]", *(f"rate L{n}" for n in SWEEP_LAYERS),
                        "L100 rate at step 0"], sweep))
    payload["mean_field_sweep"] = sweep
    atomic_write(json_path, lambda temp: Path(temp).write_text(json.dumps(payload, indent=1)))
    print(f"\nwrote {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
