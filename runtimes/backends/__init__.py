"""One adapter per model format. ``open_backend`` picks it from the file's content."""
from __future__ import annotations

import inspect
from pathlib import Path

from edgedet.errors import InvalidInputError
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import FORMATS, sniff_format


def open_backend(path: str | Path, num_threads: int = 1, backend: str | None = None,
                 **options) -> Backend:
    """Open ``path`` with the adapter for its format (or the one named by ``backend``)."""
    found = sniff_format(path)
    fmt = found if backend is None else str(backend).lower()
    adapter = _adapter(fmt)
    if fmt != found:
        raise InvalidInputError(
            f"{path} is a{'n' if found[0] in 'aeio' else ''} {FORMAT_NAMES[found]} file, but "
            f"backend={backend!r} reads {FORMAT_NAMES[fmt]} files; leave backend unset to pick "
            "the backend from the file")
    accepted = [p for p in inspect.signature(adapter).parameters if p not in ("path", "num_threads")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {', '.join(unknown)} for the {fmt} backend; it accepts "
            f"{', '.join(accepted) or 'no extra options'}")
    return adapter(path, num_threads=num_threads, **options)


FORMAT_NAMES = {"torch": "PyTorch checkpoint (.pt)", "onnx": "ONNX model (.onnx)",
                "openvino": "OpenVINO IR (.xml + .bin)", "tflite": "TFLite model (.tflite)"}


def _adapter(fmt: str) -> type[Backend]:
    if fmt == "onnx":
        from edgedet.runtimes.backends.onnx_backend import OnnxBackend

        return OnnxBackend
    if fmt == "torch":
        from edgedet.runtimes.backends.torch_backend import TorchBackend

        return TorchBackend
    if fmt == "openvino":
        from edgedet.runtimes.backends.openvino_backend import OpenVinoBackend

        return OpenVinoBackend
    if fmt == "tflite":
        from edgedet.runtimes.backends.tflite_backend import TfliteBackend

        return TfliteBackend
    raise InvalidInputError(f"unknown backend {fmt!r}: expected one of {', '.join(FORMATS)}")


__all__ = ["Backend", "open_backend"]
