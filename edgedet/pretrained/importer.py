"""effdet EfficientDet checkpoints and timm EfficientNet classifiers -> edgedet checkpoints.

What a file is comes from :mod:`edgedet.pretrained.identify` (keys and shapes only). The TF
ports (``tf_efficientdet_*``) get TF "SAME" padding and backbone BatchNorm eps 1e-3; effdet's
PyTorch-trained models symmetric padding and timm's eps 1e-5 (see :mod:`edgedet.variant`).
Every key is checked: errors name the missing, unexpected and mis-shaped ones.

Redundant biases sit right before a BatchNorm, so they are folded into its running mean
(``bn(conv(x) + b)`` has mean ``mu - b`` in place of ``mu``): exact in eval mode, and in
training mode a bias before BatchNorm cancels anyway. edgedet's modules keep one layout.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Optional

import torch

from edgedet import configs
from edgedet.checkpoint import CHECKPOINT_KIND, save_checkpoint
from edgedet.errors import InvalidInputError, ModelLoadError
from edgedet.fileio import PathLike, existing_file
from edgedet.metadata import ModelMetadata, make_metadata
from edgedet.model import EfficientDet, build_model
from edgedet.pretrained.coco import COCO90_CLASS_NAMES
from edgedet.pretrained.identify import SHOWN, SourceInfo, describe
from edgedet.pretrained.keymap import (
    TIMM_CLASSIFIER_PARTS, Mapped, backbone_key, effdet_key, expanding_blocks,
)
from edgedet.variant import ModelVariant
from edgedet.input_size import SizeLike
from edgedet.input_size import check_input_size

# effdet's anchor shapes per location, (width, height) multipliers in its head-output order.
EFFDET_ASPECT_MULTIPLIERS = ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))
TF_PORT = ModelVariant(padding="tf_same", backbone_bn_eps=1e-3)
PYTORCH_TRAINED = ModelVariant(padding="symmetric", backbone_bn_eps=1e-5)
VARIANTS = {"tf": TF_PORT, "pytorch": PYTORCH_TRAINED}

# Wrappers that training scripts put around a state dict, most preferred first.
_WRAPPER_KEYS = ("state_dict_ema", "model_ema", "state_dict", "model")
_PREFIXES = ("module.", "model.")
# Start of a file torch.save wrote in its pre-1.6 (non-zip) format: pickle protocol 2, then
# torch's magic number. effdet's 2020 releases may be in it; weights_only loading reads it.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19"


# -- reading ------------------------------------------------------------------------------
def read_state_dict(path: PathLike) -> dict[str, torch.Tensor]:
    """Load a plain PyTorch state dict (weights only), unwrapping common training wrappers
    (``state_dict_ema``, ``state_dict``, ``model``) and ``module.`` / ``model.`` prefixes."""
    p = existing_file(path, "weights file")
    if not zipfile.is_zipfile(p) and not _starts_with(p, _LEGACY_TORCH_MAGIC):
        raise ModelLoadError(f"{p} is not a PyTorch weights file (neither a zip archive nor "
                             "torch's legacy format; truncated?)")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise ModelLoadError(f"{p}: cannot read weights ({type(exc).__name__}: {exc})") from exc
    if isinstance(state, dict) and state.get("kind") == CHECKPOINT_KIND:
        raise InvalidInputError(f"{p} is already an edgedet checkpoint; use it directly "
                                "(e.g. `edgedet train --weights` or `edgedet convert`)")
    if isinstance(state, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(state.get(key), dict) and state[key]:
                state = state[key]
                break
    if not isinstance(state, dict) or not state:
        raise ModelLoadError(f"{p} holds {type(state).__name__}, not a state dict (name -> tensor)")
    not_tensors = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ModelLoadError(f"{p}: {len(not_tensors)} entr(ies) are not tensors, e.g. "
                             f"{not_tensors[:SHOWN]}; expected a plain state dict")
    for prefix in _PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def _starts_with(path: Path, prefix: bytes) -> bool:
    with open(path, "rb") as f:
        return f.read(len(prefix)) == prefix


# -- mapping ------------------------------------------------------------------------------
def _mismatch_error(source: str, info: SourceInfo, model: str, missing: list[str],
                    unexpected: list[str], misshaped: list[str]) -> ModelLoadError:
    parts = []
    for what, items in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped)):
        if items:
            more = f" (+{len(items) - SHOWN} more)" if len(items) > SHOWN else ""
            parts.append(f"{len(items)} {what}: {'; '.join(items[:SHOWN])}{more}")
    return ModelLoadError(f"{source}: does not map onto an edgedet {model.upper()}: "
                          + " | ".join(parts) + f". The file looks like {info.description}.")


def _map_into(target: EfficientDet, mapped: dict[str, tuple[str, Mapped]],
              state: dict[str, torch.Tensor], fill: set[str], zero_fill: set[str],
              source: str, info: SourceInfo) -> None:
    """Copy ``mapped`` tensors into ``target``; fold redundant biases; check every key."""
    expected = target.state_dict()
    values: dict[str, torch.Tensor] = {}
    misshaped, unexpected, folds = [], [], []
    seen = set()  # edgedet keys some source tensor was meant for (mis-shaped ones included)
    for src, (status, where) in mapped.items():
        if status == "unmapped":
            continue
        tensor = state[src]
        if where.fold_into_bn is not None:
            folds.append((src, where.fold_into_bn, tensor))
            continue
        if where.key not in expected:
            unexpected.append(f"{src} (-> {where.key})")
            continue
        seen.add(where.key)
        if tuple(tensor.shape) != tuple(expected[where.key].shape):
            misshaped.append(f"{src} is {list(tensor.shape)}, {where.key} needs "
                             f"{list(expected[where.key].shape)}")
        else:
            values[where.key] = tensor
    unexpected += [src for src, (status, _) in mapped.items() if status == "unmapped"]
    for src, bn, bias in folds:
        mean_key = f"{bn}.running_mean"
        if mean_key not in expected:
            unexpected.append(f"{src} (bias before {bn})")
        elif tuple(bias.shape) != tuple(expected[mean_key].shape):
            misshaped.append(f"{src} is {list(bias.shape)}, {mean_key} needs {list(expected[mean_key].shape)}")
    missing = [k for k in expected if k not in seen and k not in fill and k not in zero_fill]
    if missing or unexpected or misshaped:
        raise _mismatch_error(source, info, target.config.name, missing, sorted(unexpected), misshaped)
    for key in zero_fill - set(values):
        values[key] = torch.zeros_like(expected[key])
    for key in fill - set(values):
        values[key] = expected[key]
    values = {k: v.detach().clone().to(expected[k].dtype) for k, v in values.items()}
    for src, bn, bias in folds:
        values[f"{bn}.running_mean"] = values[f"{bn}.running_mean"] - bias.to(torch.float32)
    target.load_state_dict(values, strict=True)


def _head_biases(model: EfficientDet) -> set[str]:
    """edgedet's head convs have a bias; effdet's PyTorch-trained heads do not (zero)."""
    return {k for k in model.state_dict() if ".convs." in k and k.endswith("pointwise.bias")}


def effdet_model(state: dict[str, torch.Tensor], source: str = "weights",
                 variant: Optional[str] = None) -> tuple[EfficientDet, SourceInfo, ModelVariant]:
    """Build the edgedet model that reproduces an effdet EfficientDet state dict.

    ``variant`` ("tf" / "pytorch") overrides what the keys say. Raises ModelLoadError naming
    missing, unexpected and mis-shaped keys (the first few of each) when the file does not fit.
    """
    info = describe(state)
    if info.kind != "effdet":
        raise ModelLoadError(f"{source}: expected an effdet EfficientDet; it is {info.description}")
    if info.model is None:
        raise ModelLoadError(f"{source}: no edgedet model has this shape; the file is {info.description}")
    if info.num_classes is None or 4 * len(EFFDET_ASPECT_MULTIPLIERS) * configs.NUM_SCALES != \
            state["box_net.predict.conv_pw.weight"].shape[0]:
        raise ModelLoadError(f"{source}: edgedet models have {configs.NUM_SCALES * 3} anchors per "
                             f"location; the file is {info.description}")
    chosen = VARIANTS[variant or info.variant_name]
    model = build_model(info.model, info.num_classes, chosen)
    expanding = expanding_blocks(list(state))
    mapped = {}
    for key in state:
        where = effdet_key(key, expanding)
        mapped[key] = ("unmapped", Mapped()) if where is None else ("mapped", where)
    _map_into(model, mapped, state, fill={"pixel_mean", "pixel_inv_std"},
              zero_fill=_head_biases(model), source=source, info=info)
    return model.eval(), info, chosen


def timm_backbone_model(state: dict[str, torch.Tensor], num_classes: int, source: str = "weights",
                        variant: str = "pytorch", seed: int = 0) -> tuple[EfficientDet, SourceInfo, ModelVariant]:
    """A fresh D0/D1/D2 (random BiFPN and heads, seeded) whose backbone holds a timm
    EfficientNet-B0/B1/B2 classifier's trunk. The classifier's own head is dropped."""
    info = describe(state)
    if info.kind != "timm":
        raise ModelLoadError(f"{source}: expected a timm EfficientNet classifier; it is {info.description}")
    if info.model is None:
        raise ModelLoadError(f"{source}: not an EfficientNet-B0/B1/B2 trunk; the file is {info.description}")
    chosen = VARIANTS[variant]
    torch.manual_seed(seed)
    model = build_model(info.model, num_classes, chosen)
    expanding = expanding_blocks(list(state))
    mapped = {}
    for key in state:
        if key.startswith(TIMM_CLASSIFIER_PARTS):
            continue
        target = backbone_key(key, expanding)
        mapped[key] = ("unmapped", Mapped()) if target is None else ("mapped", Mapped(target))
    rest = {k for k in model.state_dict() if not k.startswith("backbone.")}
    _map_into(model, mapped, state, fill=rest, zero_fill=set(), source=source, info=info)
    return model.eval(), info, chosen


# -- files --------------------------------------------------------------------------------
def import_weights(source: PathLike, out: PathLike, input_size: Optional[SizeLike] = None,
                   variant: Optional[str] = None, class_names: Optional[list[str]] = None,
                   overwrite: bool = False) -> tuple[ModelMetadata, SourceInfo]:
    """Turn an effdet checkpoint or a timm EfficientNet-B0..B2 classifier into an edgedet
    checkpoint at ``out``. Returns ``(metadata written, what the source looked like)``.

    effdet: every weight is kept; 90-class files get COCO names in effdet's 90-id layout, other
    class counts need ``class_names``. timm: a fresh D0..D2 with that backbone, classes
    ``class_names`` (default ``["object"]``), ``variant`` "pytorch" (timm's ``efficientnet_b*``)
    unless "tf" (``tf_efficientnet_b*``): the two have identical keys.
    """
    if variant is not None and variant not in VARIANTS:
        raise InvalidInputError(f"variant must be one of {sorted(VARIANTS)} (or omitted), got {variant!r}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise InvalidInputError(f"{out} already exists; pass --force to overwrite it")
    if input_size is not None:
        check_input_size(input_size)
    state = read_state_dict(source)
    info = describe(state)
    if info.kind == "effdet":
        model, info, chosen = effdet_model(state, str(source), variant)
        if class_names is None:
            if info.num_classes != len(COCO90_CLASS_NAMES):
                raise InvalidInputError(
                    f"{source} has {info.num_classes} classes, not effdet's 90 COCO ids: give their "
                    "names in head order (--classes)")
            class_names = list(COCO90_CLASS_NAMES)
        aspects: Optional[tuple] = EFFDET_ASPECT_MULTIPLIERS
        dataset = "COCO (effdet weights)" if class_names == COCO90_CLASS_NAMES else "effdet weights"
    else:
        class_names = list(class_names) if class_names else ["object"]
        model, info, chosen = timm_backbone_model(state, len(class_names), str(source), variant or "pytorch")
        aspects, dataset = None, ""  # fresh heads: edgedet's own anchor layout
    if len(class_names) != model.num_classes:
        raise InvalidInputError(f"{len(class_names)} class name(s) given, the model has {model.num_classes} classes")
    if len(set(class_names)) != len(class_names):
        raise InvalidInputError(f"class names must be unique, got {class_names}")
    metadata = make_metadata(info.model, class_names, input_size, dataset=dataset, variant=chosen,
                             aspect_multipliers=aspects)
    extra: dict[str, Any] = {"imported_from": {"file": Path(source).name, "kind": info.kind,
                                               "description": info.description}}
    save_checkpoint(out, model, metadata, extra=extra)
    return metadata, info
