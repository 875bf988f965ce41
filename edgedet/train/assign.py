"""Batched anchor matching in torch, on the training device.

The twin of :func:`edgedet.train.reference_matcher.assign_targets` (the numpy reference, which a test
holds this equal to): same IoU maths in float32, same first-index tie-breaking, same forced
best-anchor rule (when two boxes claim one anchor, the later box wins, as numpy's fancy
assignment does) and the same box coding in float64.
"""
from __future__ import annotations

import numpy as np
import torch

from edgedet.train.reference_matcher import BACKGROUND, IGNORE, NEGATIVE_IOU, POSITIVE_IOU

# Bound on the [images, boxes, anchors] IoU tensor of one chunk of a batch (elements); a
# 512-px batch of 16 with 40 boxes each would otherwise hold ~125 MB per intermediate.
_MAX_IOU_ELEMENTS = 1 << 23

PAD_CLASS = -1  # class id of the padding rows that make every image's box list equally long


def box_iou_batched(anchors: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """IoU of ``[N, 4]`` anchors with ``[B, K, 4]`` boxes -> ``[B, K, N]`` (float32).

    The operations and their order follow :func:`edgedet.anchors.box_iou`, so the results
    are bit-identical to it (transposed). Anchors last and every operand contiguous: strided
    coordinate views and reductions across the anchor axis were 3-5x slower on the CPU.
    """
    ax1, ay1, ax2, ay2 = (anchors[:, i].contiguous()[None, None, :] for i in range(4))
    bx1, by1, bx2, by2 = (boxes[..., i].contiguous()[:, :, None] for i in range(4))
    area_a = (ax2 - ax1).clamp_(min=0) * (ay2 - ay1).clamp_(min=0)
    area_b = (bx2 - bx1).clamp_(min=0) * (by2 - by1).clamp_(min=0)
    # In place where possible: these [B, K, N] tensors are the matcher's whole cost.
    inter = torch.minimum(ax2, bx2).sub_(torch.maximum(ax1, bx1)).clamp_(min=0)
    ih = torch.minimum(ay2, by2).sub_(torch.maximum(ay1, by1)).clamp_(min=0)
    inter.mul_(ih)
    union = torch.add(area_a, area_b, out=ih).sub_(inter).clamp_(min=1e-9)
    return inter.div_(union)


def encode_boxes_torch(boxes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Torch twin of :func:`edgedet.anchors.encode_boxes` (computed in float64, like it)."""
    boxes, anchors = boxes.double(), anchors.double()
    wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    xa, ya = anchors[:, 0] + 0.5 * wa, anchors[:, 1] + 0.5 * ha
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    x, y = boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h
    w, h = w.clamp(min=1e-6), h.clamp(min=1e-6)
    codes = torch.stack([(y - ya) / ha, (x - xa) / wa, torch.log(h / ha), torch.log(w / wa)], dim=-1)
    return codes.float()


class TargetAssigner:
    """Labels and box targets for a padded batch of boxes, computed where the anchors live.

    Call with ``boxes [B, K, 4]`` (x1, y1, x2, y2, input pixels) and ``class_ids [B, K]``
    (:data:`PAD_CLASS` marks padding); returns ``labels [B, N]`` (class id, BACKGROUND or
    IGNORE) and ``box_targets [B, N, 4]`` on the same device.
    """

    def __init__(self, anchors: np.ndarray, device: torch.device,
                 positive_iou: float = POSITIVE_IOU, negative_iou: float = NEGATIVE_IOU):
        self.anchors = torch.from_numpy(np.ascontiguousarray(anchors, dtype=np.float32)).to(device)
        self.positive_iou = positive_iou
        self.negative_iou = negative_iou

    @torch.no_grad()
    def __call__(self, boxes: torch.Tensor, class_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        device = self.anchors.device
        boxes = boxes.to(device, torch.float32, non_blocking=True)
        class_ids = class_ids.to(device, torch.int64, non_blocking=True)
        n = self.anchors.shape[0]
        per_chunk = max(1, _MAX_IOU_ELEMENTS // max(1, n * boxes.shape[1]))
        parts = [self._assign(boxes[i:i + per_chunk], class_ids[i:i + per_chunk])
                 for i in range(0, boxes.shape[0], per_chunk)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def _assign(self, boxes: torch.Tensor, class_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, k = class_ids.shape
        n = self.anchors.shape[0]
        labels = torch.full((batch, n), BACKGROUND, dtype=torch.int64, device=boxes.device)
        box_targets = torch.zeros((batch, n, 4), dtype=torch.float32, device=boxes.device)
        if k == 0:
            return labels, box_targets
        real = class_ids != PAD_CLASS  # [B, K]
        # Padding gets IoU -1: never an anchor's best box, never overlapping.
        iou = box_iou_batched(self.anchors, boxes).masked_fill_(~real[:, :, None], -1.0)  # [B, K, N]
        best, matched = iou.max(dim=1)  # [B, N]; ties: the first box, like numpy's argmax
        labels[best >= self.negative_iou] = IGNORE
        positive = best >= self.positive_iou
        # Each box claims its best anchor (first one on ties) if they overlap at all.
        forced_anchor = iou.argmax(dim=2)  # [B, K]
        overlaps = iou.gather(2, forced_anchor[:, :, None])[:, :, 0] > 0
        box_index = torch.arange(k, device=boxes.device).expand(batch, k)
        claimant = torch.full((batch, n), -1, dtype=torch.int64, device=boxes.device)
        claimant.scatter_reduce_(1, forced_anchor, torch.where(overlaps, box_index, -1), reduce="amax")
        forced = claimant >= 0
        matched = torch.where(forced, claimant, matched)
        positive |= forced
        image, anchor = positive.nonzero(as_tuple=True)
        box = matched[image, anchor]
        labels[image, anchor] = class_ids[image, box]
        box_targets[image, anchor] = encode_boxes_torch(boxes[image, box], self.anchors[anchor])
        return labels, box_targets


def pad_boxes(boxes: list[torch.Tensor], class_ids: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack per-image ``[K_i, 4]`` boxes and ``[K_i]`` class ids into ``[B, K, 4]`` / ``[B, K]``
    (K = the largest K_i, at least 1), padding with zero boxes of class :data:`PAD_CLASS`."""
    k = max([1] + [len(c) for c in class_ids])
    padded_boxes = torch.zeros((len(boxes), k, 4), dtype=torch.float32)
    padded_ids = torch.full((len(boxes), k), PAD_CLASS, dtype=torch.int64)
    for i, (b, c) in enumerate(zip(boxes, class_ids)):
        padded_boxes[i, :len(c)] = b
        padded_ids[i, :len(c)] = c
    return padded_boxes, padded_ids
