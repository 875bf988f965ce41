"""Mosaic augmentation: four training images in one input, split at a random centre.

Each quadrant shows a random window of its image at the size the image would have alone in
the whole input (times the scale jitter), so objects keep their usual size while each input
holds four images' worth of context and boxes cut at tile borders. YOLO-style detectors
gain most of their small-data accuracy from this; it is turned off for the last epochs so
the model ends on inputs shaped like the runtime's letterbox.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from edgedet.data.augment import AugmentConfig, augment

# The split point is drawn from this central share of each side, so no quadrant is a sliver.
CENTRE_RANGE = (0.25, 0.75)

Labelled = tuple[np.ndarray, np.ndarray, np.ndarray]  # image HxWx3, boxes [K, 4], class ids [K]


def mosaic(tiles: Sequence[Labelled], size: tuple[int, int], config: AugmentConfig,
           rng: np.random.Generator, pad_value: int) -> Labelled:
    """Compose four ``(image, boxes, class_ids)`` into one ``size`` (width, height) input.

    Tiles go top-left, top-right, bottom-left, bottom-right. Returns the input and the boxes
    (input pixels, clipped to their quadrant, slivers dropped) with their class ids.
    """
    if len(tiles) != 4:
        raise ValueError(f"mosaic needs 4 images, got {len(tiles)}")
    width, height = size
    cx = int(round(width * rng.uniform(*CENTRE_RANGE)))
    cy = int(round(height * rng.uniform(*CENTRE_RANGE)))
    quadrants = ((0, 0, cx, cy), (cx, 0, width, cy), (0, cy, cx, height), (cx, cy, width, height))
    canvas = np.full((height, width, 3), pad_value, dtype=np.uint8)
    all_boxes, all_ids = [], []
    for (image, boxes, class_ids), (x0, y0, x1, y1) in zip(tiles, quadrants):
        qw, qh = x1 - x0, y1 - y0
        h, w = image.shape[:2]
        # augment's scale is relative to fitting the quadrant; this factor makes it relative
        # to fitting the whole input, as a plain augmented image is.
        to_full = min(width / w, height / h) / min(qw / w, qh / h)
        tile, kept, ids = augment(image, boxes, np.asarray(class_ids), (qw, qh), config, rng,
                                  pad_value, scale_factor=to_full)
        canvas[y0:y1, x0:x1] = tile
        all_boxes.append(kept + np.array([x0, y0, x0, y0], dtype=np.float32))
        all_ids.append(ids)
    return canvas, np.concatenate(all_boxes).reshape(-1, 4), np.concatenate(all_ids).astype(np.int64)
