"""edgedet: EfficientDet D0-D2 from a labelled dataset to a fast CPU deployment.

``from edgedet import Detector`` works without torch installed; training and export import
torch only where they need it.
"""
from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

# converters/, runtimes/ and apps/ sit beside this folder in the source tree and become
# edgedet.converters/... only through pyproject's package-dir mapping at install time. In a
# checkout that is not installed, let the import system find them there too.
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "runtimes" / "detector.py").is_file():
    __path__.append(str(_SOURCE_ROOT))  # noqa: F821 (a package's own __path__)

__all__ = ["Detector", "Detections", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import edgedet` stays light (no cv2/onnxruntime until used).
    if name in ("Detector", "Detections"):
        from edgedet import runtimes

        return getattr(runtimes, name)
    raise AttributeError(f"module 'edgedet' has no attribute {name!r}")
