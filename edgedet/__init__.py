"""edgedet: EfficientDet D0-D2 from a labelled dataset to a fast CPU deployment.

``from edgedet import Detector`` works without torch installed; training and export import
torch only where they need it.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

__version__ = "0.1.0"

# converters/, runtimes/ and apps/ sit beside this folder in the source tree and become
# edgedet.converters/... through pyproject's package-dir mapping at install time. In a source
# checkout (installed or not, possibly shadowing an installed copy) map exactly those three
# folders; appending the checkout root to __path__ also made edgedet.tests, edgedet.benchmarks
# and edgedet.edgedet importable.
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_MAPPED_SUBPACKAGES = ("converters", "runtimes", "apps")


class _SourceCheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds edgedet.converters / .runtimes / .apps in the checkout beside this package."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 (importlib protocol)
        prefix, _, name = fullname.partition(".")
        if prefix != __name__ or name not in _MAPPED_SUBPACKAGES:
            return None
        folder = _SOURCE_ROOT / name
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )


if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "runtimes" / "detector.py").is_file():
    if not any(isinstance(f, _SourceCheckoutFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceCheckoutFinder())

__all__ = ["Detector", "DetectorOptions", "Detections", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import edgedet` stays light (no cv2/onnxruntime until used).
    if name in ("Detector", "DetectorOptions", "Detections"):
        from edgedet import runtimes

        return getattr(runtimes, name)
    raise AttributeError(f"module 'edgedet' has no attribute {name!r}")
