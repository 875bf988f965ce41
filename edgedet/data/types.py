"""The one sample type every dataset reader produces."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class Sample:
    """One labelled image: boxes are (x1, y1, x2, y2) in the image's own pixels."""

    image_path: Path
    boxes: np.ndarray  # float32 [K, 4]
    class_ids: np.ndarray  # int64 [K]
    width: int
    height: int


@dataclass
class Dataset:
    """A split of a dataset, whatever its on-disk format."""

    name: str
    root: Path
    split: str
    class_names: list[str]
    samples: list[Sample]

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def num_boxes(self) -> int:
        return sum(len(s.boxes) for s in self.samples)


