"""Small building blocks shared by the backbone, BiFPN and heads."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

BN_MOMENTUM = 0.01  # PyTorch convention; TF's 0.99 decay
BN_EPS = 1e-3


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=BN_MOMENTUM, eps=BN_EPS)


class ConvBnAct(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> optional SiLU."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                 act: bool = True):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
            batch_norm(cout),
        ]
        if act:
            layers.append(nn.SiLU(inplace=True))
        super().__init__(*layers)


class SeparableConv(nn.Module):
    """Depthwise 3x3 followed by pointwise 1x1 (the BiFPN/head convolution)."""

    def __init__(self, cin: int, cout: int, bias: bool):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, 1, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class SqueezeExcite(nn.Module):
    """Channel attention. Pooling is GlobalAveragePool on export (not ReduceMean, which
    made ONNX Runtime int8 slower than fp32 here)."""

    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = nn.SiLU(inplace=True)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        s = self.expand(self.act(self.reduce(s)))
        return x * torch.sigmoid(s)


def max_pool_3x3_s2() -> nn.MaxPool2d:
    """A fresh 3x3/2 max-pool. Each call site gets its own module: quantizers annotate
    modules, and one shared module used in several places breaks them."""
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)


# Activation of a model config (configs.ModelConfig.activation), as a function so that layers
# without parameters leave checkpoints' keys alone.
ACTIVATIONS = {"silu": F.silu, "relu6": F.relu6}


def activation_fn(name: str):
    """The activation function called ``name`` in the scaling table ("silu" or "relu6")."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
