"""``lava-init inspect NET_FILE``: per-layer activity of any NetX network on Lava fixed point."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from lava_init.checks import check_allocation, check_count

DATA_SOURCES = ("random", "digits")
#: Bytes per input value while the spikes are made (rates, random draws, spikes; float32).
INPUT_BYTES = 12


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("net_file", help="a NetX HDF5 network (any file lava-dl's NetX loads) "
                        "or a .nir graph (imported on Loihi's grids first)")
    parser.add_argument("--dt", type=float, default=None,
                        help="time step in seconds of a .nir graph (default: its metadata)")
    parser.add_argument("--input", type=Path, default=None, metavar="FILE.npy",
                        help="input spikes in SLAYER order, (*input, T) or (batch, *input, T); "
                             "replaces --data")
    parser.add_argument("--data", choices=DATA_SOURCES, default="random",
                        help="random: Bernoulli spikes at --rate; digits: scikit-learn 8x8 "
                             "digits rate encoded (networks with 64 inputs or 1x8x8)")
    parser.add_argument("--rate", type=float, default=0.2,
                        help="spike probability per input and step for --data random")
    parser.add_argument("--samples", type=int, default=4, help="inputs to run (default 4)")
    parser.add_argument("--time-steps", type=int, default=32, help="steps per sample (default 32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None,
                        help="processes sharing the samples (default: one per 2 available cores)")
    parser.add_argument("--figure", type=Path, default=None, metavar="FILE.png",
                        help="also draw the rate of each layer into this PNG")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (none is drawn when stderr is not a terminal)")


def _input_spikes(args: argparse.Namespace, input_shape: tuple[int, ...]):
    """The input: --input's array, or --samples generated ones of ``input_shape``."""
    import numpy as np
    import torch

    from lava_init.encoding import rate_encode
    from lava_init.training.data import digits_spikes

    if args.input is not None:
        if not args.input.is_file():
            raise FileNotFoundError(f"no input file at {args.input}; give a .npy array")
        try:
            return np.load(args.input, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise ValueError(f"{args.input} is not a .npy array ({error})") from None
    check_count(args.samples, "--samples")
    check_count(args.time_steps, "--time-steps")
    check_allocation(INPUT_BYTES * args.samples * math.prod(input_shape) * args.time_steps,
                     f"--samples {args.samples} x {math.prod(input_shape)} inputs x "
                     f"--time-steps {args.time_steps}", "use fewer samples or steps")
    if args.data == "digits":
        if math.prod(input_shape) != 64:
            raise ValueError(f"--data digits needs a network with 64 inputs (it has "
                             f"{input_shape}); use --data random or --input FILE.npy")
        spikes = digits_spikes(args.samples, args.time_steps, args.seed)
        return spikes.reshape(args.samples, *input_shape, args.time_steps)
    if not 0 < args.rate <= 1:
        raise ValueError(f"--rate must be in (0, 1] (got {args.rate})")
    generator = torch.Generator().manual_seed(args.seed)
    rates = torch.full((args.samples, *input_shape), args.rate)
    return rate_encode(rates, args.time_steps, generator)


def _rate_figure(report, path: Path) -> Path:
    """Lava rate per layer (and the silent fraction) as a PNG, written atomically."""
    import matplotlib.pyplot as plt

    from lava_init.experiments.plots import save_figure

    names = [layer.activity.name for layer in report.layers]
    figure, axis = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2), 3.5))
    axis.plot(names, [layer.activity.rate for layer in report.layers], "o-", label="rate")
    axis.plot(names, [layer.activity.silent_fraction for layer in report.layers], "s--",
              label="silent fraction")
    axis.set_ylabel("spikes / neuron / step, fraction")
    axis.set_title(f"{report.path.name} on Lava {report.backend}: {report.samples} x "
                   f"{report.time_steps} steps", fontsize=9)
    axis.tick_params(axis="x", rotation=45)
    axis.legend()
    figure.tight_layout()
    try:
        return save_figure(figure, path)
    finally:
        plt.close(figure)


def _netx_file(args: argparse.Namespace, folder: Path) -> Path:
    """``args.net_file``, or for a ``.nir`` graph its NetX file written into ``folder`` (the
    import's rounding report printed)."""
    path = Path(args.net_file)
    if path.suffix.lower() != ".nir":
        return path
    from lava_init.nir import nir_to_netx

    net = nir_to_netx(path, folder / f"{path.stem}.net", args.dt)
    print(f"{path} imported for Lava (a temporary NetX file below)")
    print(net.rounding)
    return folder / f"{path.stem}.net"


def check_inputs(args: argparse.Namespace) -> None:
    """Refuse a missing or hostile NetX file before lava-dl loads (a ``.nir`` graph is
    checked by its import)."""
    from netx_export.netx_file import read_netx_file

    if Path(args.net_file).suffix.lower() != ".nir":
        read_netx_file(args.net_file)


def run(args: argparse.Namespace) -> int:
    from lava_init.files import check_writable_folder
    from netx_export import inspect
    from netx_export.running.lava_run import netx_input_shape

    if args.workers is not None:
        check_count(args.workers, "--workers")
    if args.figure is not None:
        check_writable_folder(args.figure.parent, "the figure's folder")
    with tempfile.TemporaryDirectory(prefix="lava-init-inspect-") as folder:
        net_file = _netx_file(args, Path(folder))
        spikes = _input_spikes(args, netx_input_shape(net_file))
        report = inspect(net_file, spikes, workers=args.workers, progress=not args.no_progress)
    print(report)
    if args.figure is not None:
        print(f"wrote {_rate_figure(report, args.figure)}")
    return 0 if report.propagates else 1
