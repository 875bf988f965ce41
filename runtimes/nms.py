"""Greedy non-maximum suppression in numpy, per class."""
from __future__ import annotations

import numpy as np


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
        max_keep: int | None = None) -> np.ndarray:
    """Indices of boxes kept by greedy NMS, highest score first.

    Each step compares the best remaining box with all others at once (vectorized), and
    the loop stops as soon as ``max_keep`` boxes are kept.
    """
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    x1, y1, x2, y2 = (boxes[:, i].astype(np.float32) for i in range(4))
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-scores, kind="stable")
    keep = []
    limit = boxes.shape[0] if max_keep is None else max_keep
    while order.size and len(keep) < limit:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


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
