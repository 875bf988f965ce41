"""edgedet synth: write a synthetic shapes dataset (train/val) in COCO, VOC or YOLO layout."""
from __future__ import annotations

import argparse

from edgedet.data.formats import NAMES as DATASET_FORMATS

HELP = "generate a synthetic shapes dataset (train/val splits) for tests and quickstarts"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--images", type=int, default=200, help="number of images in all (default 200)")
    p.add_argument("--format", choices=DATASET_FORMATS, default=DATASET_FORMATS[0],
                   help=f"layout (default {DATASET_FORMATS[0]})")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    p.add_argument("--size", default="320x256", help="image size WxH (default 320x256)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of images in val (default 0.2)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")


def run(args: argparse.Namespace) -> int:
    from edgedet.commands._sizes import parse_size
    from edgedet.data import load_dataset
    from edgedet.data.synth import generate_dataset

    out = generate_dataset(args.out, args.images, args.format, args.seed, parse_size(args.size),
                           args.val_fraction, overwrite=args.force)
    for split in ("train", "val"):
        ds = load_dataset(out, args.format, split)
        print(f"{out} [{args.format}] {split}: {len(ds)} images, {ds.num_boxes} boxes")
    print(f"classes: {', '.join(ds.class_names)}")
    return 0
