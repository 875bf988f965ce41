"""edgedet init: write a randomly initialized checkpoint."""
from __future__ import annotations

import argparse

from edgedet.commands._sizes import add_imgsz_argument
from edgedet import configs
from edgedet.errors import InvalidInputError, joined


HELP = "write a randomly initialized checkpoint"


def parse_names(names: str | None, num_classes: int | None) -> list[str]:
    """Class names from ``--names a,b,c`` and/or ``--num-classes N`` (they must agree)."""
    if num_classes is not None and num_classes < 1:
        raise InvalidInputError(f"--num-classes must be >= 1, got {num_classes}")
    if names:
        parsed = [n.strip() for n in names.split(",")]
        if any(not n for n in parsed):
            raise InvalidInputError(f"--names has an empty entry: {names!r}")
        if len(set(parsed)) != len(parsed):
            raise InvalidInputError(f"--names has duplicates: {names!r}")
        if num_classes is not None and num_classes != len(parsed):
            raise InvalidInputError(
                f"--num-classes is {num_classes} but --names lists {len(parsed)} names"
            )
        return parsed
    if num_classes is None:
        raise InvalidInputError("give --num-classes N or --names a,b,c")
    return [f"class{i}" for i in range(num_classes)]


def add_arguments(p: argparse.ArgumentParser) -> None:
    untested = [name for name in configs.MODEL_CONFIGS if name not in configs.SUPPORTED_FOR_TRAINING]
    p.add_argument("--model", default="d0", help=f"model size: {joined(configs.SUPPORTED_FOR_TRAINING)} "
                                                 f"({', '.join(untested)} build too)")
    p.add_argument("--num-classes", type=int, help="number of classes")
    p.add_argument("--names", help="comma-separated class names (default class0, class1, ...)")
    add_imgsz_argument(p, "default: the model's")
    p.add_argument("--seed", type=int, default=0, help="random seed for the weights")
    p.add_argument("--out", required=True, help="checkpoint path to write, e.g. d0.pt")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")


def run(args: argparse.Namespace) -> int:
    from edgedet import configs

    configs.get_config(args.model)  # fail on an unknown name before importing torch
    from edgedet.fileio import refuse_existing

    refuse_existing(args.out, args.force)  # random weights must not replace a trained file
    names = parse_names(args.names, args.num_classes)
    from edgedet.checkpoint import init_checkpoint

    meta = init_checkpoint(args.out, args.model, names, args.imgsz, seed=args.seed)
    print(f"wrote {args.out}: {meta.model} at {meta.input_size}px, classes {meta.class_names}")
    return 0
