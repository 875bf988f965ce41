"""Anchor matching by IoU: which anchor learns which box, and its regression target."""
from __future__ import annotations

import numpy as np

from edgedet.anchors import box_iou, encode_boxes

BACKGROUND = -1  # anchor trains its class logits towards 0
IGNORE = -2  # anchor contributes no loss (IoU between the two thresholds)

POSITIVE_IOU = 0.5
NEGATIVE_IOU = 0.4


def assign_targets(anchors: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray,
                   positive_iou: float = POSITIVE_IOU,
                   negative_iou: float = NEGATIVE_IOU) -> tuple[np.ndarray, np.ndarray]:
    """Match ``[N, 4]`` anchors to ``[K, 4]`` boxes (x1, y1, x2, y2, input pixels).

    Returns ``labels [N]`` (class id, :data:`BACKGROUND` or :data:`IGNORE`) and
    ``box_targets [N, 4]`` ((ty, tx, th, tw), zero where not positive). An anchor is positive
    when its best IoU is >= ``positive_iou``, background below ``negative_iou``, ignored in
    between. As in the official matcher, each box also claims its best-overlapping anchor, so
    no box goes unlearned because no anchor reached the threshold.
    """
    n = anchors.shape[0]
    labels = np.full(n, BACKGROUND, dtype=np.int64)
    box_targets = np.zeros((n, 4), dtype=np.float32)
    if len(boxes) == 0:
        return labels, box_targets
    iou = box_iou(anchors, boxes)  # [N, K]
    matched = iou.argmax(axis=1)
    best = iou[np.arange(n), matched]
    labels[best >= negative_iou] = IGNORE
    positive = best >= positive_iou
    forced = iou.argmax(axis=0)  # [K] best anchor of each box
    has_overlap = iou[forced, np.arange(len(boxes))] > 0
    matched[forced[has_overlap]] = np.arange(len(boxes))[has_overlap]
    positive[forced[has_overlap]] = True
    labels[positive] = class_ids[matched[positive]]
    box_targets[positive] = encode_boxes(boxes[matched[positive]], anchors[positive])
    return labels, box_targets
