"""The neuron options shared by ``lava-init train`` and the convergence benchmark."""

from __future__ import annotations

import argparse

from lava_init.training.config import NeuronConfig


def add_neuron_arguments(parser: argparse.ArgumentParser, neuron: NeuronConfig) -> None:
    """``--threshold --current-decay --voltage-decay --tau-grad --scale-grad``, defaulting
    to ``neuron``; read them back with :func:`neuron_from_args`."""
    parser.add_argument("--threshold", type=float, default=neuron.threshold,
                        help=f"neuron threshold (default {neuron.threshold})")
    parser.add_argument("--current-decay", type=float, default=neuron.current_decay,
                        help=f"per step; 1 forgets at once (default {neuron.current_decay}, "
                             "the paper's memoryless neuron; lava-dl tutorials: 0.25)")
    parser.add_argument("--voltage-decay", type=float, default=neuron.voltage_decay,
                        help=f"per step (default {neuron.voltage_decay}; tutorials: 0.03)")
    parser.add_argument("--tau-grad", type=float, default=neuron.tau_grad,
                        help=f"surrogate gradient width (default {neuron.tau_grad}; "
                             "tutorials: 0.03)")
    parser.add_argument("--scale-grad", type=float, default=neuron.scale_grad,
                        help=f"surrogate gradient scale (default {neuron.scale_grad}; "
                             "tutorials: 3)")


def neuron_from_args(args: argparse.Namespace) -> NeuronConfig:
    """The CUBA neuron given by :func:`add_neuron_arguments`' options."""
    return NeuronConfig(threshold=args.threshold, current_decay=args.current_decay,
                        voltage_decay=args.voltage_decay, tau_grad=args.tau_grad,
                        scale_grad=args.scale_grad)
