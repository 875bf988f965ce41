"""edgedet convert: checkpoint -> deployable model file."""
from __future__ import annotations

import argparse
import time
from pathlib import Path


HELP = "convert a checkpoint to a deployable model file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from edgedet.converters import TARGETS

    p.add_argument("--weights", required=True, help="checkpoint (.pt) to convert")
    p.add_argument("--target", required=True, help=f"output format: {', '.join(TARGETS)}")
    p.add_argument("--out", help="output path (default: weights path with the target's suffix)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")


def run(args: argparse.Namespace) -> int:
    from edgedet.converters import convert
    from edgedet.fileio import existing_file

    existing_file(args.weights, "checkpoint")
    start = time.perf_counter()
    out = convert(args.weights, args.target, args.out, overwrite=args.force)
    size_mb = Path(out).stat().st_size / 1e6
    print(f"wrote {out} ({size_mb:.1f} MB) in {time.perf_counter() - start:.1f} s")
    return 0
