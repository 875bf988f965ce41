"""One adapter per model format. ``open_backend`` picks it from the file's content."""
from __future__ import annotations

from pathlib import Path

from edgedet.errors import InvalidInputError
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import FORMATS, sniff_format


def open_backend(path: str | Path, num_threads: int = 1, backend: str | None = None,
                 **options) -> Backend:
    """Open ``path`` with the adapter for its format (or the one named by ``backend``)."""
    fmt = backend or sniff_format(path)
    if fmt == "onnx":
        from edgedet.runtimes.backends.onnx_backend import OnnxBackend

        return OnnxBackend(path, num_threads=num_threads, **options)
    if fmt == "torch":
        from edgedet.runtimes.backends.torch_backend import TorchBackend

        return TorchBackend(path, num_threads=num_threads, **options)
    if fmt == "openvino":
        from edgedet.runtimes.backends.openvino_backend import OpenVinoBackend

        return OpenVinoBackend(path, num_threads=num_threads, **options)
    if fmt == "tflite":
        from edgedet.runtimes.backends.tflite_backend import TfliteBackend

        return TfliteBackend(path, num_threads=num_threads, **options)
    raise InvalidInputError(f"unknown backend {fmt!r}: expected one of {', '.join(FORMATS)}")


__all__ = ["Backend", "open_backend"]
