"""edgedet quickstart: the whole product on built-in synthetic data, in minutes."""
from __future__ import annotations

import argparse
from pathlib import Path

HELP = "synthetic data -> train a pretrained Lite0 -> convert to every format -> benchmark table and plot"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from edgedet.quickstart import QuickstartOptions

    d = QuickstartOptions()
    p.add_argument("--out", type=Path, default=d.out, help=f"output folder (default {d.out})")
    p.add_argument("--images", type=int, default=d.images, help=f"synthetic images (default {d.images})")
    p.add_argument("--model", default=d.model, help=f"model to train (default {d.model})")
    p.add_argument("--no-pretrained", action="store_true",
                   help="train from scratch instead of from the ImageNet backbone (lite-weights extra)")
    p.add_argument("--train-backbone", action="store_true",
                   help="also train the pretrained backbone (default: frozen; only BiFPN and heads train)")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"training epochs (default {d.epochs})")
    p.add_argument("--batch", type=int, default=d.batch, help=f"batch size (default {d.batch})")
    p.add_argument("--imgsz", type=int, default=d.imgsz, help=f"input size (default {d.imgsz})")
    p.add_argument("--formats", default=",".join(d.formats), help="formats to convert to")
    p.add_argument("--precisions", default=",".join(d.precisions), help="precisions to convert to")
    p.add_argument("--runs", type=int, default=d.runs, help=f"timed runs per model (default {d.runs})")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed")
    p.add_argument("--threads", type=int, help="torch threads for training (default: torch's choice; "
                                               "1 is faster on a CPU busy with other jobs)")
    p.add_argument("--verbose", action="store_true",
                   help="show the converter libraries' own output (default: a .log beside each file)")


def run(args: argparse.Namespace) -> int:
    from edgedet import configs
    from edgedet.quickstart import QuickstartOptions, run_quickstart
    from edgedet.thirdparty_output import set_verbose

    if args.verbose:
        set_verbose(True)

    # ImageNet backbones exist for the Lite models only; D models start from scratch.
    pretrained = not args.no_pretrained and configs.get_config(args.model).is_lite

    opts = QuickstartOptions(
        out=args.out, images=args.images, model=args.model,
        pretrained_backbone="auto" if pretrained else None, freeze_backbone=not args.train_backbone,
        epochs=args.epochs, batch=args.batch,
        imgsz=args.imgsz, formats=[f.strip() for f in args.formats.split(",") if f.strip()],
        precisions=[p.strip() for p in args.precisions.split(",") if p.strip()],
        runs=args.runs, seed=args.seed, threads=args.threads,
    )
    run_quickstart(opts)
    return 0
