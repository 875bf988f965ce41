"""Greedy non-maximum suppression in numpy, per class."""
from __future__ import annotations

import numpy as np

from edgedet.anchors import box_iou


# Boxes handled per IoU matrix: big enough to amortize numpy calls, small enough that the
# matrix stays cheap (256 x 256) when only the top few boxes survive.
_BLOCK = 256


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
        max_keep: int | None = None) -> np.ndarray:
    """Indices of boxes kept by greedy NMS, highest score first (ties: lower index first).

    Boxes are visited in score order in blocks: one IoU matrix per block, one vectorized
    check against boxes kept in earlier blocks, and a boolean update per kept box. Stops as
    soon as ``max_keep`` boxes are kept.
    """
    n = boxes.shape[0]
    limit = n if max_keep is None else max_keep
    order = np.argsort(-scores, kind="stable")
    ordered = boxes[order].astype(np.float32)
    keep: list[int] = []
    for start in range(0, n, _BLOCK):
        if len(keep) >= limit:
            break
        block = ordered[start:start + _BLOCK]
        alive = np.ones(block.shape[0], dtype=bool)
        if keep:
            alive &= ~(box_iou(ordered[keep], block) > iou_threshold).any(axis=0)
        overlaps = box_iou(block, block) > iou_threshold
        for i in np.flatnonzero(alive):
            if not alive[i]:
                continue
            keep.append(start + i)
            if len(keep) >= limit:
                break
            alive &= ~overlaps[i]
    return order[np.asarray(keep, dtype=np.int64)]


def batched_nms(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
                iou_threshold: float, max_keep: int | None = None) -> np.ndarray:
    """NMS within each class: boxes of different classes never suppress each other.

    Classes are separated by shifting each class's boxes to its own disjoint region.
    """
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    boxes = boxes.astype(np.float32)
    span = float(boxes.max() - min(boxes.min(), 0.0)) + 1.0
    shifted = boxes + (class_ids.astype(np.float32) * span)[:, None]
    return nms(shifted, scores, iou_threshold, max_keep)
