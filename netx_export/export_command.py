"""``lava-init export CHECKPOINT OUT.net``: a saved model as a NetX HDF5 network."""

from __future__ import annotations

import argparse
import math

from lava_init.checkpoint import load_model
from lava_init.report import format_table
from netx_export.export import export_netx, netx_layers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="model saved by lava_init.checkpoint.save_model")
    parser.add_argument("output", help="NetX file to write (replaced atomically)")
    parser.add_argument("--input-shape", type=int, nargs="+", default=None, metavar="N",
                        help="one sample's input shape, e.g. 2 32 32 for a Conv-first net "
                             "(default: from the first Dense block)")


def run(args: argparse.Namespace) -> int:
    model = load_model(args.checkpoint)
    path = export_netx(model, args.output, input_shape=args.input_shape)
    rows = [[index, kind, "x".join(map(str, shape)), math.prod(shape)]
            for index, kind, shape in netx_layers(path)]
    print(f"wrote {path} (loaded back with lava.lib.dl.netx.hdf5.Network)")
    print(format_table(["layer", "type", "shape", "neurons"], rows))
    return 0
