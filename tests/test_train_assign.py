"""The batched torch matcher equals the numpy reference, label for label and target for target."""
from __future__ import annotations

import numpy as np
import torch
import pytest

from edgedet.anchors import AnchorSpec, box_iou, encode_boxes, generate_anchors
from edgedet.train.assign import TargetAssigner, box_iou_batched, encode_boxes_torch, pad_boxes
from edgedet.train.reference_matcher import IGNORE, POSITIVE_IOU, assign_targets

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def _random_boxes(rng: np.random.Generator, count: int, size: int) -> np.ndarray:
    """Boxes from slivers to near-full-frame, some hanging over the edge."""
    centers = rng.uniform(0, size, (count, 2))
    sides = np.exp(rng.uniform(np.log(2), np.log(size * 1.2), (count, 2)))
    return np.concatenate([centers - sides / 2, centers + sides / 2], axis=1).astype(np.float32)


def _batch(rng: np.random.Generator, size: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    boxes, classes = [], []
    for count in (0, 1, 5, 17, 40):
        b = _random_boxes(rng, count, size)
        if count >= 5:
            b[1] = b[0]  # the same box twice: two boxes claim one best anchor; IoU ties
            b[2] = b[0] + np.float32(0.5)  # nearly the same box: competing claims
        boxes.append(b)
        classes.append(rng.integers(0, 3, count))
    return boxes, classes


def test_torch_matcher_equals_numpy_reference():
    size = 256
    anchors = generate_anchors(AnchorSpec(size))
    rng = np.random.default_rng(0)
    assigner = TargetAssigner(anchors, torch.device("cpu"))
    seen = {"forced": 0, "ignored": 0, "positive": 0}
    for _ in range(3):
        boxes, classes = _batch(rng, size)
        padded = pad_boxes([torch.from_numpy(b) for b in boxes], [torch.from_numpy(c) for c in classes])
        labels, targets = assigner(*padded)
        for i, (b, c) in enumerate(zip(boxes, classes)):
            ref_labels, ref_targets = assign_targets(anchors, b, c)
            np.testing.assert_array_equal(labels[i].numpy(), ref_labels)
            np.testing.assert_allclose(targets[i].numpy(), ref_targets, rtol=0, atol=1e-6)
            if len(b):
                best = box_iou(anchors, b).max(axis=1)
                seen["forced"] += int(((ref_labels >= 0) & (best < POSITIVE_IOU)).sum())
            seen["ignored"] += int((ref_labels == IGNORE).sum())
            seen["positive"] += int((ref_labels >= 0).sum())
    # The random boxes did exercise every rule.
    assert min(seen.values()) > 0, seen


def test_torch_twins_of_iou_and_box_coding():
    rng = np.random.default_rng(1)
    anchors = generate_anchors(AnchorSpec(128))
    boxes = _random_boxes(rng, 7, 128)
    iou = box_iou_batched(torch.from_numpy(anchors), torch.from_numpy(boxes)[None])[0]  # [K, N]
    np.testing.assert_array_equal(iou.numpy().T, box_iou(anchors, boxes))
    picked = anchors[rng.integers(0, len(anchors), 7)]
    np.testing.assert_allclose(encode_boxes_torch(torch.from_numpy(boxes), torch.from_numpy(picked)).numpy(),
                               encode_boxes(boxes, picked), rtol=0, atol=1e-6)


def test_batch_without_any_box_is_all_background():
    anchors = generate_anchors(AnchorSpec(128))
    labels, targets = TargetAssigner(anchors, torch.device("cpu"))(*pad_boxes(
        [torch.zeros((0, 4))] * 2, [torch.zeros(0, dtype=torch.int64)] * 2))
    assert labels.shape == (2, len(anchors)) and (labels == -1).all() and not targets.any()
