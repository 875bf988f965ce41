"""Anchors fitted to the training boxes: small objects get anchors they can match; a dataset
the default anchors already cover keeps them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgedet.anchors import box_iou, generate_anchors
from edgedet.data.types import Dataset, Sample
from edgedet.metadata import make_metadata
from edgedet.train.anchor_fit import fit_anchors, measure, letterboxed_boxes

pytestmark = pytest.mark.fast


def _dataset(side: float, image_size: int = 256, count: int = 6) -> Dataset:
    rng = np.random.default_rng(0)
    samples = []
    for i in range(count):
        xy = rng.uniform(0, image_size - side, (5, 2))
        boxes = np.concatenate([xy, xy + side], axis=1).astype(np.float32)
        samples.append(Sample(Path(f"{i}.jpg"), boxes, np.array([0, 0, 1, 1, 1]), image_size, image_size))
    return Dataset("boxes", Path("."), "train", ["a", "b"], samples)


def test_recall_is_the_share_of_boxes_with_a_positive_anchor():
    dataset = _dataset(12.0)
    spec = make_metadata("d0", dataset.class_names, 256).anchors
    boxes, ids = letterboxed_boxes(dataset, spec)
    fit = measure(spec, boxes, ids, 2)
    best = np.concatenate([box_iou(b, generate_anchors(spec)).max(1) for b in boxes])  # brute force
    assert fit.recall == pytest.approx((best >= 0.5).mean())
    assert fit.mean_best_iou == pytest.approx(best.mean())
    assert fit.class_recall[0] == pytest.approx((best[ids == 0] >= 0.5).mean())


def test_small_boxes_get_smaller_anchors():
    dataset = _dataset(16.0)  # 16 px objects: D0's smallest anchor is 32 px
    before, after = fit_anchors(dataset, make_metadata("d0", dataset.class_names, 256).anchors)
    assert before.recall < 0.5
    assert after.recall > 0.95 and after.spec.anchor_scale < before.spec.anchor_scale
    assert "matched" in after.describe(dataset.class_names)


def test_covered_dataset_keeps_the_default():
    dataset = _dataset(40.0)  # one octave of D0's P3 anchors (32-50 px) fits these well
    default = make_metadata("d0", dataset.class_names, 256).anchors
    before, after = fit_anchors(dataset, default)
    assert before.recall == 1.0 and after is before and after.spec == default
