"""``lava-init convert IN OUT``: NIR graphs, NetX networks and checkpoints into each other.

By extension: ``.nir`` -> ``.net`` (imported on Loihi's grids, the rounding report printed),
``.net`` -> ``.nir``, and a training checkpoint (any other extension) -> ``.nir`` (to ``.net``:
``lava-init export``).
NIR time constants need the time step: ``--dt`` (a ``.nir`` written here carries it).
Nothing is written when anything fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lava_init.files import check_writable_folder

#: The file kinds convert reads and writes, by extension (anything else: a checkpoint).
NIR, NETX = ".nir", ".net"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="a .nir graph, a .net NetX file or a checkpoint")
    parser.add_argument("output", type=Path, help="the .nir or .net file to write")
    parser.add_argument("--dt", type=float, default=None,
                        help="time step in seconds (needed to write .nir; for a .nir input, "
                             "default: the graph's own metadata)")
    parser.add_argument("--voltage-scale", type=float, default=None,
                        help="SLAYER volts per NIR volt when importing .nir (default: per "
                             "layer, the finest power of two that fits)")
    parser.add_argument("--decay-rounding", choices=("nearest", "floor"), default="nearest",
                        help="decays onto Loihi's 1/4096 grid: nearest (default) or floor (the "
                             "NIR paper's Lava import)")


def _kind(path: Path) -> str:
    return path.suffix.lower() if path.suffix.lower() in (NIR, NETX) else "checkpoint"


def _slayer_to_nir(args: argparse.Namespace):
    """The graph of a .net file or a checkpoint (written to --output later)."""
    from lava_init.nir import netx_to_nir, to_nir

    if args.dt is None:
        raise ValueError("writing .nir needs --dt, the time step in seconds its time "
                         "constants refer to (e.g. --dt 1e-3)")
    if _kind(args.input) == NETX:
        return netx_to_nir(args.input, args.dt)
    from lava_init.records import input_levels_of
    from lava_init.training.checkpoints import checkpoint_input_shape, load_model

    model = load_model(args.input)
    if input_levels_of(model):
        raise ValueError(f"{args.input} takes graded input, which NIR's Input cannot say; "
                         "convert a network trained on spikes")
    return to_nir(model, args.dt, checkpoint_input_shape(args.input))


def run(args: argparse.Namespace) -> int:
    from lava_init.nir import nir_to_netx, write_nir

    source, target = _kind(args.input), _kind(args.output)
    if source == "checkpoint" and target == NETX:
        raise ValueError("a checkpoint becomes a .net with 'lava-init export CHECKPOINT OUT.net'")
    if target == "checkpoint" or source == target:
        raise ValueError(f"cannot convert {args.input.name} to {args.output.name}; valid: "
                         ".nir -> .net, .net -> .nir, checkpoint -> .nir")
    if not args.input.is_file():
        raise FileNotFoundError(f"no file at {args.input}")
    check_writable_folder(args.output.parent, "the output's folder")
    if source == NIR:
        net = nir_to_netx(args.input, args.output, args.dt, args.voltage_scale,
                          args.decay_rounding)
        print(net.rounding)
    else:
        write_nir(_slayer_to_nir(args), args.output)
    print(f"wrote {args.output}")
    return 0
