"""``lava-init verify CHECKPOINT NET_FILE``: SLAYER vs Lava fixed point on the same spikes."""

from __future__ import annotations

import argparse

import torch

from lava_init.checkpoint import load_model
from lava_init.demo import digits_spikes
from lava_init.encoding import rate_encode
from lava_init.network import block_synapses
from netx_export.export import block_kind, find_blocks, slayer_block_type
from netx_export.verify import verify

DATA_SOURCES = ("random", "digits")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="model saved by lava_init.checkpoint.save_model")
    parser.add_argument("net_file", help="NetX file exported from that model")
    parser.add_argument("--data", choices=DATA_SOURCES, default="random",
                        help="random: Bernoulli spikes with per-input rates uniform in "
                             "[0, --max-rate]; digits: scikit-learn digits (64 inputs)")
    parser.add_argument("--samples", type=int, default=4, help="inputs to run (default 4)")
    parser.add_argument("--time-steps", type=int, default=None,
                        help="steps per sample (default: 2 x blocks + 8, so the last layer "
                             "gets input)")
    parser.add_argument("--max-rate", type=float, default=0.5,
                        help="largest input spike probability per step for --data random")
    parser.add_argument("--seed", type=int, default=0)


def _input_features(model: torch.nn.Module) -> int:
    name, first = find_blocks(model)[0]
    if slayer_block_type(first) not in ("Dense", "Recurrent"):
        raise ValueError(
            f"the first block {name!r} ({block_kind(first)}) is not Dense, so the CLI cannot "
            "make inputs for it; verify from Python with netx_export.verify(net, path, spikes)"
        )
    return int(block_synapses(first)[0].in_channels)


def run(args: argparse.Namespace) -> int:
    if args.samples < 1:
        raise ValueError(f"--samples must be >= 1 (got {args.samples})")
    if not 0 < args.max_rate <= 1:
        raise ValueError(f"--max-rate must be in (0, 1] (got {args.max_rate})")
    model = load_model(args.checkpoint)
    steps = args.time_steps or 2 * len(find_blocks(model)) + 8
    features = _input_features(model)
    if args.data == "digits":
        if features != 64:
            raise ValueError(f"--data digits needs a model with 64 inputs (it has {features})")
        spikes = digits_spikes(args.samples, steps, args.seed)
    else:
        generator = torch.Generator().manual_seed(args.seed)
        rates = torch.rand(args.samples, features, generator=generator) * args.max_rate
        spikes = rate_encode(rates, steps, generator)
    report = verify(model, args.net_file, spikes)
    print(report)
    return 0 if report.total_mismatches == 0 else 1
