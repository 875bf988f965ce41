"""The quickstart's showcase: a val image's ground truth beside a model's detections, judged.

The verdict is what a user checks by eye, computed: every labelled object found once with its
label, and nothing else drawn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgedet.anchors import box_iou
from edgedet.data.types import Sample
from edgedet.runtimes.detections import Detections

MATCH_IOU = 0.5


@dataclass(frozen=True)
class ShowcaseVerdict:
    """How one image's detections compare with its labelled objects."""

    objects: int
    found: int  # objects claimed by a detection of the right class (IoU >= MATCH_IOU)
    wrong_label: int  # detections on an object (IoU >= MATCH_IOU) with another class
    extra: int  # detections on no object, or a second one on an already found object

    @property
    def all_right(self) -> bool:
        return self.found == self.objects and self.wrong_label == 0 and self.extra == 0

    def summary(self) -> str:
        verdict = "all right" if self.all_right else "not all right"
        return (f"{self.found} of {self.objects} objects found with the right label, "
                f"{self.wrong_label} wrong label(s), {self.extra} extra box(es): {verdict}")


FOUND, WRONG_LABEL, EXTRA = "found", "wrong label", "extra"


def classify(detections: Detections, truth_boxes: np.ndarray,
             truth_classes: np.ndarray) -> list[str]:
    """What each detection is (:data:`FOUND`, :data:`WRONG_LABEL` or :data:`EXTRA`), matching
    detections highest score first to labelled objects of their own class."""
    truth_boxes = np.asarray(truth_boxes, dtype=np.float32).reshape(-1, 4)
    truth_classes = np.asarray(truth_classes, dtype=np.int64).reshape(-1)
    claimed = np.zeros(len(truth_boxes), dtype=bool)
    kinds = [EXTRA] * len(detections)
    iou = box_iou(detections.boxes, truth_boxes) if len(truth_boxes) else np.zeros((len(detections), 0))
    for d in np.argsort(-detections.scores, kind="stable"):
        same_class = (truth_classes == detections.class_ids[d]) & ~claimed
        overlaps = iou[d] >= MATCH_IOU
        if (overlaps & same_class).any():
            claimed[np.argmax(np.where(same_class, iou[d], -1.0))] = True
            kinds[d] = FOUND
        elif (overlaps & (truth_classes != detections.class_ids[d])).any():
            kinds[d] = WRONG_LABEL
    return kinds


def judge(detections: Detections, truth_boxes: np.ndarray, truth_classes: np.ndarray) -> ShowcaseVerdict:
    """Match detections (highest score first) to labelled objects of their own class."""
    kinds = classify(detections, truth_boxes, truth_classes)
    return ShowcaseVerdict(len(np.asarray(truth_boxes).reshape(-1, 4)), kinds.count(FOUND),
                           kinds.count(WRONG_LABEL), kinds.count(EXTRA))


def score_margin(detections: Detections, truth_boxes: np.ndarray,
                 truth_classes: np.ndarray) -> tuple[float, float]:
    """(lowest score of a right detection, highest score of a wrong or extra one) among
    ``detections`` made with a low score threshold: how far the verdict at the real threshold
    is from flipping (0.0 where there is no such detection)."""
    kinds = classify(detections, truth_boxes, truth_classes)
    right = [s for s, k in zip(detections.scores.tolist(), kinds) if k == FOUND]
    wrong = [s for s, k in zip(detections.scores.tolist(), kinds) if k != FOUND]
    return min(right, default=0.0), max(wrong, default=0.0)


def all_right_count(detector, samples: list[Sample]) -> int:
    """On how many of ``samples`` the detections of ``detector`` (a ``Detector``) are all right."""
    import cv2

    return sum(judge(detector.detect(cv2.imread(str(s.image_path))), s.boxes, s.class_ids).all_right
               for s in samples)


def side_by_side(frame: np.ndarray, sample: Sample, detections: Detections, scale: int = 2) -> np.ndarray:
    """``frame`` with its labelled objects (left) and the detections (right), enlarged
    ``scale`` times so that the labels stay readable on small images."""
    import cv2

    big = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    truth = Detections(sample.boxes * scale, np.ones(len(sample.boxes)), sample.class_ids,
                       detections.class_names)
    found = Detections(detections.boxes * scale, detections.scores, detections.class_ids,
                       detections.class_names)
    panels = [_titled(truth.draw(big, scores=False), "labelled"),
              _titled(found.draw(big), "detected")]
    gap = np.full((panels[0].shape[0], 8, 3), 255, dtype=np.uint8)
    return np.hstack([panels[0], gap, panels[1]])


def _titled(panel: np.ndarray, title: str) -> np.ndarray:
    import cv2

    bar = np.full((28, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(bar, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, panel])
