"""The ``edgedet`` command. Each subcommand is a module ``edgedet/commands/<name>.py`` with
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``; it is found on its own."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Optional, Sequence

from edgedet import __version__
from edgedet.errors import EdgedetError, InterruptedAfterWriting

# Order of the common commands in --help; any other module in edgedet.commands follows.
_ORDER = ("quickstart", "synth", "train", "eval", "init", "convert", "detect", "benchmark", "demo", "doctor")


def _command_modules() -> list[str]:
    import edgedet.commands as package

    found = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    return sorted(found, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgedet", description="EfficientDet D0-D2 from dataset to fast CPU deployment."
    )
    parser.add_argument("--version", action="version", version=f"edgedet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        module = importlib.import_module(f"edgedet.commands.{name}")
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        sp.set_defaults(_module=name)
        module.add_arguments(sp)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    module = importlib.import_module(f"edgedet.commands.{args._module}")
    from edgedet.data.cleaning import dataset_warnings_printed

    try:
        with dataset_warnings_printed():
            return int(module.run(args) or 0)
    except EdgedetError as exc:
        print(f"edgedet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        kept = f" ({exc})" if isinstance(exc, InterruptedAfterWriting) else ""
        print(f"edgedet {args.command}: interrupted{kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
