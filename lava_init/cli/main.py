"""The ``lava-init`` command line: one subcommand per job.

Each subcommand lives in a module with ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their command runs, so ``lava-init --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import signal
import sys

from lava_init import __version__
from lava_init.signals import (
    Interrupted,
    forget_signal,
    handled_by,
    interruption_of,
    raise_if_signalled,
    stop_handler,
)

#: The library every command's work imports (after parsing, so that --help stays fast).
LAVA_DL = "lava.lib.dl.slayer"
#: name -> (module in lava_init.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "the main job: deep SLAYER MLP on digits, inits side by side"),
    "propagate": ("propagate", "the paper's deep-propagation runs: CSV and figures"),
    "export": ("export", "write a saved model as a NetX HDF5 network"),
    "verify": ("verify", "compare SLAYER and Lava fixed point spike for spike"),
    "train": ("train", "train a SLAYER MLP/CNN on a data set from any initializer"),
    "inspect": ("inspect", "per-layer activity of any NetX network on Lava fixed point"),
    "convert": ("convert", "NIR graphs, NetX networks and checkpoints into each other"),
}


def _import_quietly(module: str):
    """Import ``module`` with its import-time prints kept off the command's output (lava-dl
    prints a Prophesee toolbox warning on stdout, torch a CUDA note on stderr); they are shown
    on stderr only if the import fails."""
    noise = io.StringIO()
    try:
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            return importlib.import_module(module)
    except BaseException:
        sys.stderr.write(noise.getvalue())
        raise


def _command_module(name: str):
    return _import_quietly(f"lava_init.cli.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lava-init", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lava-init {__version__}")
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
    with handled_by(stop_handler(Interrupted)):
        try:
            return _run_command(args)
        except BaseException as error:  # a stop may come wrapped (see interruption_of)
            stop = interruption_of(error)
            if stop is None:
                raise
            forget_signal()
            signum = getattr(stop, "signum", signal.SIGINT)
            print(f"lava-init {args.command}: interrupted by {signal.Signals(signum).name}; "
                  "stopped cleanly (Lava runtime and workers ended, finished files kept)",
                  file=sys.stderr)
            return getattr(stop, "exit_code", 128 + signal.SIGINT)


def _run_command(args: argparse.Namespace) -> int:
    """Run the command; its errors as one line on stderr (exit 2), a stop signal whose
    exception was lost on the way raised at the end (SIGINT and SIGTERM stop every phase).
    A command's ``check_inputs(args)``, where it has one, runs before lava-dl loads, so that
    a missing or hostile file is refused in a fraction of a second."""
    module = _command_module(COMMANDS[args.command][0])
    from netx_export.running.interrupts import LavaRunFailed

    try:
        if hasattr(module, "check_inputs"):
            module.check_inputs(args)
        _import_quietly(LAVA_DL)  # every command's work uses it; its prints are not output
        code = module.run(args)
        raise_if_signalled()
        return code
    except (ValueError, FileNotFoundError, LavaRunFailed) as error:
        message = str(error)
    except MemoryError:
        message = "not enough memory for this run; use fewer samples, steps or a smaller network"
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        message = f"{error.strerror or error}{where}"
    print(f"lava-init {args.command}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
