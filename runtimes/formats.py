"""Which kind of model file is this? Decided by content first, suffix second."""
from __future__ import annotations

from pathlib import Path

from edgedet.errors import InvalidInputError, ModelLoadError

FORMATS = ("torch", "onnx", "openvino", "tflite")
_SUFFIXES = {".pt": "torch", ".pth": "torch", ".onnx": "onnx", ".xml": "openvino", ".tflite": "tflite"}


def sniff_format(path: str | Path) -> str:
    """Return one of :data:`FORMATS` for ``path``; raise a clear error if it is none."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"model file not found: {p}")
    if p.is_dir():
        raise InvalidInputError(f"model path is a directory, expected a file: {p}")
    with p.open("rb") as f:
        head = f.read(64)
    if not head:
        raise ModelLoadError(f"{p} is empty (0 bytes); re-export the model")
    if head.startswith(b"PK\x03\x04"):
        return "torch"
    if head[4:8] == b"TFL3":
        return "tflite"
    stripped = head.lstrip()
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<net"):
        return "openvino"
    # An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    if head[0] == 0x08:
        return "onnx"
    guess = _SUFFIXES.get(p.suffix.lower())
    raise ModelLoadError(
        f"{p} is not a model file edgedet can read"
        + (f" (its suffix says {guess}, but its content does not match; truncated or corrupt?)" if guess else "")
        + f"; supported: .pt checkpoints, .onnx, OpenVINO .xml, .tflite"
    )
