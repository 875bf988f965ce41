"""The quickstart's showcase verdict: found / wrong label / extra, and the side-by-side picture."""
from pathlib import Path

import numpy as np
import pytest

from edgedet.data.types import Sample
from edgedet.showcase import judge, side_by_side
from edgedet.runtimes.detections import Detections

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

NAMES = ["ellipse", "rectangle", "triangle"]
TRUTH = np.array([[10, 10, 50, 50], [100, 20, 160, 90]], dtype=np.float32)
CLASSES = np.array([0, 2])


def _dets(boxes, scores, classes) -> Detections:
    return Detections(np.array(boxes, dtype=np.float32), np.array(scores), np.array(classes), NAMES)


def test_every_object_found_once_is_all_right():
    verdict = judge(_dets([[11, 9, 51, 49], [100, 22, 158, 90]], [0.9, 0.8], [0, 2]), TRUTH, CLASSES)
    assert (verdict.found, verdict.wrong_label, verdict.extra) == (2, 0, 0) and verdict.all_right


def test_mislabelled_duplicate_and_stray_boxes_are_counted():
    dets = _dets([[100, 20, 160, 90],   # triangle called a rectangle
                  [10, 10, 50, 50],     # ellipse: right
                  [12, 10, 50, 52],     # the same ellipse again
                  [200, 200, 240, 240]],  # nothing there
                 [0.9, 0.8, 0.5, 0.4], [1, 0, 0, 0])
    verdict = judge(dets, TRUTH, CLASSES)
    assert (verdict.found, verdict.wrong_label, verdict.extra) == (1, 1, 2)
    assert not verdict.all_right and "1 of 2 objects" in verdict.summary()


def test_nothing_detected_misses_everything():
    verdict = judge(_dets(np.zeros((0, 4)), [], []), TRUTH, CLASSES)
    assert verdict.found == 0 and not verdict.all_right


def test_side_by_side_is_two_enlarged_panels():
    frame = np.full((64, 80, 3), 128, dtype=np.uint8)
    sample = Sample(Path("x.jpg"), TRUTH[:1] / 2, CLASSES[:1], 80, 64)
    picture = side_by_side(frame, sample, _dets([[5, 5, 25, 25]], [0.9], [0]), scale=2)
    assert picture.shape[1] == 2 * 160 + 8 and picture.shape[0] > 128
    assert (picture[:, :160] != picture[:, 168:]).any()  # the panels differ: scores drawn on the right


def test_score_margin_is_the_gap_between_right_and_wrong_boxes():
    from edgedet.showcase import score_margin

    dets = _dets([[11, 9, 51, 49], [100, 22, 158, 90], [12, 10, 50, 48], [200, 200, 220, 220]],
                 [0.9, 0.7, 0.2, 0.1], [0, 2, 1, 0])
    assert score_margin(dets, TRUTH, CLASSES) == pytest.approx((0.7, 0.2))
    assert score_margin(_dets(np.zeros((0, 4)), [], []), TRUTH, CLASSES) == (0.0, 0.0)
