"""Augmentation keeps boxes on their objects (draw-and-check) and matches the runtime letterbox."""
from __future__ import annotations

import numpy as np
import pytest

from edgedet.data.augment import AugmentConfig, augment
from edgedet.runtimes.preprocess import letterbox

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
BOXES = np.array([[10, 10, 70, 50], [100, 20, 180, 110], [30, 80, 90, 150], [200, 60, 290, 150]],
                 dtype=np.float32)


def _scene() -> np.ndarray:
    image = np.zeros((160, 300, 3), np.uint8)
    for (x1, y1, x2, y2), color in zip(BOXES.astype(int), COLORS):
        image[y1:y2, x1:x2] = color
    return image


def _colour_extent(image: np.ndarray, color) -> tuple[np.ndarray, int]:
    mask = (np.abs(image.astype(int) - np.array(color)).sum(axis=2) < 60)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.zeros(4), 0
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32), int(mask.sum())


@pytest.mark.parametrize("seed", range(12))
def test_boxes_follow_their_objects(seed):
    image = _scene()
    rng = np.random.default_rng(seed)
    out, boxes, ids = augment(image, BOXES, np.arange(4), 128, AugmentConfig(0.3, 2.0, 0.5), rng)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    assert len(boxes) == len(ids)
    for k in range(4):
        extent, area = _colour_extent(out, COLORS[k])
        if k in ids:
            box = boxes[list(ids).index(k)]
            np.testing.assert_allclose(box, extent, atol=2.0, err_msg=f"object {k}, seed {seed}")
        else:
            # A dropped object must be gone from view, or a sliver of it.
            assert area == 0 or min(extent[2] - extent[0], extent[3] - extent[1]) <= 3


def test_scale_one_without_flip_is_the_runtime_letterbox():
    image = _scene()
    out, boxes, _ = augment(image, BOXES, np.arange(4), 256, AugmentConfig(1.0, 1.0, 0.0),
                            np.random.default_rng(0), pad_value=114)
    expected, info = letterbox(image, 256, 114)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(boxes, BOXES * np.array([info.scale_x, info.scale_y] * 2), rtol=1e-6)


def test_flip_mirrors_boxes():
    image = _scene()
    out, boxes, _ = augment(image, BOXES, np.arange(4), 320, AugmentConfig(1.0, 1.0, 1.0),
                            np.random.default_rng(0))
    extent, _ = _colour_extent(out, COLORS[0])
    np.testing.assert_allclose(boxes[0], extent, atol=2.0)
    assert boxes[0][0] > 300 * 320 / 300 - 80  # the left-most object now sits on the right
