"""Anchors fitted to a dataset: the anchor scale and aspect shapes under which most training
boxes find an anchor they would be matched to (IoU >= the matcher's positive threshold).

Only the anchor parameters change (recorded in the checkpoint's metadata like any other
anchor spec); the network's shape does not, since the number of anchors per location stays
9. Boxes are measured as the letterbox places them at scale 1, the size the runtime sees.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from edgedet.anchors import AnchorSpec, box_iou, generate_anchors
from edgedet.data.types import Dataset
from edgedet.train.reference_matcher import POSITIVE_IOU

ANCHOR_SCALES = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
# Aspect shapes as (width, height) multipliers: the default 1:2, 1:1, 2:1 and effdet's gentler
# 1:2 ... 2:1 in area-preserving form, for datasets of mostly square-ish objects.
ASPECT_SETS = (None, ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4)))
# A candidate must beat the default's recall by this much to replace it; below it, the
# mean best IoU decides among the candidates as good as the best.
RECALL_TOLERANCE = 1e-3


@dataclass(frozen=True)
class AnchorFit:
    """How well one anchor spec covers a dataset's boxes."""

    spec: AnchorSpec
    recall: float  # share of boxes with an anchor at IoU >= POSITIVE_IOU
    class_recall: tuple[float, ...]  # the same per class (nan for a class without boxes)
    mean_best_iou: float

    def describe(self, class_names: list[str]) -> str:
        per_class = ", ".join(f"{n} {r:.1%}" for n, r in zip(class_names, self.class_recall))
        return (f"anchor_scale {self.spec.anchor_scale:g}, aspects {_aspects(self.spec)}: "
                f"{self.recall:.1%} of boxes matched ({per_class}), mean best IoU {self.mean_best_iou:.3f}")


def _aspects(spec: AnchorSpec) -> str:
    return "/".join(f"{w:g}x{h:g}" for w, h in spec.aspect_shapes()) if spec.aspect_multipliers \
        else "/".join(f"{r:g}" for r in spec.aspect_ratios)


def letterboxed_boxes(dataset: Dataset, spec: AnchorSpec) -> tuple[list[np.ndarray], np.ndarray]:
    """Each image's boxes as placed in the network input by the letterbox, and all class ids."""
    width, height = spec.image_size.width, spec.image_size.height
    boxes, class_ids = [], []
    for sample in dataset.samples:
        if len(sample.boxes):
            factor = min(width / sample.width, height / sample.height)
            boxes.append(np.asarray(sample.boxes, dtype=np.float32).reshape(-1, 4) * factor)
            class_ids.append(np.asarray(sample.class_ids))
    return boxes, np.concatenate(class_ids) if class_ids else np.zeros(0, np.int64)


def measure(spec: AnchorSpec, boxes: list[np.ndarray], class_ids: np.ndarray,
            num_classes: int) -> AnchorFit:
    """Recall and mean best IoU of ``spec``'s anchors over per-image ``boxes``."""
    anchors = generate_anchors(spec)
    best = np.concatenate([box_iou(b, anchors).max(axis=1) for b in boxes]) if boxes \
        else np.zeros(0, np.float32)
    matched = best >= POSITIVE_IOU
    class_recall = tuple(float(matched[class_ids == k].mean()) if (class_ids == k).any() else float("nan")
                         for k in range(num_classes))
    return AnchorFit(spec, float(matched.mean()) if len(best) else 1.0, class_recall,
                     float(best.mean()) if len(best) else 1.0)


def fit_anchors(dataset: Dataset, default: AnchorSpec) -> tuple[AnchorFit, AnchorFit]:
    """(the default spec's fit, the best candidate's fit) for ``dataset``'s boxes.

    Candidates: every scale in :data:`ANCHOR_SCALES` with every aspect set in
    :data:`ASPECT_SETS`. The best has the highest recall; within :data:`RECALL_TOLERANCE` of
    it, the highest mean best IoU. The default is kept unless a candidate beats its recall.
    """
    boxes, class_ids = letterboxed_boxes(dataset, default)
    num_classes = len(dataset.class_names)
    before = measure(default, boxes, class_ids, num_classes)
    fits = [measure(replace(default, anchor_scale=scale, aspect_multipliers=aspects), boxes,
                    class_ids, num_classes)
            for aspects in ASPECT_SETS for scale in ANCHOR_SCALES]
    top = max(f.recall for f in fits)
    best = max((f for f in fits if f.recall >= top - RECALL_TOLERANCE), key=lambda f: f.mean_best_iou)
    if best.recall <= before.recall:
        best = before
    return before, best
