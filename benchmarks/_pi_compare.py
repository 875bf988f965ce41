"""Compare two ``pi_detect.py`` reports (x86 host against the emulated arm64 system).

Detections of a frame are paired greedily, highest x86 score first, with the unpaired arm64
detection of the same class that overlaps it most (IoU >= 0.5). Scores are compared in logit
units, where one int8 step of the class output is a fixed distance (``logit_step``).
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from edgedet.anchors import box_iou

MIN_IOU = 0.5


def iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    return float(box_iou(np.array([a], np.float64), np.array([b], np.float64))[0, 0])


def logit(p: float) -> float:
    p = min(max(p, 1e-7), 1 - 1e-7)
    return math.log(p / (1 - p))


def pair(ours: list[dict], theirs: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """(pairs, unpaired of ``ours``, unpaired of ``theirs``)."""
    left = list(theirs)
    pairs, lonely = [], []
    for det in sorted(ours, key=lambda d: -d["score"]):
        candidates = [(iou(det["box"], t["box"]), i) for i, t in enumerate(left)
                      if t["class_id"] == det["class_id"]]
        best = max(candidates, default=(0.0, -1))
        if best[0] >= MIN_IOU:
            pairs.append((det, left.pop(best[1])))
        else:
            lonely.append(det)
    return pairs, lonely, left


def compare_frames(ours: dict[str, list[dict]], theirs: dict[str, list[dict]],
                   logit_step: Optional[float]) -> dict[str, Any]:
    """Largest differences over every frame of one folder, and how many frames differ."""
    if set(ours) != set(theirs):
        raise ValueError(f"the reports hold different frames: {sorted(set(ours) ^ set(theirs))}")
    worst_box = worst_score = worst_logit = 0.0
    unpaired: list[dict] = []
    identical = detections = 0
    for name in sorted(ours):
        a, b = ours[name], theirs[name]
        detections += len(a)
        identical += a == b
        pairs, lonely_a, lonely_b = pair(a, b)
        unpaired += [{"frame": name, "side": "x86", **d} for d in lonely_a]
        unpaired += [{"frame": name, "side": "arm64", **d} for d in lonely_b]
        for da, db in pairs:
            worst_box = max(worst_box, max(abs(p - q) for p, q in zip(da["box"], db["box"])))
            worst_score = max(worst_score, abs(da["score"] - db["score"]))
            worst_logit = max(worst_logit, abs(logit(da["score"]) - logit(db["score"])))
    return {
        "frames": len(ours), "frames_identical": identical, "detections_x86": detections,
        "max_box_diff_px": round(worst_box, 4), "max_score_diff": round(worst_score, 6),
        "max_logit_diff_int8_steps": (None if logit_step is None
                                      else round(worst_logit / logit_step, 3)),
        "unpaired": unpaired,
    }


def agrees(summary: dict[str, Any], max_steps: float, max_box_px: float) -> bool:
    """Every detection paired, scores within ``max_steps`` int8 steps (score difference
    within 1/256 per step when the file's class output is float) and boxes within
    ``max_box_px`` pixels."""
    steps = summary["max_logit_diff_int8_steps"]
    score_ok = (summary["max_score_diff"] <= max_steps / 256 + 1e-6 if steps is None
                else steps <= max_steps + 1e-3)
    return not summary["unpaired"] and score_ok and summary["max_box_diff_px"] <= max_box_px + 1e-4


def unpaired_near_threshold(summary: dict[str, Any], threshold: float,
                            logit_step: Optional[float]) -> bool:
    """Whether every unpaired detection scored within the paired detections' largest score
    difference (plus one int8 step) of ``threshold``: a box that one machine keeps and the
    other drops only because that difference carried its score across the threshold."""
    if logit_step is None or summary["max_logit_diff_int8_steps"] is None:
        return not summary["unpaired"]
    band = (summary["max_logit_diff_int8_steps"] + 1) * logit_step
    return all(abs(logit(d["score"]) - logit(threshold)) <= band + 1e-6 for d in summary["unpaired"])
