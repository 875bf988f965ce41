"""edgedet import: an effdet EfficientDet checkpoint or a timm EfficientNet-B0..B2 classifier
-> an edgedet checkpoint (named ``import`` because it is what users look for: the module is
only ever loaded by name, never with an import statement)."""
from __future__ import annotations

import argparse

from edgedet.commands._sizes import add_imgsz_argument
from edgedet.errors import joined
from edgedet.pretrained.published import NAMES as PUBLISHED_NAMES

HELP = ("turn an effdet EfficientDet (D0-D2; a file or a published name) or timm EfficientNet-B0..B2 "
        "file into an edgedet checkpoint")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="effdet state dict (e.g. tf_efficientdet_d0_34-f153e0cf.pth), "
                                  "timm EfficientNet-B0/B1/B2 classifier weights, or a published "
                                  f"effdet checkpoint by name, downloaded once into the cache "
                                  f"({joined(PUBLISHED_NAMES)})")
    p.add_argument("--out", required=True, help="edgedet checkpoint to write, e.g. d0_coco.pt")
    add_imgsz_argument(p, "default: the model's")
    p.add_argument("--variant", choices=("tf", "pytorch"),
                   help="override the detected variant: tf = TF port (SAME padding, backbone BN eps "
                        "1e-3), pytorch = effdet/timm PyTorch-trained (symmetric, eps 1e-5). effdet "
                        "files are detected from their keys; timm files default to pytorch "
                        "(tf_efficientnet_b* files need --variant tf: their keys are identical)")
    p.add_argument("--names", help="comma-separated class names in head order (default: COCO's "
                                   "90-id layout for 90-class effdet files, 'object' for timm)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args: argparse.Namespace) -> int:
    from edgedet.commands.init import parse_names

    names = parse_names(args.names, None) if args.names else None
    from edgedet.fileio import refuse_existing
    from edgedet.pretrained.importer import import_weights
    from edgedet.pretrained.resolve import import_source

    refuse_existing(args.out, args.force)  # before a download, not after it
    source = import_source(args.source)
    meta, info = import_weights(source, args.out, args.imgsz, args.variant, names, args.force)
    print(f"{source}: {info.description}")
    variant = meta.variant
    print(f"wrote {args.out}: {meta.model} at {meta.input_size}px, {meta.num_classes} classes, "
          f"padding {variant.padding}, backbone BN eps {variant.backbone_bn_eps:g}")
    if info.kind == "timm":
        print("BiFPN and heads are freshly initialized: fine-tune with "
              f"`edgedet train --weights {args.out} --data DATASET`")
    return 0
