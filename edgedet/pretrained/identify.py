"""What a weights file is, from its key names and tensor shapes only (never its file name).

An effdet EfficientDet is matched to a row of ``edgedet/configs.py`` by BiFPN width, BiFPN cell
count and head depth; its variant by effdet's redundant BiFPN biases, which only the TF ports
(``tf_efficientdet_*``) carry. A timm EfficientNet classifier is matched to the B0/B1/B2 trunk
with its block count and last block width.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from edgedet import configs
from edgedet.errors import ModelLoadError

SHOWN = 5  # how many keys of each kind an error lists
# A key of the TF ports' BiFPN that effdet's PyTorch-trained models lack (redundant bias).
_REDUNDANT_BIAS_KEY = "fpn.cell.0.fnode.0.after_combine.conv.conv_pw.bias"


@dataclass(frozen=True)
class SourceInfo:
    """What a weights file looks like, read from its keys and shapes."""

    kind: str  # "effdet" or "timm"
    model: Optional[str]  # edgedet model name (d0..d7) when one matches
    variant_name: Optional[str]  # "tf" / "pytorch" when the keys tell, else None
    num_classes: Optional[int]
    description: str


def _count(keys: list[str], prefix: str) -> int:
    """Number of distinct integer children ``prefix.N.`` among ``keys``."""
    found = {k[len(prefix):].split(".", 1)[0] for k in keys if k.startswith(prefix)}
    return len([n for n in found if n.isdigit()])


def _backbone_blocks(keys: list[str], prefix: str) -> int:
    return len({tuple(k[len(prefix):].split(".")[1:3]) for k in keys if k.startswith(prefix + "blocks.")})


def describe(state: dict[str, torch.Tensor]) -> SourceInfo:
    """Identify an effdet detector or a timm EfficientNet classifier from keys and shapes."""
    keys = list(state)
    if any(k.startswith("fpn.cell.") for k in keys) and any(k.startswith("class_net.") for k in keys):
        return _describe_effdet(state)
    if "conv_stem.weight" in state and any(k.startswith("blocks.") for k in keys):
        blocks = _backbone_blocks(keys, "")
        last = _last_block_channels(state, "")
        model = next((name for name in configs.SUPPORTED_FOR_TRAINING
                      if _trunk_signature(configs.get_config(name).backbone) == (blocks, last)), None)
        desc = (f"a timm EfficientNet classifier with {blocks} blocks, last block {last} channels"
                + (f" (EfficientNet-{configs.get_config(model).backbone[-2:].upper()}, the D{model[1:]} "
                   f"backbone)" if model else " (matches no EfficientNet-B0/B1/B2)"))
        return SourceInfo("timm", model, None, None, desc)
    sample = ", ".join(keys[:SHOWN])
    raise ModelLoadError(
        "neither an effdet EfficientDet nor a timm EfficientNet state dict: no 'fpn.cell.*' + "
        f"'class_net.*' keys and no 'conv_stem.weight' + 'blocks.*' keys (first keys: {sample})"
    )


def _last_block_channels(state: dict[str, torch.Tensor], prefix: str) -> Optional[int]:
    project = [k for k in state if k.startswith(prefix + "blocks.")
               and (k.endswith("conv_pwl.weight") or k.endswith("conv_pw.weight"))]
    if not project:
        return None
    last = max(project, key=lambda k: tuple(int(x) for x in k[len(prefix):].split(".")[1:3]))
    block = last.rsplit(".", 2)[0]
    key = block + ".conv_pwl.weight" if block + ".conv_pwl.weight" in state else block + ".conv_pw.weight"
    return int(state[key].shape[0])


_TRUNKS: dict[str, tuple[int, int]] = {}


def _trunk_signature(backbone: str) -> tuple[int, int]:
    """(block count, channels of the last block) of edgedet's EfficientNet trunk."""
    if backbone not in _TRUNKS:
        from edgedet.model.efficientnet import EfficientNetFeatures

        trunk = EfficientNetFeatures(backbone)
        _TRUNKS[backbone] = (sum(len(s) for s in trunk.stages), trunk.feature_channels[-1])
    return _TRUNKS[backbone]


def _describe_effdet(state: dict[str, torch.Tensor]) -> SourceInfo:
    keys = list(state)
    width_key = "fpn.cell.0.fnode.0.after_combine.conv.conv_pw.weight"
    width = int(state[width_key].shape[0]) if width_key in state else None
    cells = _count(keys, "fpn.cell.")
    head = _count(keys, "class_net.conv_rep.")
    blocks = _backbone_blocks(keys, "backbone.")
    cls_key, box_key = "class_net.predict.conv_pw.weight", "box_net.predict.conv_pw.weight"
    anchors = int(state[box_key].shape[0]) // 4 if box_key in state else None
    classes = (int(state[cls_key].shape[0]) // anchors
               if cls_key in state and anchors and state[cls_key].shape[0] % anchors == 0 else None)
    variant = "tf" if _REDUNDANT_BIAS_KEY in state else "pytorch"
    model = next((c.name for c in configs.MODEL_CONFIGS.values()
                  if (c.fpn_channels, c.fpn_layers, c.head_layers) == (width, cells, head)), None)
    kind = "TF port (tf_efficientdet_*, redundant BiFPN biases)" if variant == "tf" else \
        "effdet PyTorch-trained (efficientdet_*, no redundant biases)"
    desc = (f"an effdet EfficientDet, {kind}: BiFPN width {width}, {cells} BiFPN cells, {head} head "
            f"layers, {blocks} backbone blocks, {anchors} anchors per location, {classes} classes")
    desc += f" -> edgedet {model.upper()}" if model else " -> matches no D0-D7 row of edgedet/configs.py"
    return SourceInfo("effdet", model, variant, classes, desc)
