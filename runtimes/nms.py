"""Greedy non-maximum suppression, per class, with OpenCV's compiled inner loop."""
from __future__ import annotations

import cv2
import numpy as np

# Candidates handed to OpenCV in its first call. OpenCV's greedy loop compares each candidate
# with every box kept so far and cannot stop at ``max_keep``, so candidates go in blocks
# (after the boxes already kept) and the loop ends once enough are kept.
_BLOCK = 128


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
        max_keep: int | None = None) -> np.ndarray:
    """Indices of boxes kept by greedy NMS, highest score first (ties: lower index first).

    A box is dropped when its IoU with a higher-ranked kept box exceeds ``iou_threshold``.
    Stops as soon as ``max_keep`` boxes are kept.
    """
    n = boxes.shape[0]
    limit = n if max_keep is None else max_keep
    if n == 0 or limit <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    corners = boxes[order].astype(np.float64)
    xywh = np.concatenate([corners[:, :2], corners[:, 2:] - corners[:, :2]], axis=1)
    # OpenCV sorts by score itself (stably); ranks instead of scores make its order ours,
    # ties included, and keep zero scores (it drops scores <= its threshold of 0).
    ranks = np.arange(n, 0, -1, dtype=np.float32)
    kept = np.zeros(0, dtype=np.int64)
    start, block = 0, _BLOCK
    while start < n and kept.size < limit:
        rows = np.concatenate([kept, np.arange(start, min(start + block, n))])
        picked = cv2.dnn.NMSBoxes(xywh[rows], ranks[rows], 0.0, float(iou_threshold))
        kept = rows[np.asarray(picked, dtype=np.int64).reshape(-1)]
        # Blocks double: few calls when most candidates are suppressed (a trained model's
        # overlapping boxes), small first calls when most are kept (random weights).
        start, block = start + block, 2 * block
    return order[kept[:limit]]


def batched_nms(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
                iou_threshold: float, max_keep: int | None = None) -> np.ndarray:
    """NMS within each class: boxes of different classes never suppress each other.

    Classes are separated by shifting each class's boxes to its own disjoint region.
    """
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    boxes = boxes.astype(np.float64)
    low = min(float(boxes.min()), 0.0)
    span = float(boxes.max()) - low + 1.0
    shifted = boxes - low + (class_ids.astype(np.float64) * span)[:, None]
    return nms(shifted, scores, iou_threshold, max_keep)
