"""BatchNorm folding for export: every BN merged into the convolution before it."""
from __future__ import annotations

import copy

import torch
from torch import nn

from edgedet.model.layers import SeparableConv


def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """Return a new Conv2d equal to ``bn(conv(x))`` in eval mode."""
    fused = copy.deepcopy(conv)
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    fused.weight = nn.Parameter(conv.weight.detach() * scale.view(-1, 1, 1, 1))
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias.detach())
    return fused


def fuse_separable_bn(sep: SeparableConv, bn: nn.BatchNorm2d) -> SeparableConv:
    """Return a SeparableConv whose pointwise conv absorbed ``bn``."""
    fused = copy.deepcopy(sep)
    fused.pointwise = fuse_conv_bn(sep.pointwise, bn)
    return fused


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Return an eval-mode copy of ``model`` with no BatchNorm left.

    Sibling pairs (conv or separable conv, then BN) in registration order are merged;
    modules with their own scheme (the heads' per-level BN) expose ``fold_batchnorm()``.
    """
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        for module in list(model.modules()):
            if hasattr(module, "fold_batchnorm") and module is not model:
                module.fold_batchnorm()
                continue
            children = list(module.named_children())
            for (name_a, a), (name_b, b) in zip(children, children[1:]):
                if not isinstance(b, nn.BatchNorm2d):
                    continue
                if isinstance(a, nn.Conv2d):
                    setattr(module, name_a, fuse_conv_bn(a, b))
                elif isinstance(a, SeparableConv):
                    setattr(module, name_a, fuse_separable_bn(a, b))
                else:
                    continue
                setattr(module, name_b, nn.Identity())
    leftover = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    if leftover:
        raise RuntimeError(f"BatchNorm folding left {len(leftover)} BN layers, e.g. {leftover[0]}")
    return model
