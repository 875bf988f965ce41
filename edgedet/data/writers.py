"""What the format writers share: one labelled image to write (:class:`Record`) and its JPEG
encoding. Each format's writer lives beside its reader (``coco.write_coco`` ...)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgedet.fileio import atomic_write_bytes


@dataclass
class Record:
    """One image to write: BGR pixels and its boxes (x1, y1, x2, y2 pixels) and class ids."""

    stem: str
    image: np.ndarray
    boxes: np.ndarray
    class_ids: np.ndarray


def write_image(path: Path, image: np.ndarray) -> None:
    """``image`` (BGR) as a quality-95 JPEG at ``path``, written atomically."""
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise OSError(f"could not encode {path}")
    atomic_write_bytes(path, data.tobytes())
