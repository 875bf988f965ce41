"""Training: targets, loss, EMA, schedule and the loop behind ``edgedet train``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from edgedet.train.config import TrainConfig


def train(config: Optional[TrainConfig] = None, **kwargs) -> Path:
    """Train an EfficientDet and return the path of its ``best.pt``.

    Pass a :class:`TrainConfig` or its fields as keywords, e.g.::

        train(data="shapes", format="coco", model="d0", imgsz=256, epochs=30, batch=8,
              out="runs/exp", resume=False, workers=2, seed=0)

    Other keywords: ``lr`` (peak SGD rate, default 0.08 * global batch / 64),
    ``warmup_epochs``, ``momentum``, ``weight_decay``, ``ema_decay``, ``clip_grad``,
    ``bn_momentum``,
    ``scale_min``/``scale_max`` (jitter range, default 0.1-2.0), ``flip``,
    ``train_split``/``val_split``, ``exist_ok``, ``threads``, ``device``, ``progress``,
    ``val_every`` (validate every N epochs), ``amp`` (bf16 autocast; None: on for CUDA only).
    Under ``torchrun --nproc_per_node N`` it trains with DistributedDataParallel.
    """
    from edgedet.train.trainer import Trainer

    if config is None:
        config = TrainConfig.from_kwargs(**kwargs)
    elif kwargs:
        from dataclasses import replace

        config = replace(config, **kwargs)
    return Trainer(config).fit()


__all__ = ["TrainConfig", "train"]
