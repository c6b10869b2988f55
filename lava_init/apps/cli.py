"""The ``lava-init`` command line: one subcommand per job.

Each subcommand lives in a module with ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their command runs, so ``lava-init --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: name -> (module in lava_init.apps.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "the main job: deep SLAYER MLP on digits, inits side by side"),
    "propagate": ("propagate", "the paper's deep-propagation runs: CSV and figures"),
    "export": ("export", "write a saved model as a NetX HDF5 network"),
    "verify": ("verify", "compare SLAYER and Lava fixed point spike for spike"),
    "train": ("train", "train a SLAYER MLP/CNN on a data set from any initializer"),
}


def _command_module(name: str):
    return importlib.import_module(f"lava_init.apps.commands.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lava-init", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _command_module(module_name).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = _command_module(COMMANDS[args.command][0])
    try:
        return module.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"lava-init {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
