"""``lava-init demo``: the main job, end to end on scikit-learn's embedded digits."""

from __future__ import annotations

import argparse

from lava_init.experiments.settings import DemoSettings
from lava_init.files import check_writable_folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DemoSettings()
    parser.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs,
                        help=f"training epochs per init (default {defaults.epochs})")
    parser.add_argument("--lava-samples", type=int, default=defaults.lava_samples,
                        help=f"test samples run on Lava (default {defaults.lava_samples})")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars (none are drawn when stderr is not a terminal)")


def run(args: argparse.Namespace) -> int:
    from lava_init.experiments.demo import end_to_end

    if args.epochs < 1 or args.lava_samples < 1:
        raise ValueError("--epochs and --lava-samples must be >= 1")
    settings = DemoSettings(epochs=args.epochs, lava_samples=args.lava_samples, seed=args.seed,
                            progress=not args.no_progress)
    return end_to_end(settings, check_writable_folder(args.out, "--out"))
