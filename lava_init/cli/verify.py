"""``lava-init verify CHECKPOINT NET_FILE``: SLAYER vs Lava fixed point on the same spikes."""

from __future__ import annotations

import argparse
import math

from lava_init.checks import check_allocation, check_count
from lava_init.cli.inspect import INPUT_BYTES

DATA_SOURCES = ("random", "digits")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a model lava-init train or save_model saved")
    parser.add_argument("net_file", help="NetX file exported from that model")
    parser.add_argument("--data", choices=DATA_SOURCES, default="random",
                        help="random: Bernoulli spikes with per-input rates uniform in "
                             "[0, --max-rate]; digits: scikit-learn digits (64 inputs or 1x8x8)")
    parser.add_argument("--samples", type=int, default=4, help="inputs to run (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-steps", type=int, default=None,
                        help="steps per sample (default: 2 x blocks + 8, so the last layer "
                             "gets input)")
    parser.add_argument("--max-rate", type=float, default=0.5,
                        help="largest input spike probability per step for --data random")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes sharing the Lava samples (default: one per 2 "
                             "available cores)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (none is drawn when stderr is not a terminal)")


def check_inputs(args: argparse.Namespace) -> None:
    """Refuse bad counts and rates, and a missing or hostile NetX file, before lava-dl
    loads."""
    from netx_export.netx_file import read_netx_file

    check_count(args.samples, "--samples")
    if args.workers is not None:
        check_count(args.workers, "--workers")
    if args.time_steps is not None:
        check_count(args.time_steps, "--time-steps")
    if not 0 < args.max_rate <= 1:
        raise ValueError(f"--max-rate must be in (0, 1] (got {args.max_rate})")
    read_netx_file(args.net_file)


def run(args: argparse.Namespace) -> int:
    import torch

    from lava_init.encoding import rate_encode
    from lava_init.slayer_blocks import chain_blocks
    from lava_init.training.checkpoints import checkpoint_input_shape, load_model
    from lava_init.training.data import digits_spikes
    from netx_export import verify

    input_shape = checkpoint_input_shape(args.checkpoint)
    if input_shape is None:
        raise ValueError(f"{args.checkpoint} has no in_shape or in_features in its model config; "
                         "verify from Python with netx_export.verify(net, path, spikes)")
    model = load_model(args.checkpoint)
    steps = 2 * len(chain_blocks(model)) + 8 if args.time_steps is None else args.time_steps
    check_allocation(INPUT_BYTES * args.samples * math.prod(input_shape) * steps,
                     f"--samples {args.samples} x {math.prod(input_shape)} inputs x {steps} "
                     "time steps", "use fewer samples or steps")
    if args.data == "digits":
        if math.prod(input_shape) != 64:
            raise ValueError(f"--data digits needs a model with 64 inputs (it has {input_shape})")
        spikes = digits_spikes(args.samples, steps, args.seed).reshape(
            args.samples, *input_shape, steps)
    else:
        generator = torch.Generator().manual_seed(args.seed)
        rates = torch.rand(args.samples, *input_shape, generator=generator) * args.max_rate
        spikes = rate_encode(rates, steps, generator)
    report = verify(model, args.net_file, spikes, progress=not args.no_progress,
                    workers=args.workers)
    print(report)
    return 0 if report.total_mismatches == 0 else 1
