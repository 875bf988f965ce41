"""``Detector``: one API over every model file, preprocessing and NMS built in."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from edgedet.anchors import generate_anchors
from edgedet.errors import InvalidInputError
from edgedet.runtimes.backends import open_backend
from edgedet.runtimes.detections import Detections
from edgedet.runtimes.ingraph_postprocess import InGraphPostprocessor
from edgedet.runtimes.postprocess import Postprocessor, output_quantizations
from edgedet.runtimes.preprocess import Preprocessor


def _check_range(name: str, value: float, low: float, high: float) -> float:
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidInputError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


class Detector:
    """Run an edgedet model file (``.pt``, ``.onnx``; more formats as installed) on frames.

    Example::

        det = Detector("d0.onnx")
        for d in det.detect(cv2.imread("street.jpg")):
            print(d.label, d.score, d.box)

    Args:
        model_path: model file; its format is read from its content.
        score_threshold: minimum class probability to report.
        iou_threshold: NMS overlap above which the lower-scoring box of a class is dropped.
        max_results: most detections returned per frame.
        num_threads: CPU threads for inference (1 by default, for predictable latency).
        categories: optional allow-list of class names; others are never reported.
        backend: force a backend ("onnx", "torch", ...) instead of sniffing the file.
        pre_nms_top_k: most candidates passed from the score filter to NMS.
    """

    def __init__(self, model_path: str | Path, score_threshold: float = 0.3,
                 iou_threshold: float = 0.5, max_results: int = 100, num_threads: int = 1,
                 categories: Optional[Sequence[str]] = None, backend: Optional[str] = None,
                 pre_nms_top_k: int = 1000, **backend_options):
        _check_range("score_threshold", score_threshold, 0.0, 1.0)
        _check_range("iou_threshold", iou_threshold, 0.0, 1.0)
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInputError(f"max_results must be an integer >= 1, got {max_results!r}")
        if not isinstance(num_threads, int) or num_threads < 1:
            raise InvalidInputError(f"num_threads must be an integer >= 1, got {num_threads!r}")
        self.model_path = Path(model_path)
        self.backend = open_backend(model_path, num_threads=num_threads, backend=backend,
                                    **backend_options)
        self.metadata = self.backend.metadata
        meta = self.metadata
        self.class_names = list(meta.class_names)
        class_ids = None
        if categories is not None:
            unknown = [c for c in categories if c not in self.class_names]
            if unknown:
                raise InvalidInputError(
                    f"unknown categories {unknown}; this model knows {self.class_names}"
                )
            class_ids = [self.class_names.index(c) for c in categories]
        self.preprocess = Preprocessor(
            meta.input_size, meta.layout, int(meta.letterbox.get("pad_value", 114)),
            input_dtype=self.backend.input_dtype, quantization=meta.input_quantization,
        )
        # A file whose graph ends in decoding + NMS (TFLite --nms) skips host NMS.
        self._in_graph_nms = bool(meta.postprocess)
        if self._in_graph_nms:
            self.postprocess = InGraphPostprocessor(
                meta.input_size, meta.postprocess, score_threshold, iou_threshold, max_results,
                class_ids=class_ids)
        else:
            self.postprocess = Postprocessor(
                generate_anchors(meta.anchor_spec), score_threshold, iou_threshold, max_results,
                pre_nms_top_k=pre_nms_top_k, class_ids=class_ids,
            )
        # Backends may return raw integer outputs; the postprocessor filters them in the
        # quantized domain and dequantizes only the survivors.
        self._cls_quant, self._box_quant = output_quantizations(meta)
        self.num_threads = num_threads
        self.timings: dict[str, float] = {}

    @property
    def info(self) -> dict:
        """Model and backend facts: format, precision, input size, classes, threads."""
        meta = self.metadata
        return {
            "path": str(self.model_path), "model": meta.model, "input_size": meta.input_size,
            "precision": meta.precision, "classes": self.class_names,
            **self.backend.info(),
        }

    def detect(self, frame: np.ndarray, rgb: bool = False) -> Detections:
        """Detect objects in an HxWx3 uint8 frame (BGR unless ``rgb=True``) of any size.

        Boxes come back in the frame's own pixel coordinates. Per-stage times of this call
        (milliseconds) are in :attr:`timings` afterwards.
        """
        t0 = time.perf_counter()
        tensor, placement = self.preprocess(frame, rgb=rgb)
        t1 = time.perf_counter()
        outputs = self.backend.infer(tensor)
        t2 = time.perf_counter()
        if self._in_graph_nms:
            raw = self.postprocess(*outputs)
        else:
            raw = self.postprocess(*outputs, self._cls_quant, self._box_quant)
        detections = Detections(placement.to_original(raw.boxes), raw.scores, raw.class_ids,
                                self.class_names)
        t3 = time.perf_counter()
        self.timings = {
            "preprocess_ms": (t1 - t0) * 1e3, "inference_ms": (t2 - t1) * 1e3,
            "postprocess_ms": (t3 - t2) * 1e3, "total_ms": (t3 - t0) * 1e3,
        }
        return detections

    def __repr__(self) -> str:
        return f"Detector({str(self.model_path)!r}, backend={self.backend.name})"
