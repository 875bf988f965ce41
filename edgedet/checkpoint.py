"""Checkpoints: model weights + metadata (+ optional training state) in one torch file.

Loaded with ``torch.load(weights_only=True)``: everything stored is tensors or plain
Python containers of str/int/float.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Optional

import torch

from edgedet.errors import ModelLoadError
from edgedet.fileio import PathLike, atomic_path, existing_file
from edgedet.metadata import ModelMetadata, make_metadata
from edgedet.model import EfficientDet, build_model
from edgedet.input_size import SizeLike

CHECKPOINT_KIND = "edgedet-checkpoint"


def save_checkpoint(path: PathLike, model: EfficientDet, metadata: ModelMetadata,
                    extra: Optional[dict[str, Any]] = None) -> None:
    """Write ``model``'s weights and ``metadata`` (and ``extra`` training state) atomically."""
    state = {
        "kind": CHECKPOINT_KIND,
        "metadata": metadata.to_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    if extra:
        state.update(extra)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_checkpoint(path: PathLike) -> dict[str, Any]:
    """Load a checkpoint dict (weights-only), with clear errors for bad files."""
    p = existing_file(path, "checkpoint")
    if not zipfile.is_zipfile(p):
        raise ModelLoadError(f"{p} is not a PyTorch checkpoint (not a zip archive; truncated?)")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise ModelLoadError(f"{p}: cannot read checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
        raise ModelLoadError(
            f"{p} is a torch file but not an edgedet checkpoint; create one with "
            "`edgedet init` or `edgedet train`"
        )
    return state


def load_checkpoint(path: PathLike, use_ema: bool = True) -> tuple[EfficientDet, ModelMetadata]:
    """Rebuild the model from a checkpoint; returns ``(model in eval mode, metadata)``.

    Training checkpoints may carry EMA weights (``"ema"``); they are preferred when present.
    """
    state = read_checkpoint(path)
    if "metadata" not in state:
        raise ModelLoadError(f"{path}: checkpoint has no 'metadata' record (input size, classes, "
                             "anchors); re-save it with edgedet")
    metadata = ModelMetadata.from_dict(state["metadata"], source=str(path))
    model = build_model(metadata.model, metadata.num_classes, metadata.variant)
    weights = state.get("ema") if use_ema and state.get("ema") else state["model"]
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise ModelLoadError(f"{path}: weights do not match a {metadata.model} ({exc})") from exc
    return model.eval(), metadata


def init_checkpoint(path: PathLike, model_name: str, class_names: list[str],
                    input_size: Optional[SizeLike] = None, seed: int = 0) -> ModelMetadata:
    """Write a randomly initialized checkpoint; returns its metadata."""
    torch.manual_seed(seed)
    metadata = make_metadata(model_name, class_names, input_size)
    model = build_model(metadata.model, metadata.num_classes)
    save_checkpoint(Path(path), model, metadata)
    return metadata
