"""``lava-init train``: train a SLAYER MLP or CNN from any initializer, resumable, DDP-ready."""

from __future__ import annotations

import argparse
import os

from lava_init.cli.neuron_options import add_neuron_arguments, neuron_from_args
from lava_init.tables import format_table
from lava_init.training.config import (
    ARCHITECTURES,
    BASE_LR,
    DATASETS,
    ENCODINGS,
    INTEGRATING_HIDDEN_RATE,
    INTEGRATING_READOUT_RATE,
    LOSSES,
    READOUT_POPULATION,
    READOUT_STEPS,
    RELAY_LR_DEPTH,
    TrainConfig,
)

#: The NetX file ``--export`` writes into the run folder.
NETX_NAME = "network.net"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    neuron = defaults.neuron
    parser.add_argument("--dataset", default=defaults.dataset,
                        help=f"one of {', '.join(DATASETS)} (default {defaults.dataset})")
    parser.add_argument("--arch", default=defaults.arch,
                        help=f"one of {', '.join(ARCHITECTURES)} (default {defaults.arch})")
    parser.add_argument("--depth", type=int, default=defaults.depth,
                        help="hidden Dense layers (mlp) or 3x3 convolutions (cnn) (default 10)")
    parser.add_argument("--width", type=int, default=defaults.width,
                        help="neurons per hidden Dense layer (default 100)")
    parser.add_argument("--channels", type=int, default=defaults.channels,
                        help="channels per convolution, cnn and cnn1d only (default 64)")
    add_init_arguments(parser, defaults)
    add_readout_arguments(parser, defaults)
    parser.add_argument("--time-steps", type=int, default=defaults.time_steps,
                        help="time steps per sample (default 3)")
    parser.add_argument("--encoding", default=None,
                        help=f"images to input, {ENCODINGS[0]} (Bernoulli spikes per step), "
                             f"{ENCODINGS[1]} (round(T * intensity) spikes, evenly spread) "
                             f"or {ENCODINGS[2]} (the intensity ramped over the steps, "
                             "intensity * (t + 1) / T, sent to Lava as graded messages) "
                             "(default: regular for memoryless neurons, rate for integrating "
                             "ones)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size,
                        help="global batch, split between torchrun processes (default "
                             f"{defaults.batch_size})")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"Adam learning rate, cosine schedule (default {BASE_LR} * "
                             f"min(1, {READOUT_STEPS} / time-steps))")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N training samples only")
    parser.add_argument("--test-limit", type=int, default=None,
                        help="test on the first N test samples only")
    add_neuron_arguments(parser, neuron)
    parser.add_argument("--delay-shift", action="store_true",
                        help="SLAYER's one-step delay per block, as on Lava (needs more time "
                             "steps than blocks)")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the data set's files (e.g. ../shared/data/mnist)")
    parser.add_argument("--download", action="store_true",
                        help="fetch missing data with torchvision / tonic (needs internet)")
    parser.add_argument("--out", default=None,
                        help="run folder: metrics.csv and checkpoint.pt (default: none written)")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an --out folder that already holds a run")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.pt")
    parser.add_argument("--export", action="store_true",
                        help="at the end, write OUT/network.net (NetX) and run it on Lava "
                             "fixed_pt: SLAYER vs Lava accuracy and mismatches per layer")
    parser.add_argument("--export-samples", type=int, default=16,
                        help="test samples run on Lava with --export (default 16)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or tables")


