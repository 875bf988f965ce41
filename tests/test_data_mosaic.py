"""Mosaic and colour jitter: boxes stay on their objects, objects keep their size, randomness
is a function of the seed, and a run without mosaic samples exactly as before."""
from __future__ import annotations

import numpy as np
import pytest

from edgedet.data.augment import AugmentConfig, augment, jitter_colour
from edgedet.data.mosaic import mosaic

pytestmark = pytest.mark.fast

PAD = 114
# One coloured object per source image, so each output box can be checked against its pixels.
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
OBJECT = np.array([[200, 150, 260, 200]], dtype=np.float32)  # 60 x 50 px in a 640x480 image


def _tiles() -> list:
    tiles = []
    for k, color in enumerate(COLORS):
        image = np.zeros((480, 640, 3), np.uint8)
        x1, y1, x2, y2 = OBJECT[0].astype(int)
        image[y1:y2, x1:x2] = color
        tiles.append((image, OBJECT.copy(), np.array([k])))
    return tiles


def _extent(image: np.ndarray, color) -> np.ndarray | None:
    ys, xs = np.nonzero((np.abs(image.astype(int) - np.array(color)).sum(axis=2) < 60))
    return None if len(xs) == 0 else np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize("seed", range(10))
def test_mosaic_boxes_follow_their_objects(seed):
    out, boxes, ids = mosaic(_tiles(), (256, 192), AugmentConfig(0.5, 1.5, 0.5),
                             np.random.default_rng(seed), PAD)
    assert out.shape == (192, 256, 3) and out.dtype == np.uint8
    assert len(boxes) == len(ids) and set(ids) <= {0, 1, 2, 3}
    for k, color in enumerate(COLORS):
        extent = _extent(out, color)
        if k in ids:
            np.testing.assert_allclose(boxes[list(ids).index(k)], extent, atol=2.0,
                                       err_msg=f"tile {k}, seed {seed}")
        else:  # dropped: out of its window, or a sliver at the border
            assert extent is None or min(extent[2] - extent[0], extent[3] - extent[1]) <= 3


def test_mosaic_keeps_object_size_at_scale_one():
    # Alone, a 640x480 image fills a 256x192 input at 0.4x: its 60x50 object becomes 24x20.
    # Each tile shows its image at that size too; window edges only make boxes smaller.
    sizes = []
    for seed in range(20):
        _, boxes, _ = mosaic(_tiles(), (256, 192), AugmentConfig(1.0, 1.0, 0.0),
                             np.random.default_rng(seed), PAD)
        sizes += [(b[2] - b[0], b[3] - b[1]) for b in boxes]
    sizes = np.array(sizes)
    assert (sizes <= np.array([24, 20]) + 1.0).all()
    assert (np.abs(sizes - (24, 20)) < 1.0).all(axis=1).sum() >= 5


def test_mosaic_is_a_function_of_the_seed():
    a = mosaic(_tiles(), (128, 128), AugmentConfig(0.3, 2.0), np.random.default_rng(7), PAD)
    b = mosaic(_tiles(), (128, 128), AugmentConfig(0.3, 2.0), np.random.default_rng(7), PAD)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_mosaic_needs_four_images():
    with pytest.raises(ValueError, match="4 images"):
        mosaic(_tiles()[:3], (128, 128), AugmentConfig(), np.random.default_rng(0), PAD)


def test_colour_jitter_changes_colour_not_grey_or_shape():
    rng = np.random.default_rng(0)
    image = np.zeros((8, 8, 3), np.uint8)
    image[:4] = (200, 60, 40)
    image[4:] = PAD
    out = jitter_colour(image, (0.1, 0.5, 0.0), rng)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not np.array_equal(out[:4], image[:4])
    np.testing.assert_array_equal(out[4:], image[4:])  # no saturation: hue and saturation leave grey alone
    assert jitter_colour(image, (0.0, 0.0, 0.0), rng) is image


def test_augment_padding_stays_the_pad_value_under_colour_jitter():
    image = np.full((100, 300, 3), (180, 40, 90), np.uint8)
    out, _, _ = augment(image, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), 128,
                        AugmentConfig(1.0, 1.0, 0.0, hsv_gains=(0.02, 0.7, 0.4)),
                        np.random.default_rng(3), PAD)
    assert (out[50:] == PAD).all()  # the letterbox's rows below the image
