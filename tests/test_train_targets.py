"""Anchor matching on a hand-made case, and the loss's basic behaviour."""
from __future__ import annotations

import numpy as np
import torch
import pytest

from edgedet.anchors import decode_boxes
from edgedet.train.loss import LossConfig, detection_loss, focal_loss
from edgedet.train.reference_matcher import BACKGROUND, IGNORE, assign_targets

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def test_hand_made_matching():
    anchors = np.array([
        [0, 0, 10, 10],     # IoU 1.0 with box 0 -> positive, class 2
        [0, 0, 10, 12],     # IoU 100/120 = 0.83 -> positive
        [0, 0, 10, 22],     # IoU 100/220 = 0.45 -> ignored (between 0.4 and 0.5)
        [5, 0, 15, 10],     # IoU 50/150 = 0.33 -> background
        [100, 100, 110, 110],  # no overlap -> background
        [50, 50, 62, 58],   # IoU with box 1 (60x60 box) is small, but it is box 1's best anchor
    ], dtype=np.float32)
    boxes = np.array([[0, 0, 10, 10], [40, 40, 100, 100]], dtype=np.float32)
    labels, targets = assign_targets(anchors, boxes, np.array([2, 0]))
    assert labels.tolist() == [2, 2, IGNORE, BACKGROUND, BACKGROUND, 0]
    np.testing.assert_allclose(targets[0], 0, atol=1e-6)
    np.testing.assert_allclose(targets[3], 0)  # not positive: no regression target
    positive = labels >= 0
    matched = boxes[[0, 0, 1]]
    np.testing.assert_allclose(decode_boxes(targets[positive], anchors[positive]), matched, atol=1e-4)


def test_no_boxes_means_all_background():
    anchors = np.array([[0, 0, 10, 10], [5, 5, 20, 20]], dtype=np.float32)
    labels, targets = assign_targets(anchors, np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    assert labels.tolist() == [BACKGROUND, BACKGROUND] and not targets.any()


def test_focal_loss_matches_definition():
    logits = torch.tensor([2.0, -1.0, 0.5])
    targets = torch.tensor([1.0, 0.0, 0.0])
    p = torch.sigmoid(logits)
    expected = torch.stack([
        -0.25 * (1 - p[0]) ** 1.5 * torch.log(p[0]),
        -0.75 * p[1] ** 1.5 * torch.log(1 - p[1]),
        -0.75 * p[2] ** 1.5 * torch.log(1 - p[2]),
    ])
    torch.testing.assert_close(focal_loss(logits, targets, 0.25, 1.5), expected)


def test_detection_loss_ignores_and_normalizes():
    torch.manual_seed(0)
    cls = torch.randn(1, 4, 3)
    box = torch.rand(1, 4, 4) * 0.18 - 0.09  # inside the Huber delta (0.1)
    labels = torch.tensor([[1, BACKGROUND, IGNORE, 0]])
    targets = torch.zeros(1, 4, 4)
    total, cls_loss, box_loss = detection_loss(cls, box, labels, targets)
    one_hot = torch.tensor([[0, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=torch.float32)
    kept = cls[0, [0, 1, 3]]
    expected_cls = focal_loss(kept, one_hot, 0.25, 1.5).sum() / 2
    torch.testing.assert_close(cls_loss, expected_cls)
    # |x| < delta everywhere, so Huber is 0.5 x^2, averaged over 2 positives x 4 coordinates.
    expected_box = 0.5 * (box[0, [0, 3]] ** 2).sum() / 8
    torch.testing.assert_close(box_loss, expected_box)
    torch.testing.assert_close(total, cls_loss + LossConfig().box_weight * box_loss)
