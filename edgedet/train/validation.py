"""Validation during training: the model being trained, on its own device, a batch at a time.

Frames go through the runtime's own letterbox and the postprocessing that ``Detector`` uses
(score filter, decode, top-k, NMS) with the settings of ``edgedet eval``; only the forward
pass is batched and stays on the training device. The numbers are therefore those that
``edgedet eval`` reports for the same weights, without writing a checkpoint, loading it back
on the CPU, or touching process-wide torch settings (the PyTorch backend sets the thread
count and denormal flushing for the whole process).
"""
from __future__ import annotations

import numpy as np
import torch

from edgedet.anchors import generate_anchors
from edgedet.data.types import Dataset
from edgedet.evaluation import EVAL_MAX_RESULTS, EVAL_SCORE_THRESHOLD, evaluate
from edgedet.metadata import ModelMetadata
from edgedet.runtimes.detections import Detections
from edgedet.runtimes.detector import detections_in_frame
from edgedet.runtimes.options import DetectorOptions
from edgedet.runtimes.postprocess import Postprocessor
from edgedet.runtimes.preprocess import Preprocessor


class BatchedModelDetector:
    """``detect_batch(frames)`` for an in-memory model: what ``Detector`` does per frame, with
    one forward pass per batch on ``device``."""

    def __init__(self, model: torch.nn.Module, metadata: ModelMetadata, device: torch.device,
                 batch_size: int, score_threshold: float = EVAL_SCORE_THRESHOLD,
                 max_results: int = EVAL_MAX_RESULTS):
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.class_names = list(metadata.class_names)
        self.preprocess = Preprocessor(metadata.input_size, "NCHW",
                                       metadata.letterbox.pad_value)
        # Settings eval does not pass keep the Detector defaults.
        self.postprocess = Postprocessor(
            generate_anchors(metadata.anchors),
            DetectorOptions(score_threshold=score_threshold, max_results=max_results))

    def detect_batch(self, frames: list[np.ndarray]) -> list[Detections]:
        """Detections of each BGR uint8 frame, in that frame's pixels."""
        batch = np.empty((len(frames), *self.preprocess.size.tensor_shape("NCHW")[1:]), np.float32)
        placements = []
        for i, frame in enumerate(frames):
            tensor, placement = self.preprocess(frame)
            batch[i] = tensor[0]
            placements.append(placement)
        with torch.inference_mode():
            cls_logits, box_regression = self.model(torch.from_numpy(batch).to(self.device))
            cls_logits, box_regression = cls_logits.float().cpu().numpy(), box_regression.float().cpu().numpy()
        found = []
        for i, placement in enumerate(placements):
            found.append(detections_in_frame(self.postprocess, placement, self.class_names,
                                             (cls_logits[i], box_regression[i])))
        return found


def validate(model: torch.nn.Module, metadata: ModelMetadata, dataset: Dataset,
             device: torch.device, batch_size: int) -> dict:
    """COCO mAP of ``model`` (in eval mode) on ``dataset``, as :func:`edgedet.evaluation.evaluate`
    reports it."""
    was_training = model.training
    model.eval()
    try:
        return evaluate(BatchedModelDetector(model, metadata, device, batch_size), dataset,
                        progress=False)
    finally:
        model.train(was_training)
