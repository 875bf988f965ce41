"""Outputs of an in-graph-NMS file -> detections (no model needed)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from edgedet.metadata import InGraphNms
from edgedet.runtimes.ingraph_postprocess import InGraphPostprocessor
from edgedet.runtimes.options import DetectorOptions

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

BAKED = InGraphNms(op="TFLite_Detection_PostProcess", score_threshold=0.1, iou_threshold=0.5,
                   max_detections=4, regular_nms=True)


def _outputs():
    """Four rows, sorted by score as the op writes them; only the first three are valid."""
    boxes = np.array([[0.1, 0.2, 0.5, 0.6],     # ymin, xmin, ymax, xmax (fractions)
                      [0.0, 0.0, 0.25, 0.5],
                      [0.5, 0.5, 1.0, 1.0],
                      [0.9, 0.9, 0.95, 0.95]], np.float32)
    classes = np.array([2, 0, 1, 1], np.float32)
    scores = np.array([0.9, 0.6, 0.2, 0.15], np.float32)
    return boxes, classes, scores, np.array([3], np.float32)


def _post(class_ids=None, **options) -> InGraphPostprocessor:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return InGraphPostprocessor(200, BAKED, DetectorOptions(**options), class_ids=class_ids)


def test_valid_rows_become_pixel_corner_boxes():
    raw = _post(score_threshold=0.1)(*_outputs())
    np.testing.assert_allclose(raw.boxes, [[40, 20, 120, 100], [0, 0, 100, 50], [100, 100, 200, 200]])
    assert raw.class_ids.tolist() == [2, 0, 1]  # the padding row beyond the count is dropped
    np.testing.assert_allclose(raw.scores, [0.9, 0.6, 0.2])


def test_threshold_allow_list_and_max_results_apply():
    assert _post(score_threshold=0.5)(*_outputs()).class_ids.tolist() == [2, 0]
    assert _post(score_threshold=0.1, class_ids=[1, 0])(*_outputs()).class_ids.tolist() == [0, 1]
    assert _post(score_threshold=0.1, max_results=1)(*_outputs()).class_ids.tolist() == [2]


def test_no_detections():
    boxes, classes, scores, _ = _outputs()
    raw = _post()(boxes, classes, scores, np.array([0], np.float32))
    assert raw.boxes.shape == (0, 4) and raw.scores.size == 0


def test_settings_the_graph_cannot_honour_are_warned_about():
    with pytest.warns(UserWarning, match="below the 0.1 built into"):
        InGraphPostprocessor(200, BAKED, DetectorOptions(score_threshold=0.05))
    with pytest.warns(UserWarning, match="iou_threshold 0.6 is ignored"):
        InGraphPostprocessor(200, BAKED, DetectorOptions(iou_threshold=0.6))
    with pytest.warns(UserWarning, match="class_agnostic_nms is ignored"):
        InGraphPostprocessor(200, BAKED, DetectorOptions(class_agnostic_nms=True))
