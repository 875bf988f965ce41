"""EfficientDet (and EfficientDet-Lite): normalization -> EfficientNet(-Lite) -> BiFPN ->
class/box heads.

The module ends at the raw head outputs so it traces cleanly to every format; target
assignment, loss, decoding and NMS live outside it.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from edgedet import configs
from edgedet.metadata import pixel_stats
from edgedet.model.bifpn import NUM_LEVELS, BiFPN
from edgedet.model.efficientnet import EfficientNetFeatures
from edgedet.model.efficientnet_lite import EfficientNetLiteFeatures
from edgedet.model.heads import box_head, class_head
from edgedet.variant import ModelVariant


class EfficientDet(nn.Module):
    """Input: ``[B, 3, S, S]`` float RGB pixels in 0-255 (letterboxed).
    Output: ``(cls_logits [B, N, C], box_regression [B, N, 4])``."""

    def __init__(self, config: configs.ModelConfig, num_classes: int):
        super().__init__()
        self.config = config
        self.num_classes = num_classes
        mean, std = pixel_stats(config)
        self.register_buffer("pixel_mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("pixel_inv_std", 1.0 / torch.tensor(std).view(1, 3, 1, 1))
        features = EfficientNetLiteFeatures if config.is_lite else EfficientNetFeatures
        self.backbone = features(config.backbone)
        self.fpn = BiFPN(self.backbone.feature_channels, config.fpn_channels, config.fpn_layers,
                         config.activation, config.fpn_fusion)
        anchors = config.num_anchors_per_location
        act = config.activation
        self.class_net = class_head(config.fpn_channels, config.head_layers, NUM_LEVELS, anchors, num_classes, act)
        self.box_net = box_head(config.fpn_channels, config.head_layers, NUM_LEVELS, anchors, act)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (images - self.pixel_mean) * self.pixel_inv_std
        features = self.fpn(self.backbone(x))
        return self.class_net(features), self.box_net(features)


def build_model(name: str, num_classes: int, variant: Optional[ModelVariant] = None) -> EfficientDet:
    """Build a randomly initialized EfficientDet by name (``"d0"``..``"d7"``, ``"lite0"``..``"lite2"``);
    ``variant`` (padding, backbone BN eps; see :mod:`edgedet.variant`) defaults to edgedet's own."""
    from edgedet.errors import InvalidInputError

    if not isinstance(num_classes, int) or num_classes < 1:
        raise InvalidInputError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    model = EfficientDet(configs.get_config(name), num_classes)
    if variant is not None and not variant.is_default:
        from edgedet.model.apply_variant import apply_variant

        apply_variant(model, variant)
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
