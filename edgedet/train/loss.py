"""Focal classification loss + Huber box loss, normalized by the number of positive anchors."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from edgedet.train.reference_matcher import BACKGROUND


@dataclass(frozen=True)
class LossConfig:
    """Defaults are the EfficientDet paper's recipe."""

    alpha: float = 0.25
    gamma: float = 1.5
    huber_delta: float = 0.1
    box_weight: float = 50.0


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """Element-wise sigmoid focal loss (Lin et al., 2017); ``targets`` are 0/1 floats."""
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p = torch.sigmoid(logits)
    p_t = targets * p + (1 - targets) * (1 - p)
    alpha_t = targets * alpha + (1 - targets) * (1 - alpha)
    return alpha_t * (1 - p_t).pow(gamma) * ce


def detection_loss(cls_logits: torch.Tensor, box_regression: torch.Tensor, labels: torch.Tensor,
                   box_targets: torch.Tensor, config: LossConfig = LossConfig()
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``(total, class loss, box loss)`` for a batch.

    Shapes: ``cls_logits [B, N, C]``, ``box_regression [B, N, 4]``, ``labels [B, N]`` (class
    id, BACKGROUND or IGNORE), ``box_targets [B, N, 4]``.
    """
    positive = labels >= 0
    valid = labels >= BACKGROUND
    num_positive = positive.sum().clamp(min=1).to(cls_logits.dtype)
    one_hot = F.one_hot(labels.clamp(min=0), cls_logits.shape[-1]).to(cls_logits.dtype)
    one_hot = one_hot * positive.unsqueeze(-1)
    cls = focal_loss(cls_logits, one_hot, config.alpha, config.gamma)
    cls_loss = (cls * valid.unsqueeze(-1)).sum() / num_positive
    box_loss = F.huber_loss(box_regression[positive], box_targets[positive],
                            delta=config.huber_delta, reduction="sum") / (4 * num_positive)
    return cls_loss + config.box_weight * box_loss, cls_loss, box_loss
