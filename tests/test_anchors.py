"""Anchor grid layout and box coding."""
import numpy as np
import pytest

from edgedet.anchors import AnchorSpec, box_iou, decode_boxes, encode_boxes, generate_anchors

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def test_d0_anchor_count():
    spec = AnchorSpec(512)
    assert spec.num_anchors == 49104
    assert generate_anchors(spec).shape == (49104, 4)


def test_anchor_layout_level_row_column_anchor():
    spec = AnchorSpec(256)
    anchors = generate_anchors(spec)
    centers = (anchors[:, :2] + anchors[:, 2:]) / 2
    sizes = anchors[:, 2:] - anchors[:, :2]
    # First location of P3: 9 anchors centred at (4, 4), base size 4 * 8 = 32.
    assert np.allclose(centers[:9], 4.0)
    ratios = sizes[:3, 0] / sizes[:3, 1]
    assert np.allclose(ratios, [0.5, 1.0, 2.0], rtol=1e-5)
    assert np.allclose(np.sqrt(sizes[:3].prod(1)), 32.0)
    assert np.allclose(np.sqrt(sizes[3:6].prod(1)), 32.0 * 2 ** (1 / 3))
    # Second location moves along the row (x) first.
    assert np.allclose(centers[9], [12.0, 4.0])
    # Row-major: location 32 of P3 (32x32 grid) starts row 1.
    assert np.allclose(centers[32 * 9], [4.0, 12.0])
    # Last anchors belong to P7 (stride 128): the last location's centre is (192, 192).
    assert np.allclose(centers[-1], [192.0, 192.0])
    assert np.allclose(np.sqrt(sizes[-1].prod()), 4 * 128 * 2 ** (2 / 3), rtol=1e-5)
    per_level = [rows * cols * 9 for rows, cols in spec.feature_sizes()]
    assert spec.feature_sizes() == [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]
    assert sum(per_level) == len(anchors)


def test_decode_inverts_encode():
    rng = np.random.default_rng(0)
    anchors = generate_anchors(AnchorSpec(256))
    idx = rng.choice(len(anchors), 500, replace=False)
    a = anchors[idx]
    xy = rng.uniform(0, 200, (500, 2))
    wh = rng.uniform(2, 150, (500, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    codes = encode_boxes(boxes, a)
    assert np.allclose(decode_boxes(codes, a), boxes, atol=1e-3)


def test_codes_follow_ty_tx_th_tw_convention():
    anchor = np.array([[0, 0, 10, 20]], np.float32)  # w=10, h=20, centre (5, 10)
    box = np.array([[2, 4, 12, 24]], np.float32)  # moved +2 in x, +4 in y; same size
    ty, tx, th, tw = encode_boxes(box, anchor)[0]
    assert (ty, tx) == pytest.approx((4 / 20, 2 / 10))
    assert (th, tw) == pytest.approx((0.0, 0.0), abs=1e-6)


def test_box_iou():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert np.allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0]])
