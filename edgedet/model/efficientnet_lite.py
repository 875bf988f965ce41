"""EfficientNet-Lite0..2: the EfficientDet-Lite backbone (P3, P4, P5) and its ImageNet classifier.

EfficientNet-Lite (google/automl ``backbone/efficientnet_lite_builder.py``) is EfficientNet
without squeeze-excitation and with ReLU6 instead of swish (both quantize badly); its stem
(32 channels), head (1280) and the repeats of its first and last stages are not scaled.

Its published ImageNet weights were trained in TensorFlow with "same" padding, which pads a
stride-2 convolution of an even-sized map asymmetrically (less before than after). The
stride-2 convolutions here pad the same way (edgedet.model.apply_variant.SameConv2d), so those
weights compute what they did there.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from edgedet.configs import BACKBONE_SCALING
from edgedet.model.efficientnet import _B0_STAGES, StagedFeatures, round_channels
from edgedet.model.layers import batch_norm
from edgedet.model.apply_variant import SameConv2d

STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def same_conv(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """Bias-free Conv2d with TensorFlow "same" padding (stride 1 is symmetric anyway)."""
    if stride == 1:
        return nn.Conv2d(cin, cout, kernel, 1, kernel // 2, groups=groups, bias=False)
    return SameConv2d(cin, cout, kernel, stride, 0, groups=groups, bias=False)


def conv_bn(cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1,
            act: bool = True) -> nn.Sequential:
    """TF-"same" conv -> BatchNorm -> optional ReLU6 (indices 0, 1, 2: the weight import
    and BatchNorm folding rely on conv and BN being adjacent siblings)."""
    layers: list[nn.Module] = [same_conv(cin, cout, kernel, stride, groups), batch_norm(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class LiteMBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation: expand 1x1 -> depthwise kxk ->
    project 1x1, ReLU6 after the first two, residual when shape is kept."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        self.expand = conv_bn(cin, mid, 1) if expand != 1 else nn.Identity()
        self.depthwise = conv_bn(mid, mid, kernel, stride, groups=mid)
        self.project = conv_bn(mid, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


def stage_repeats(backbone: str) -> list[int]:
    """Blocks per stage of an EfficientNet-Lite: depth-scaled except the first and last."""
    _, depth = BACKBONE_SCALING[backbone]
    last = len(_B0_STAGES) - 1
    return [repeats if index in (0, last) else int(math.ceil(repeats * depth))
            for index, (_, _, _, _, repeats) in enumerate(_B0_STAGES)]


class EfficientNetLiteFeatures(StagedFeatures):
    """EfficientNet-Lite trunk without its head; ``forward`` returns [P3, P4, P5]."""

    def __init__(self, backbone: str):
        width, _ = BACKBONE_SCALING[backbone]
        plan = [(expand, kernel, stride, round_channels(cout, width), repeats)
                for (expand, kernel, stride, cout, _), repeats in zip(_B0_STAGES, stage_repeats(backbone))]
        super().__init__(conv_bn(3, STEM_CHANNELS, 3, 2), STEM_CHANNELS, plan, LiteMBConv)


class EfficientNetLiteClassifier(nn.Module):
    """The ImageNet classifier (trunk, 1x1 conv to 1280, average pool, linear), used to check
    that imported weights behave as they did where they were trained. Input: normalized
    ``[B, 3, H, W]`` ((pixel - 127) / 128, RGB); output: ``[B, num_classes]`` logits."""

    def __init__(self, backbone: str, num_classes: int = 1000):
        super().__init__()
        self.features = EfficientNetLiteFeatures(backbone)
        self.head = conv_bn(self.features.feature_channels[-1], HEAD_CHANNELS, 1)
        self.fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(self.features(x)[-1])
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))