def add_init_arguments(parser: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    """The init recipe's options: method, operating point, surrogate, relays, growth."""
    parser.add_argument("--init", default=None,
                        help="a registered init method, e.g. relay, temporal, "
                             "variance_conserving, slayer_default (default: the recipe, relay, "
                             "with --calibrate for integrating neurons, docs/training.md; a "
                             "wrong name lists all)")
    parser.add_argument("--sigma", type=float, default=None,
                        help="target membrane std; default per block: theta_eff/0.7 "
                             "(memoryless), theta (integrating); e.g. 1.25 for a sparser start")
    parser.add_argument("--conserve-gradient", action=argparse.BooleanOptionalAction,
                        default=defaults.conserve_gradient,
                        help="set each block's surrogate-gradient amplitude so that the "
                             "gradient keeps its variance through depth at the start (closed "
                             "form for memoryless blocks, measured on the first batch else)")
    parser.add_argument("--relay-lr", type=float, default=None,
                        help="learning rate of the relay blocks (--init relay); default "
                             f"lr * min(1, {RELAY_LR_DEPTH} / relay blocks)")
    parser.add_argument("--relay-noise", type=float, default=None,
                        help="noise of the relay blocks (--init relay) in units of the "
                             "variance-conserving weights: 0 copies, larger mixes; default "
                             "set by the number of relay blocks")
    parser.add_argument("--grow-from", default=None, metavar="CHECKPOINT",
                        help="start from this trained network of smaller --depth (a train "
                             "--out folder's checkpoint.pt or a saved model): its layers keep "
                             "their weights, relays fill the added ones (--init relay)")
    parser.add_argument("--mean-norm", action="store_true",
                        help="subtract the running mean of each hidden block's current "
                             "(lava-dl's MeanOnlyBatchNorm; on Lava the neuron bias)")
    parser.add_argument("--dropout", type=float, default=defaults.dropout,
                        help="probability that a hidden neuron is silenced for a training "
                             f"sample (lava-dl's neuron dropout; default {defaults.dropout})")
    parser.add_argument("--shift", type=int, default=defaults.shift,
                        help="augment the training images: move each by a random 0..SHIFT "
                             "pixels along each axis, anew each epoch (default 0: off)")
    parser.add_argument("--flip", action="store_true",
                        help="augment the training images: mirror each left-right with "
                             "probability 1/2, anew each epoch (Fashion-MNIST, CIFAR-10; "
                             "not digits)")
    parser.add_argument("--calibrate", action=argparse.BooleanOptionalAction, default=None,
                        help="after the init, calibrate every block on the first batch to a "
                             "rate (lava_init.calibrate; --hidden-rate, --readout-rate); "
                             "default: on in the integrating recipe, else off")
    parser.add_argument("--readout-rate", type=float, default=None,
                        help="with --calibrate: the output block's target rate (spikes per "
                             "neuron per step; default: the input rate, "
                             f"{INTEGRATING_READOUT_RATE} in the integrating recipe)")
    parser.add_argument("--hidden-rate", type=float, default=None,
                        help="with --calibrate: the other blocks' target rate (spikes per "
                             "neuron per step; default: the input rate, "
                             f"{INTEGRATING_HIDDEN_RATE} in the integrating recipe)")


def add_readout_arguments(parser: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    """The readout's and the loss's options: loss, count scale, label smoothing, population."""
    parser.add_argument("--loss", default=defaults.loss,
                        help=f"one of {', '.join(LOSSES)} (default {defaults.loss})")
    parser.add_argument("--count-scale", type=float, default=None,
                        help="logits = count-scale * output spike counts per class / "
                             "sqrt(readout-population) (count_ce); default "
                             f"{READOUT_STEPS} / time-steps")
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing,
                        help="share of each training target spread evenly over the classes "
                             f"(default {defaults.label_smoothing}: one-hot targets)")
    parser.add_argument("--readout-population", type=int, default=None,
                        help="output neurons per class, their spike counts summed (default "
                             f"{READOUT_POPULATION} for memoryless neurons, 1 for integrating "
                             "ones)")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    neuron = neuron_from_args(args)
    return TrainConfig(
        dataset=args.dataset, arch=args.arch, depth=args.depth, width=args.width,
        channels=args.channels, init=args.init, sigma=args.sigma, calibrate=args.calibrate,
        conserve_gradient=args.conserve_gradient,
        readout_rate=args.readout_rate, hidden_rate=args.hidden_rate,
        time_steps=args.time_steps, encoding=args.encoding,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        relay_lr=args.relay_lr, relay_noise=args.relay_noise, grow_from=args.grow_from,
        loss=args.loss,
        count_scale=args.count_scale,
        readout_population=args.readout_population, dropout=args.dropout,
        mean_norm=args.mean_norm,
        label_smoothing=args.label_smoothing,
        shift=args.shift, flip=args.flip, seed=args.seed,
        limit=args.limit, test_limit=args.test_limit, neuron=neuron,
        delay_shift=args.delay_shift, data_dir=args.data_dir, download=args.download,
        out=args.out, resume=args.resume, overwrite=args.overwrite,
        progress=not args.no_progress)


def run(args: argparse.Namespace) -> int:
    import torch.distributed as dist

    from lava_init.training.lava_check import export_and_verify
    from lava_init.training.loop import CHECKPOINT_NAME, METRIC_COLUMNS, METRICS_NAME, train

    config = config_from_args(args)
    if args.export and config.out is None:
        raise ValueError("--export writes OUT/network.net: give --out RUN_DIR")
    if args.export_samples < 1:
        raise ValueError(f"export-samples must be >= 1 (got {args.export_samples})")
    result = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        print(format_table(list(METRIC_COLUMNS),
                           [[row[c] for c in METRIC_COLUMNS] for row in result.metrics]))
        if result.run_dir is not None:
            print(f"metrics: {result.run_dir / METRICS_NAME}\n"
                  f"checkpoint: {result.run_dir / CHECKPOINT_NAME}")
        if args.export:
            print(export_and_verify(result.model, result.test_set, result.run_dir / NETX_NAME,
                                    args.export_samples, progress=result.plan.output.progress))
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
