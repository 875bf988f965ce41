"""Outputs of a file whose graph ends in ``TFLite_Detection_PostProcess`` -> detections.

Such a file has already decoded and suppressed (its score floor, IoU threshold and maximum
count are baked in, see ``metadata.postprocess``); what is left is to drop padding rows,
apply the caller's (higher) score threshold and class allow-list, and turn normalized
(ymin, xmin, ymax, xmax) into (x1, y1, x2, y2) network-input pixels.
"""
from __future__ import annotations

import warnings

import numpy as np

from edgedet.input_size import SizeLike
from edgedet.input_size import input_size as parse_input_size
from edgedet.metadata import InGraphNms
from edgedet.runtimes.options import DetectorOptions
from edgedet.runtimes.postprocess import RawDetections, boxes_on_content


class InGraphPostprocessor:
    """Same role as :class:`~edgedet.runtimes.postprocess.Postprocessor`, for in-graph NMS.

    Settings the graph fixed (IoU threshold, NMS mode) cannot change: asking for others warns.
    """

    def __init__(self, input_size: SizeLike, baked: InGraphNms, options: DetectorOptions | None = None,
                 class_ids: list[int] | None = None):
        options = DetectorOptions() if options is None else options
        size = parse_input_size(input_size)
        # The op's boxes are (ymin, xmin, ymax, xmax) fractions of the input's height and width.
        self._to_pixels = np.array([size.width, size.height] * 2, dtype=np.float32)
        self.score_threshold = options.score_threshold
        self.max_results = options.max_results
        self.allowed = None if class_ids is None else np.asarray(sorted(class_ids), dtype=np.int64)
        floor = float(baked.score_threshold)
        if self.score_threshold < floor:
            warnings.warn(
                f"score_threshold {self.score_threshold} is below the {floor} built into this "
                "model's graph: detections scoring between the two are never reported",
                stacklevel=3)
        baked_iou = baked.iou_threshold
        if abs(float(baked_iou) - options.iou_threshold) > 1e-6:
            warnings.warn(
                f"iou_threshold {options.iou_threshold} is ignored: this model's graph runs NMS "
                f"with IoU threshold {baked_iou} (convert again to change it)", stacklevel=3)
        if options.class_agnostic_nms and baked.regular_nms:
            warnings.warn(
                "class_agnostic_nms is ignored: this model's graph runs NMS per class "
                "(convert again with --nms-agnostic to change it)", stacklevel=3)

    def __call__(self, boxes: np.ndarray, classes: np.ndarray, scores: np.ndarray,
                 count: np.ndarray, content_size: tuple[float, float] | None = None) -> RawDetections:
        """Detections from one image's four outputs (batch dimension removed).

        ``content_size`` (width, height in input pixels): boxes entirely in the letterbox
        padding beyond it are dropped, as :class:`Postprocessor` does.
        """
        n = int(np.asarray(count).reshape(-1)[0]) if np.size(count) else 0
        n = max(0, min(n, scores.shape[0]))
        scores = scores[:n].astype(np.float32)
        class_ids = classes[:n].astype(np.int64)
        xyxy = boxes[:n, [1, 0, 3, 2]].astype(np.float32) * self._to_pixels
        keep = scores > self.score_threshold
        if self.allowed is not None:
            keep &= np.isin(class_ids, self.allowed)
        if content_size is not None:
            keep &= boxes_on_content(xyxy, content_size)
        keep = np.flatnonzero(keep)[: self.max_results]  # rows come sorted by score
        return RawDetections(boxes=xyxy[keep], scores=scores[keep],
                             class_ids=class_ids[keep])
