"""edgedet: EfficientDet D0-D2 from a labelled dataset to a fast CPU deployment.

``from edgedet import Detector`` works without torch installed; training and export import
torch only where they need it.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Detector", "Detections", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import edgedet` stays light (no cv2/onnxruntime until used).
    if name in ("Detector", "Detections"):
        from edgedet import runtimes

        return getattr(runtimes, name)
    raise AttributeError(f"module 'edgedet' has no attribute {name!r}")
