"""EfficientNet-B0..B6 feature extractor returning the stride 8/16/32 maps (P3, P4, P5)."""
from __future__ import annotations

import math

import torch
from torch import nn

from edgedet.configs import BACKBONE_SCALING
from edgedet.model.layers import ConvBnAct, SqueezeExcite, batch_norm

# EfficientNet-B0 stages: (expand ratio, kernel, stride, output channels, repeats).
_B0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
_STEM_CHANNELS = 32
_SE_RATIO = 0.25
# Index (into _B0_STAGES) of the last stage at stride 8, 16 and 32.
_FEATURE_STAGES = (2, 4, 6)


def round_channels(channels: float, width_mult: float, divisor: int = 8) -> int:
    """Scale a channel count and round to a multiple of ``divisor`` (never down by >10%)."""
    scaled = channels * width_mult
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


class MBConv(nn.Module):
    """Mobile inverted bottleneck: expand 1x1 -> depthwise kxk -> SE -> project 1x1."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        self.expand = ConvBnAct(cin, mid, 1) if expand != 1 else nn.Identity()
        self.depthwise = ConvBnAct(mid, mid, kernel, stride, groups=mid)
        self.se = SqueezeExcite(mid, max(1, int(cin * _SE_RATIO)))
        self.project = ConvBnAct(mid, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


class StagedFeatures(nn.Module):
    """A stem, then stages of inverted-bottleneck blocks; ``forward`` returns [P3, P4, P5].

    ``stage_plan`` rows are (expand, kernel, stride, out channels, blocks) after scaling;
    ``block(cin, cout, expand, kernel, stride)`` builds one block.
    """

    def __init__(self, stem: nn.Module, stem_channels: int,
                 stage_plan: list[tuple[int, int, int, int, int]], block) -> None:
        super().__init__()
        self.stem = stem
        stages = []
        cin = stem_channels
        self.feature_channels: list[int] = []
        for index, (expand, kernel, stride, cout, repeats) in enumerate(stage_plan):
            blocks = []
            for r in range(repeats):
                blocks.append(block(cin, cout, expand, kernel, stride if r == 0 else 1))
                cin = cout
            stages.append(nn.Sequential(*blocks))
            if index in _FEATURE_STAGES:
                self.feature_channels.append(cout)
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        features = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in _FEATURE_STAGES:
                features.append(x)
        return features


class EfficientNetFeatures(StagedFeatures):
    """EfficientNet trunk without its classifier head; ``forward`` returns [P3, P4, P5]."""

    def __init__(self, backbone: str):
        width, depth = BACKBONE_SCALING[backbone]
        stem = round_channels(_STEM_CHANNELS, width)
        plan = [(expand, kernel, stride, round_channels(cout, width), int(math.ceil(repeats * depth)))
                for expand, kernel, stride, cout, repeats in _B0_STAGES]
        super().__init__(ConvBnAct(3, stem, 3, 2), stem, plan, MBConv)


__all__ = ["EfficientNetFeatures", "round_channels", "batch_norm"]
