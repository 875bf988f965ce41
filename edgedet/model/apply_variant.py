"""Apply a :class:`~edgedet.variant.ModelVariant` to a freshly built EfficientDet.

The network modules are written for edgedet's own models (symmetric padding, BN eps 1e-3);
imported weights may need TensorFlow "SAME" padding or another backbone BN eps. Rather than
threading those options through every constructor, :func:`apply_variant` swaps the affected
modules after construction. Parameter names and shapes do not change, so checkpoints of every
variant share one state-dict layout, and every exporter sees the variant in the graph.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from edgedet.variant import ModelVariant


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding of one spatial dimension: (before, after)."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with TF "SAME" padding, zeros added at the bottom/right when the total is odd.

    Sizes are read from the input tensor as Python ints, so exported graphs get constant pads.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_pads(int(x.shape[-2]), self.kernel_size[0], self.stride[0])
        left, right = same_pads(int(x.shape[-1]), self.kernel_size[1], self.stride[1])
        if top == bottom and left == right:
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class SameMaxPool2d(nn.MaxPool2d):
    """Max-pool with TF "SAME" padding: padded positions never win (-inf padding).

    The extra bottom/right pixel of an asymmetric pad is expressed as ``ceil_mode`` (whose
    partial last window ignores positions outside the input), so the exported graph holds one
    MaxPool and no explicit pad with an infinite constant.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel, stride = self.kernel_size, self.stride
        top, bottom = same_pads(int(x.shape[-2]), kernel, stride)
        left, right = same_pads(int(x.shape[-1]), kernel, stride)
        if top == bottom and left == right:
            return F.max_pool2d(x, kernel, stride, (top, left))
        if bottom == top + 1 and right == left + 1:
            return F.max_pool2d(x, kernel, stride, (top, left), ceil_mode=True)
        x = F.pad(x, (left, right, top, bottom), value=-math.inf)  # mixed odd/even sides
        return F.max_pool2d(x, kernel, stride)


def _same_conv(conv: nn.Conv2d) -> SameConv2d:
    same = SameConv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, 0,
                      conv.dilation, conv.groups, conv.bias is not None)
    same.weight = conv.weight
    same.bias = conv.bias
    return same


def _same_pool(pool: nn.MaxPool2d) -> SameMaxPool2d:
    if pool.dilation not in (1, (1, 1)) or not isinstance(pool.kernel_size, int):
        raise ValueError(f"cannot give TF SAME padding to {pool}")
    return SameMaxPool2d(pool.kernel_size, pool.stride)


def use_same_padding(module: nn.Module) -> None:
    """Give every strided convolution and every max-pool under ``module`` TF "SAME" padding.

    Stride-1 convolutions with odd kernels already pad symmetrically, which is what SAME is.
    """
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d) and not isinstance(child, SameConv2d) and child.stride != (1, 1):
            setattr(module, name, _same_conv(child))
        elif isinstance(child, nn.MaxPool2d) and not isinstance(child, SameMaxPool2d):
            setattr(module, name, _same_pool(child))
        else:
            use_same_padding(child)


def apply_variant(model: nn.Module, variant: ModelVariant) -> nn.Module:
    """Make ``model`` (an EfficientDet) compute what ``variant`` says; returns it."""
    if variant.padding == "tf_same":
        use_same_padding(model)
    for module in model.backbone.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eps = variant.backbone_bn_eps
    return model
