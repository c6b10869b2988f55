"""``lava-init propagate``: the paper's deep-propagation runs, CSVs and figures."""

from __future__ import annotations

import argparse

from lava_init.experiments.settings import NEURONS, PAPER_METHODS, SWEEP_WIDTHS
from lava_init.files import check_writable_folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--neuron", choices=NEURONS, default="heaviside",
                        help="neuron model (default heaviside, the paper's theory)")
    parser.add_argument("--depth", type=int, default=100, help="layers (default 100)")
    parser.add_argument("--width", type=int, default=1000, help="neurons per layer (1000)")
    parser.add_argument("--batch", type=int, default=16, help="input samples (default 16)")
    parser.add_argument("--thresholds", default="0,0.25,0.5,0.75,1",
                        help="comma-separated thresholds theta (default 0,0.25,0.5,0.75,1)")
    parser.add_argument("--methods", default=",".join(PAPER_METHODS),
                        help="comma-separated registered init names, or 'all' "
                             f"(default {','.join(PAPER_METHODS)})")
    parser.add_argument("--time-steps", type=int, default=20,
                        help="steps per sample for lif / cuba (default 20; heaviside uses 1)")
    parser.add_argument("--sigma", type=float, default=1.0,
                        help="target membrane std of variance_conserving (default 1, paper)")
    parser.add_argument("--leak", type=float, default=0.5,
                        help="LIF leak beta in [0, 1] (default 0.5)")
    parser.add_argument("--current-decay", type=float, default=1.0,
                        help="CUBA current decay (default 1.0 = memoryless; tutorials 0.25)")
    parser.add_argument("--voltage-decay", type=float, default=1.0,
                        help="CUBA voltage decay (default 1.0 = memoryless; tutorials 0.03)")
    parser.add_argument("--widths", default="",
                        help="widths for the finite-width sweep, e.g. "
                             f"{','.join(map(str, SWEEP_WIDTHS))} (default: no sweep)")
    parser.add_argument("--sweep-thresholds", default="0.5,1",
                        help="thresholds of the width sweep (default 0.5,1)")
    parser.add_argument("--sweep-methods", default="variance_conserving",
                        help="methods of the width sweep (default variance_conserving)")
    parser.add_argument("--networks", type=int, default=1,
                        help="independent networks averaged per point (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="propagation",
                        help="output folder for the CSVs and PNGs (default ./propagation)")


def run(args: argparse.Namespace) -> int:
    from lava_init.experiments import plots
    from lava_init.experiments.propagation import (
        PropagationSetup,
        parse_methods,
        parse_thresholds,
        parse_widths,
        propagation_experiment,
        summary_table,
        width_sweep,
        write_csv,
    )

    setup = PropagationSetup(neuron=args.neuron, depth=args.depth, width=args.width,
                             batch=args.batch, time_steps=args.time_steps, sigma=args.sigma,
                             leak=args.leak, current_decay=args.current_decay,
                             voltage_decay=args.voltage_decay, networks=args.networks,
                             seed=args.seed)
    thresholds = parse_thresholds(args.thresholds, setup.neuron)
    methods = parse_methods(args.methods)
    widths = parse_widths(args.widths)
    sweep_thresholds = parse_thresholds(args.sweep_thresholds, setup.neuron)
    sweep_methods = parse_methods(args.sweep_methods)
    out = check_writable_folder(args.out, "--out")

    records = propagation_experiment(methods, thresholds, setup, progress=True)
    written = [write_csv(records, out / "propagation.csv"),
               *plots.propagation_figures(records, out)]
    if widths:
        sweep = width_sweep(widths, sweep_methods, sweep_thresholds, setup, progress=True)
        written += [write_csv(sweep, out / "width_sweep.csv"),
                    plots.width_sweep_figure(sweep, out / "width_sweep.png")]
    print(f"{setup.neuron} network: {setup.depth} layers x {setup.width} neurons, "
          f"batch {setup.batch}, {setup.steps} step(s), sigma {setup.sigma}, "
          f"{setup.networks} network(s) averaged, seed {setup.seed}")
    print(summary_table(records))
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
