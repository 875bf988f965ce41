"""Runtime: ``Detector`` over any model file, with pre/post-processing in numpy.

Never imports torch at import time; the PyTorch backend imports it only when a checkpoint
is opened. The names below load on first use, so that ``edgedet.runtimes.formats`` (which
the CLI's ``--help`` reads) does not pull in OpenCV.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"Detector": "detector", "DetectorOptions": "options", "Detections": "detections",
            "Detection": "detections"}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
