"""Class and box prediction heads, shared over levels with per-level BatchNorm."""
from __future__ import annotations

import math

import torch
from torch import nn

from edgedet.model.layers import SeparableConv, activation_fn, batch_norm

# Focal-loss prior: initial foreground probability of every class logit.
CLASS_PRIOR = 0.01


class Head(nn.Module):
    """``num_layers`` separable convs (shared weights, BN per level) and a predictor.

    Returns ``[B, N, outputs_per_anchor]`` with N ordered level, row, column, anchor.
    """

    def __init__(self, channels: int, num_layers: int, num_levels: int, anchors: int,
                 outputs_per_anchor: int, bias_init: float = 0.0, activation: str = "silu"):
        super().__init__()
        self.outputs_per_anchor = outputs_per_anchor
        self.act = activation_fn(activation)
        self.convs = nn.ModuleList(SeparableConv(channels, channels, bias=True) for _ in range(num_layers))
        self.norms = nn.ModuleList(
            nn.ModuleList(batch_norm(channels) for _ in range(num_layers)) for _ in range(num_levels)
        )
        self.predict = SeparableConv(channels, anchors * outputs_per_anchor, bias=True)
        nn.init.constant_(self.predict.pointwise.bias, bias_init)
        # Set by fold_batchnorm(): per level, the shared convs with that level's BN merged in.
        self.folded: nn.ModuleList | None = None

    def fold_batchnorm(self) -> None:
        """Replace shared conv + per-level BN by per-level fused convs (export only)."""
        from edgedet.model.fold import fuse_separable_bn

        self.folded = nn.ModuleList(
            nn.ModuleList(fuse_separable_bn(conv, norm) for conv, norm in zip(self.convs, norms))
            for norms in self.norms
        )
        del self.convs, self.norms
        self.convs, self.norms = None, None

    def _level_layers(self, level: int):
        if self.folded is not None:
            return [(conv, None) for conv in self.folded[level]]
        return list(zip(self.convs, self.norms[level]))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        outputs = []
        for level, x in enumerate(features):
            for conv, norm in self._level_layers(level):
                x = conv(x)
                x = self.act(norm(x) if norm is not None else x)
            y = self.predict(x)
            b = y.shape[0]
            outputs.append(y.permute(0, 2, 3, 1).reshape(b, -1, self.outputs_per_anchor))
        return torch.cat(outputs, dim=1)


def class_head(channels: int, num_layers: int, num_levels: int, anchors: int, num_classes: int,
               activation: str = "silu") -> Head:
    prior_logit = -math.log((1 - CLASS_PRIOR) / CLASS_PRIOR)
    return Head(channels, num_layers, num_levels, anchors, num_classes, bias_init=prior_logit,
                activation=activation)


def box_head(channels: int, num_layers: int, num_levels: int, anchors: int,
             activation: str = "silu") -> Head:
    return Head(channels, num_layers, num_levels, anchors, 4, activation=activation)
