"""effdet / timm parameter names -> edgedet parameter names (pure string work, no torch).

effdet (rwightman/efficientdet-pytorch) keeps timm's EfficientNet layout under ``backbone.``,
its BiFPN under ``fpn.`` and its heads under ``class_net.`` / ``box_net.``. The functions here
translate one name at a time and say which BatchNorm a redundant bias belongs to; the
importers do the tensor work and the checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# effdet's BiFPN nodes in order, as edgedet names them, with the feature offsets each node
# reads (offsets 0-4 are P3-P7, 5+ are earlier nodes' outputs; effdet's ``bifpn`` config).
BIFPN_NODES = ("td6", "td5", "td4", "out3", "out4", "out5", "out6", "out7")
BIFPN_NODE_INPUTS = ((3, 4), (2, 5), (1, 6), (0, 7), (1, 7, 8), (2, 6, 9), (3, 5, 10), (4, 11))

# timm EfficientNet block parts -> edgedet MBConv parts. Blocks without an expansion conv
# (timm's DepthwiseSeparableConv, stage 0) name their parts differently.
_INVERTED_RESIDUAL = {"conv_pw": "expand.0", "bn1": "expand.1", "conv_dw": "depthwise.0",
                      "bn2": "depthwise.1", "conv_pwl": "project.0", "bn3": "project.1",
                      "se.conv_reduce": "se.reduce", "se.conv_expand": "se.expand"}
_DEPTHWISE_SEPARABLE = {"conv_dw": "depthwise.0", "bn1": "depthwise.1", "conv_pw": "project.0",
                        "bn2": "project.1", "se.conv_reduce": "se.reduce", "se.conv_expand": "se.expand"}

# Parts of a timm classifier that a detector backbone does not have.
TIMM_CLASSIFIER_PARTS = ("conv_head.", "bn2.", "classifier.")


@dataclass(frozen=True)
class Mapped:
    """Where one source tensor goes: an edgedet key, or (for a redundant conv bias in front of
    a BatchNorm) the edgedet prefix of that BatchNorm, into whose running mean it folds."""

    key: Optional[str] = None
    fold_into_bn: Optional[str] = None


_BLOCK = re.compile(r"blocks\.(\d+)\.(\d+)\.(.+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$")


def backbone_key(name: str, expanding_blocks: set[tuple[int, int]]) -> Optional[str]:
    """A timm EfficientNet trunk key (no ``backbone.`` prefix) -> edgedet key under
    ``backbone.``; None if it is not part of the trunk. ``expanding_blocks`` lists the
    (stage, block) pairs that have an expansion conv (a ``conv_pwl`` key)."""
    if name == "conv_stem.weight":
        return "backbone.stem.0.weight"
    if name.startswith("bn1."):
        return "backbone.stem.1." + name[len("bn1."):]
    m = _BLOCK.match(name)
    if not m:
        return None
    stage, block, part, leaf = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    table = _INVERTED_RESIDUAL if (stage, block) in expanding_blocks else _DEPTHWISE_SEPARABLE
    if part not in table:
        return None
    return f"backbone.stages.{stage}.{block}.{table[part]}.{leaf}"


def expanding_blocks(names: list[str]) -> set[tuple[int, int]]:
    """(stage, block) of every timm block with an expansion conv, from the key names."""
    found = set()
    for name in names:
        m = re.match(r"(?:backbone\.)?blocks\.(\d+)\.(\d+)\.conv_pwl\.", name)
        if m:
            found.add((int(m.group(1)), int(m.group(2))))
    return found


_RESAMPLE = re.compile(r"fpn\.resample\.3\.conv\.(conv|bn)\.(.+)$")
_COMBINE_W = re.compile(r"fpn\.cell\.(\d+)\.fnode\.(\d+)\.combine\.edge_weights$")
_COMBINE_RS = re.compile(r"fpn\.cell\.(\d+)\.fnode\.(\d+)\.combine\.resample\.(\d+)\.conv\.(conv|bn)\.(.+)$")
_AFTER = re.compile(r"fpn\.cell\.(\d+)\.fnode\.(\d+)\.after_combine\.conv\.(conv_dw|conv_pw|bn)\.(.+)$")
_HEAD_CONV = re.compile(r"(class_net|box_net)\.conv_rep\.(\d+)\.(conv_dw|conv_pw)\.(weight|bias)$")
_HEAD_BN = re.compile(r"(class_net|box_net)\.bn_rep\.(\d+)\.(\d+)\.bn\.(.+)$")
_HEAD_PRED = re.compile(r"(class_net|box_net)\.predict\.(conv_dw|conv_pw)\.(weight|bias)$")
_SEPARABLE = {"conv_dw": "depthwise", "conv_pw": "pointwise"}


def _conv_bn(prefix: str, part: str, leaf: str) -> Mapped:
    """A 1x1 conv + BN pair that edgedet keeps as ``prefix.0`` (conv) / ``prefix.1`` (BN)."""
    if part == "bn":
        return Mapped(f"{prefix}.1.{leaf}")
    if leaf == "bias":
        return Mapped(fold_into_bn=f"{prefix}.1")
    return Mapped(f"{prefix}.0.{leaf}")


def effdet_key(name: str, expanding: set[tuple[int, int]]) -> Optional[Mapped]:
    """One effdet EfficientDet key -> where it goes in edgedet; None if nothing matches."""
    if name.startswith("backbone."):
        key = backbone_key(name[len("backbone."):], expanding)
        return Mapped(key) if key else None
    m = _RESAMPLE.match(name)
    if m:
        return _conv_bn("fpn.extra.p6_lateral", m.group(1), m.group(2))
    m = _COMBINE_W.match(name)
    if m and int(m.group(2)) < len(BIFPN_NODES):
        return Mapped(f"fpn.layers.{m.group(1)}.{BIFPN_NODES[int(m.group(2))]}.weights")
    m = _COMBINE_RS.match(name)
    if m and int(m.group(2)) < len(BIFPN_NODES):
        node = int(m.group(2))
        offset = int(m.group(3))
        if offset not in BIFPN_NODE_INPUTS[node]:
            return None
        index = BIFPN_NODE_INPUTS[node].index(offset)
        prefix = f"fpn.layers.{m.group(1)}.{BIFPN_NODES[node]}.laterals.{index}"
        return _conv_bn(prefix, m.group(4), m.group(5))
    m = _AFTER.match(name)
    if m and int(m.group(2)) < len(BIFPN_NODES):
        node = f"fpn.layers.{m.group(1)}.{BIFPN_NODES[int(m.group(2))]}"
        part, leaf = m.group(3), m.group(4)
        if part == "bn":
            return Mapped(f"{node}.bn.{leaf}")
        if part == "conv_pw" and leaf == "bias":
            return Mapped(fold_into_bn=f"{node}.bn")
        return Mapped(f"{node}.conv.{_SEPARABLE[part]}.{leaf}")
    m = _HEAD_CONV.match(name)
    if m:
        return Mapped(f"{m.group(1)}.convs.{m.group(2)}.{_SEPARABLE[m.group(3)]}.{m.group(4)}")
    m = _HEAD_BN.match(name)
    if m:  # effdet: bn_rep[layer][level]; edgedet: norms[level][layer]
        return Mapped(f"{m.group(1)}.norms.{m.group(3)}.{m.group(2)}.{m.group(4)}")
    m = _HEAD_PRED.match(name)
    if m:
        return Mapped(f"{m.group(1)}.predict.{_SEPARABLE[m.group(2)]}.{m.group(3)}")
    return None
