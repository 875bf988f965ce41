"""Converters: one module per target format. ``convert`` dispatches by target name."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from edgedet.errors import InvalidInputError

TARGETS = ("onnx",)
SUFFIXES = {"onnx": ".onnx"}


def _converter(target: str) -> Callable[..., Path]:
    if target == "onnx":
        from edgedet.converters.onnx import convert_to_onnx

        return convert_to_onnx
    raise InvalidInputError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")


def convert(weights: str | Path, target: str, out: str | Path | None = None, **options) -> Path:
    """Convert a checkpoint to ``target``; returns the written path."""
    target = str(target).lower()
    fn = _converter(target)
    out = Path(out) if out else Path(weights).with_suffix(SUFFIXES[target])
    return fn(weights, out, **options)
