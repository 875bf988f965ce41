"""Fine-tuning: start a training run from an edgedet checkpoint (e.g. an imported effdet one).

The backbone, BiFPN and box head are kept. The class head is kept when the class list is the
checkpoint's; when the new classes are all among the checkpoint's (say "person" from COCO) it
is kept and its predictor narrowed to those classes; otherwise it is re-initialized (focal-loss
prior bias), since its outputs would mean other classes. Each case is said in one line.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from edgedet.checkpoint import load_checkpoint, read_checkpoint
from edgedet.errors import InvalidInputError
from edgedet.fileio import PathLike
from edgedet.metadata import ModelMetadata, make_metadata
from edgedet.model import EfficientDet, build_model
from edgedet.input_size import SizeLike


def weights_metadata(weights: PathLike) -> ModelMetadata:
    """The metadata of a checkpoint (model size, input size, classes), without building it."""
    state = read_checkpoint(weights)
    return ModelMetadata.from_dict(state.get("metadata"), source=str(weights))


def _narrow_predictor(head: nn.Module, keep: list[int], old_classes: int) -> None:
    """Keep only classes ``keep`` of a class head's predictor (outputs are anchor-major:
    channel = anchor * classes + class)."""
    conv = head.predict.pointwise
    anchors = conv.out_channels // old_classes
    rows = torch.tensor([a * old_classes + c for a in range(anchors) for c in keep])
    narrowed = nn.Conv2d(conv.in_channels, len(rows), 1, bias=True)
    with torch.no_grad():
        narrowed.weight.copy_(conv.weight[rows])
        narrowed.bias.copy_(conv.bias[rows])
    head.predict.pointwise = narrowed
    head.outputs_per_anchor = len(keep)


def model_from_weights(weights: PathLike, class_names: list[str], input_size: Optional[SizeLike] = None,
                       dataset: str = "", log: Callable[[str], None] = print
                       ) -> tuple[EfficientDet, ModelMetadata]:
    """Build the model a fine-tuning run starts from, and its metadata for ``class_names``.

    The checkpoint's variant (padding, BN eps) and anchor layout carry over; ``input_size``
    defaults to the checkpoint's.
    """
    source, old = load_checkpoint(weights)
    meta = make_metadata(old.model, class_names, input_size or old.input_size, dataset=dataset,
                         variant=old.variant,
                         aspect_multipliers=old.anchors.aspect_multipliers)
    if meta.anchors.anchors_per_location != old.anchors.anchors_per_location:
        raise InvalidInputError(f"{weights}: anchors per location differ from this run's")
    what = f"{weights} ({old.model.upper()}, {old.num_classes} classes)"
    if list(class_names) == list(old.class_names):
        log(f"fine-tuning from {what}: same classes, every weight kept")
        return source.train(), meta
    model = build_model(old.model, len(class_names), old.variant)
    kept = {k: v for k, v in source.state_dict().items() if not k.startswith("class_net.")}
    missing = model.load_state_dict(kept, strict=False).missing_keys
    assert all(k.startswith("class_net.") for k in missing), missing
    if all(name in old.class_names for name in class_names):
        keep = [old.class_names.index(name) for name in class_names]
        model.class_net = source.class_net
        _narrow_predictor(model.class_net, keep, old.num_classes)
        model.num_classes = len(class_names)
        log(f"fine-tuning from {what}: every class is one of the checkpoint's, class head kept "
            f"and narrowed to {len(class_names)}; backbone, BiFPN and box head kept")
    else:
        unknown = [n for n in class_names if n not in old.class_names]
        log(f"fine-tuning from {what}: class list differs ({len(unknown)} new, e.g. {unknown[:3]}), "
            "class head re-initialized (prior-probability bias); backbone, BiFPN and box head kept")
    return model.train(), meta


def freeze_backbone(model: EfficientDet) -> int:
    """Stop training the backbone: no gradients, and its BatchNorm layers stay in eval mode
    (running statistics, not the batch's) however often the trainer calls ``train()``.
    Returns the number of frozen parameters."""
    return set_backbone_frozen(model, True)


def set_backbone_frozen(model: EfficientDet, frozen: bool) -> int:
    """Freeze (see :func:`freeze_backbone`) or unfreeze the backbone; an unfrozen backbone
    trains again, BatchNorm statistics included, from the next ``train()`` call. Returns the
    number of backbone parameters."""
    backbone = model.backbone
    count = 0
    for p in backbone.parameters():
        p.requires_grad_(not frozen)
        count += p.numel()
    if not hasattr(backbone, "edgedet_frozen"):
        backbone.register_forward_pre_hook(_keep_eval_while_frozen)
    backbone.edgedet_frozen = frozen
    return count


def _keep_eval_while_frozen(module: nn.Module, _inputs) -> None:
    if module.training and module.edgedet_frozen:
        module.eval()
