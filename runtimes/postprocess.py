"""Head outputs -> detections: score filter on logits, decode survivors only, top-k, NMS."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgedet.anchors import decode_boxes
from edgedet.runtimes.nms import batched_nms


def score_to_logit(score: float) -> float:
    """The logit whose sigmoid equals ``score`` (so thresholds apply before any sigmoid)."""
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return math.log(score / (1.0 - score))


@dataclass
class RawDetections:
    """Detections in network-input pixels, before mapping back through the letterbox."""

    boxes: np.ndarray  # [K, 4] float32 (x1, y1, x2, y2)
    scores: np.ndarray  # [K] float32
    class_ids: np.ndarray  # [K] int64


class Postprocessor:
    """Turns ``cls_logits [N, C]`` and ``box_regression [N, 4]`` into detections.

    Only (anchor, class) pairs whose logit clears the threshold are touched after the first
    comparison; at most ``pre_nms_top_k`` of them reach decoding and NMS.
    """

    def __init__(self, anchors: np.ndarray, score_threshold: float = 0.3,
                 iou_threshold: float = 0.5, max_results: int = 100,
                 pre_nms_top_k: int = 1000, class_ids: list[int] | None = None):
        self.anchors = anchors.astype(np.float32)
        self.score_threshold = float(score_threshold)
        self.logit_threshold = score_to_logit(self.score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_results = int(max_results)
        self.pre_nms_top_k = int(pre_nms_top_k)
        self.allowed = None if class_ids is None else np.asarray(sorted(class_ids), dtype=np.int64)

    def __call__(self, cls_logits: np.ndarray, box_regression: np.ndarray) -> RawDetections:
        cls_logits = cls_logits.reshape(self.anchors.shape[0], -1)
        box_regression = box_regression.reshape(self.anchors.shape[0], 4)
        if self.allowed is not None:
            cls_logits = cls_logits[:, self.allowed]
        num_classes = cls_logits.shape[1]
        flat = cls_logits.reshape(-1)
        candidates = np.flatnonzero(flat > self.logit_threshold)
        if candidates.size > self.pre_nms_top_k:
            top = np.argpartition(flat[candidates], -self.pre_nms_top_k)[-self.pre_nms_top_k:]
            candidates = candidates[top]
        anchor_idx, class_idx = np.divmod(candidates, num_classes)
        logits = flat[candidates].astype(np.float32)
        scores = 1.0 / (1.0 + np.exp(-logits))
        boxes = decode_boxes(box_regression[anchor_idx], self.anchors[anchor_idx])
        keep = batched_nms(boxes, scores, class_idx, self.iou_threshold, self.max_results)
        if self.allowed is not None:
            class_idx = self.allowed[class_idx]
        return RawDetections(
            boxes=boxes[keep].astype(np.float32),
            scores=scores[keep].astype(np.float32),
            class_ids=class_idx[keep].astype(np.int64),
        )
