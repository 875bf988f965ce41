"""The torch side of the data: decode and augment in DataLoader workers (targets are matched
on the training device, see :mod:`edgedet.train.assign`)."""
from __future__ import annotations

import warnings

import cv2
import numpy as np
import torch

from edgedet.data.augment import AugmentConfig, augment
from edgedet.data.cleaning import DatasetWarning
from edgedet.data.mosaic import mosaic
from edgedet.data.types import Dataset
from edgedet.input_size import SizeLike, input_size
from edgedet.metadata import PAD_VALUE
from edgedet.train.loader import sample_key

# How many other samples to try when an image turns out to be unreadable.
_MAX_SUBSTITUTES = 10


class DetectionDataset(torch.utils.data.Dataset):
    """Yields ``(image uint8 [3, H, W] RGB, boxes float32 [K, 4], class_ids int64 [K])`` per
    sample, boxes in input pixels (x1, y1, x2, y2).

    Augmentation randomness is seeded from (seed, epoch, index), so a sample looks the same
    whatever the worker count or after a resume. A key is an index (at the epoch of
    :meth:`set_epoch`) or an ``(epoch, index)`` pair, as :class:`EpochSampler` yields.
    Epochs before ``mosaic_epochs`` make a share of their inputs (the augment config's
    ``mosaic_probability``) from four images; without mosaic a sample's randomness is what it
    was before mosaic existed. Unreadable images are skipped with a warning naming them; a
    neighbouring sample takes their place.
    """

    def __init__(self, dataset: Dataset, image_size: SizeLike, augment_config: AugmentConfig,
                 pad_value: int = PAD_VALUE, seed: int = 0, mosaic_epochs: int = 0):
        self.samples = dataset.samples
        size = input_size(image_size)
        self.size = (size.width, size.height)
        self.augment_config = augment_config
        self.pad_value = pad_value
        self.seed = seed
        self.epoch = 0
        self.mosaic_epochs = mosaic_epochs

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key):
        epoch, index = sample_key(key, self.epoch)
        rng = np.random.default_rng([self.seed, epoch, index])
        config = self.augment_config
        if (config.mosaic_probability > 0 and epoch < self.mosaic_epochs
                and rng.random() < config.mosaic_probability):
            others = rng.integers(0, len(self.samples), 3)
            tiles = [self._read(index)] + [self._read(int(i)) for i in others]
            pixels, boxes, class_ids = mosaic(tiles, self.size, config, rng, self.pad_value)
        else:
            pixels, boxes, class_ids = augment(*self._read(index), self.size, config, rng,
                                               self.pad_value)
        return (torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))),
                torch.from_numpy(np.asarray(boxes, dtype=np.float32).reshape(-1, 4)),
                torch.from_numpy(np.asarray(class_ids, dtype=np.int64)))

    def _read(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(RGB image, boxes in its pixels, class ids) of sample ``index``, or of a readable
        neighbour when its image cannot be read."""
        for attempt in range(_MAX_SUBSTITUTES):
            sample = self.samples[(index + attempt) % len(self.samples)]
            image = cv2.imread(str(sample.image_path), cv2.IMREAD_COLOR)
            if image is not None:
                break
            warnings.warn(f"unreadable image skipped: {sample.image_path}", DatasetWarning)
        else:
            raise RuntimeError(f"{_MAX_SUBSTITUTES} consecutive unreadable images near {sample.image_path}")
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        boxes = sample.boxes
        if image.shape[:2] != (sample.height, sample.width):
            # Annotation size and file disagree; trust the file, boxes are relative to it.
            sx, sy = image.shape[1] / sample.width, image.shape[0] / sample.height
            boxes = boxes * np.array([sx, sy, sx, sy], dtype=np.float32)
        return image, boxes, sample.class_ids
