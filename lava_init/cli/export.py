"""``lava-init export CHECKPOINT OUT.net``: a saved model as a NetX HDF5 network."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from lava_init.files import check_writable_folder
from lava_init.tables import format_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a model lava-init train or save_model saved")
    parser.add_argument("output", help="NetX file to write (replaced atomically)")
    parser.add_argument("--input-shape", type=int, nargs="+", default=None, metavar="N",
                        help="one sample's input shape, e.g. 2 32 32 for a Conv-first net "
                             "(default: the checkpoint's in_shape or in_features)")


def run(args: argparse.Namespace) -> int:
    from lava_init.records import input_levels_of
    from lava_init.training.checkpoints import checkpoint_input_shape, load_model
    from netx_export import export_netx, netx_layers

    output = Path(args.output)
    if output.is_dir():
        raise ValueError(f"{output} is a folder; give the .net file to write")
    check_writable_folder(output.parent, "the output's folder")
    input_shape = args.input_shape or checkpoint_input_shape(args.checkpoint)
    model = load_model(args.checkpoint)
    path = export_netx(model, args.output, input_shape=input_shape)  # levels: the model's
    levels = input_levels_of(model)
    rows = [[index, kind, "x".join(map(str, shape)), math.prod(shape)]
            for index, kind, shape in netx_layers(path)]
    print(f"wrote {path} (loaded back with lava.lib.dl.netx.hdf5.Network)")
    if levels:
        print(f"graded input: run_lava sends each value as the message round(value * {levels})")
    print(format_table(["layer", "type", "shape", "neurons"], rows))
    return 0
