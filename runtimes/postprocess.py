"""Head outputs -> detections: score filter on logits, decode survivors only, top-k, NMS."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgedet.anchors import decode_boxes
from edgedet.metadata import TensorQuantization
from edgedet.runtimes.nms import batched_nms, nms
from edgedet.runtimes.options import DetectorOptions


def score_to_logit(score: float) -> float:
    """The logit whose sigmoid equals ``score`` (so thresholds apply before any sigmoid)."""
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return math.log(score / (1.0 - score))


@dataclass
class RawDetections:
    """Detections in network-input pixels, before mapping back through the letterbox."""

    boxes: np.ndarray  # [K, 4] float32 (x1, y1, x2, y2)
    scores: np.ndarray  # [K] float32
    class_ids: np.ndarray  # [K] int64


def boxes_on_content(boxes: np.ndarray, content_size: tuple[float, float]) -> np.ndarray:
    """Mask of (x1, y1, x2, y2) input-pixel boxes that reach the frame's part of a top-left
    letterbox (``content_size`` = its width, height); the others lie wholly in the padding."""
    return ((boxes[:, 0] < content_size[0]) & (boxes[:, 1] < content_size[1])
            & (boxes[:, 2] > 0) & (boxes[:, 3] > 0))


class Postprocessor:
    """Turns ``cls_logits [N, C]`` and ``box_regression [N, 4]`` into detections.

    Only (anchor, class) pairs whose logit clears the threshold are touched after the first
    comparison; at most ``pre_nms_top_k`` of them reach decoding and NMS. Integer outputs of
    a quantized model (``output_quantization``: the model's (class, box) parameters) are
    compared in their own domain and only the survivors are dequantized. Thresholds, counts
    and the NMS mode come from ``options``; ``class_ids`` are the classes to report (None: all).
    """

    def __init__(self, anchors: np.ndarray, options: DetectorOptions | None = None,
                 class_ids: list[int] | None = None,
                 output_quantization: tuple[TensorQuantization | None, ...] = (None, None)):
        options = DetectorOptions() if options is None else options
        self.anchors = anchors.astype(np.float32)
        self.cls_quant, self.box_quant = output_quantization
        self.score_threshold = options.score_threshold
        self.logit_threshold = score_to_logit(self.score_threshold)
        self.iou_threshold = options.iou_threshold
        self.max_results = options.max_results
        self.pre_nms_top_k = options.pre_nms_top_k
        self.class_agnostic = options.class_agnostic_nms
        self.allowed = None if class_ids is None else np.asarray(sorted(class_ids), dtype=np.int64)

    def __call__(self, cls_logits: np.ndarray, box_regression: np.ndarray,
                 content_size: tuple[float, float] | None = None) -> RawDetections:
        """Detections from one image's head outputs (float, or the quantized model's integers).

        ``content_size`` (width, height in input pixels) is where the frame lies in a
        top-left letterbox; boxes entirely in the padding beyond it are dropped before NMS.
        """
        cls_quant, box_quant = self.cls_quant, self.box_quant
        cls_logits = cls_logits.reshape(self.anchors.shape[0], -1)
        box_regression = box_regression.reshape(self.anchors.shape[0], 4)
        if self.allowed is not None:
            cls_logits = cls_logits[:, self.allowed]
        num_classes = cls_logits.shape[1]
        flat = cls_logits.reshape(-1)
        quantized = cls_quant is not None and flat.dtype.kind in "iu"
        threshold = (cls_quant.threshold(self.logit_threshold, flat.dtype) if quantized
                     else self.logit_threshold)
        candidates = self._candidates(flat, threshold)
        anchor_idx, class_idx = np.divmod(candidates, num_classes)
        logits = (cls_quant.dequantize(flat[candidates]) if quantized
                  else flat[candidates].astype(np.float32))
        scores = 1.0 / (1.0 + np.exp(-logits))
        codes = box_regression[anchor_idx]
        if box_quant is not None and codes.dtype.kind in "iu":
            codes = box_quant.dequantize(codes)
        boxes = decode_boxes(codes, self.anchors[anchor_idx])
        if content_size is not None:
            on_frame = boxes_on_content(boxes, content_size)
            if not on_frame.all():
                boxes, scores, class_idx = boxes[on_frame], scores[on_frame], class_idx[on_frame]
        if self.class_agnostic:
            keep = nms(boxes, scores, self.iou_threshold, self.max_results)
        else:
            keep = batched_nms(boxes, scores, class_idx, self.iou_threshold, self.max_results)
        if self.allowed is not None:
            class_idx = self.allowed[class_idx]
        return RawDetections(
            boxes=boxes[keep].astype(np.float32),
            scores=scores[keep].astype(np.float32),
            class_ids=class_idx[keep].astype(np.int64),
        )

    def _candidates(self, flat: np.ndarray, threshold: float) -> np.ndarray:
        """Indices (ascending) of the top ``pre_nms_top_k`` values above ``threshold``.

        When far more values could pass than are wanted (an untrained model scores almost
        everything), a threshold raised from a strided sample cuts the one full pass down to
        ~2k survivors; if too few survive, the exact threshold is used instead. The result is
        identical either way.
        """
        k = self.pre_nms_top_k
        if flat.size > 16 * k:
            stride = max(1, flat.size // (16 * k))
            sample = flat[::stride]
            rank = min(sample.size - 1, max(1, -(-2 * k * sample.size // flat.size)))
            # A trained model leaves few values above the threshold: counting them in the
            # sample is enough to skip the partition.
            estimate = threshold
            if np.count_nonzero(sample > threshold) > rank:
                estimate = np.partition(sample, sample.size - rank)[sample.size - rank]
            if estimate > threshold:
                raised = np.flatnonzero(flat > estimate)
                if raised.size >= k:
                    return _top_k(flat, raised, k)
        return _top_k(flat, np.flatnonzero(flat > threshold), k)


def _top_k(flat: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the largest values; among equal values the lowest indices
    win, so float and quantized copies of the same outputs select the same anchors."""
    if candidates.size <= k:
        return candidates
    values = flat[candidates]
    kth = np.partition(values, values.size - k)[values.size - k]
    above = candidates[values > kth]
    ties = candidates[values == kth][: k - above.size]
    return np.sort(np.concatenate([above, ties]))
