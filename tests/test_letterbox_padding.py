"""Boxes that lie entirely in the letterbox padding are not detections of the frame."""
from __future__ import annotations

import numpy as np

from edgedet import Detector
from edgedet.anchors import generate_anchors
from test_detector import FixedOutputs


def test_boxes_entirely_in_the_padding_are_dropped(small_onnx):
    det = Detector(small_onnx, score_threshold=0.5)
    anchors = generate_anchors(det.metadata.anchors)
    cls_logits = np.full((len(anchors), 3), -10.0, np.float32)
    inside = 9 * (32 * 5 + 10) + 4    # P3 row 5 (y ~ 44 px): on the frame
    below = 9 * (32 * 25 + 10) + 4    # P3 row 25 (y ~ 204 px): in the bottom padding
    cls_logits[inside, 1] = 5.0
    cls_logits[below, 2] = 6.0        # the more confident one, so it would come first
    det.backend = FixedOutputs(det.metadata, cls_logits, np.zeros((len(anchors), 4), np.float32))
    frame = np.zeros((300, 600, 3), np.uint8)  # content 256 x 128 of the 256 x 256 input
    dets = det.detect(frame)
    assert len(dets) == 1 and dets[0].label == "square"
    x1, y1, x2, y2 = dets[0].box
    assert x2 > x1 and y2 > y1
    # Before the fix the padding box came back as a zero-height box on the frame's bottom edge.
    tall = det.detect(np.zeros((600, 300, 3), np.uint8))  # content 128 x 256: both on the frame
    assert len(tall) == 2
