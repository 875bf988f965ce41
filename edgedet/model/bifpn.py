"""BiFPN over P3-P7 with fast normalized fusion (EfficientDet paper, section 3.3)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from edgedet import configs
from edgedet.model.layers import SeparableConv, activation_fn, batch_norm, max_pool_3x3_s2

FUSION_EPS = 1e-4
NUM_LEVELS = 5  # P3..P7


def lateral(cin: int, cout: int) -> nn.Module:
    """1x1 conv + BN to bring a backbone map to the BiFPN width (identity if it already is)."""
    if cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), batch_norm(cout))


class ExtraLevels(nn.Module):
    """P6 = maxpool(BN(conv1x1(P5))), P7 = maxpool(P6)."""

    def __init__(self, cin: int, channels: int):
        super().__init__()
        self.p6_lateral = lateral(cin, channels)
        self.p6_pool = max_pool_3x3_s2()
        self.p7_pool = max_pool_3x3_s2()

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        p6 = self.p6_pool(self.p6_lateral(features[-1]))
        return [*features, p6, self.p7_pool(p6)]


class FusionNode(nn.Module):
    """One BiFPN node: resample inputs, fusion, activation, separable conv, BN.

    ``sources`` describes each input as (input channels, resize), resize being
    ``"same"``, ``"up"`` (nearest x2, cropped to the first input's size where that is odd)
    or ``"down"`` (3x3/2 max-pool). ``fusion`` is fast normalized fusion (learned weights)
    or a plain sum (EfficientDet-Lite); ``activation`` is "silu" or "relu6".
    """

    def __init__(self, sources: list[tuple[int, str]], channels: int, activation: str = "silu",
                 fusion: str = configs.FUSION_FAST_NORMALIZED):
        super().__init__()
        self.laterals = nn.ModuleList(lateral(cin, channels) for cin, _ in sources)
        self.resizes = [resize for _, resize in sources]
        # nn.ModuleDict keys must be strings; one pool per downsampling input.
        self.pools = nn.ModuleDict(
            {str(i): max_pool_3x3_s2() for i, (_, r) in enumerate(sources) if r == "down"}
        )
        self.act = activation_fn(activation)
        self.weighted = fusion == configs.FUSION_FAST_NORMALIZED
        if self.weighted:
            self.weights = nn.Parameter(torch.ones(len(sources)))
        elif fusion != configs.FUSION_SUM:
            raise ValueError(f"unknown BiFPN fusion {fusion!r}")
        self.conv = SeparableConv(channels, channels, bias=False)
        self.bn = batch_norm(channels)

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        w = None
        if self.weighted:
            w = F.relu(self.weights)
            # One [1, 1, 1, 1] weight per input rather than a 0-d scalar: converters that move
            # the graph to NHWC (litert-torch) keep ops with non-4-D operands in NCHW and wrap
            # every fusion in transposes otherwise.
            w = (w / (w.sum() + FUSION_EPS)).reshape(-1, 1, 1, 1, 1)
        fused = None
        for i, x in enumerate(inputs):
            x = self.laterals[i](x)
            if self.resizes[i] == "up":
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
                height, width = inputs[0].shape[-2:]
                if x.shape[-2] != height or x.shape[-1] != width:
                    # Odd-sized level (P6 = 5 at 320 px): 2 x ceil(5 / 2) = 6 rows, crop to 5.
                    x = x[:, :, :height, :width]
            elif self.resizes[i] == "down":
                x = self.pools[str(i)](x)
            if w is not None:
                x = x * w[i]
            fused = x if fused is None else fused + x
        return self.bn(self.conv(self.act(fused)))


class BiFPNLayer(nn.Module):
    """One top-down + bottom-up pass over five levels."""

    def __init__(self, in_channels: list[int], channels: int, activation: str = "silu",
                 fusion: str = configs.FUSION_FAST_NORMALIZED):
        super().__init__()
        c3, c4, c5, c6, c7 = in_channels
        ch = channels
        kw = {"activation": activation, "fusion": fusion}
        # top-down: P6', P5', P4', P3_out
        self.td6 = FusionNode([(c6, "same"), (c7, "up")], ch, **kw)
        self.td5 = FusionNode([(c5, "same"), (ch, "up")], ch, **kw)
        self.td4 = FusionNode([(c4, "same"), (ch, "up")], ch, **kw)
        self.out3 = FusionNode([(c3, "same"), (ch, "up")], ch, **kw)
        # bottom-up: P4_out .. P7_out
        self.out4 = FusionNode([(c4, "same"), (ch, "same"), (ch, "down")], ch, **kw)
        self.out5 = FusionNode([(c5, "same"), (ch, "same"), (ch, "down")], ch, **kw)
        self.out6 = FusionNode([(c6, "same"), (ch, "same"), (ch, "down")], ch, **kw)
        self.out7 = FusionNode([(c7, "same"), (ch, "down")], ch, **kw)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        p3, p4, p5, p6, p7 = feats
        td6 = self.td6([p6, p7])
        td5 = self.td5([p5, td6])
        td4 = self.td4([p4, td5])
        out3 = self.out3([p3, td4])
        out4 = self.out4([p4, td4, out3])
        out5 = self.out5([p5, td5, out4])
        out6 = self.out6([p6, td6, out5])
        out7 = self.out7([p7, out6])
        return [out3, out4, out5, out6, out7]


class BiFPN(nn.Module):
    """Extra levels from P5, then ``num_layers`` BiFPN layers."""

    def __init__(self, backbone_channels: list[int], channels: int, num_layers: int,
                 activation: str = "silu", fusion: str = configs.FUSION_FAST_NORMALIZED):
        super().__init__()
        self.extra = ExtraLevels(backbone_channels[-1], channels)
        first_in = [*backbone_channels, channels, channels]
        self.layers = nn.ModuleList(
            BiFPNLayer(first_in if i == 0 else [channels] * NUM_LEVELS, channels, activation, fusion)
            for i in range(num_layers)
        )

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        feats = self.extra(features)
        for layer in self.layers:
            feats = layer(feats)
        return feats
