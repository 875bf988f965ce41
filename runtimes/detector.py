"""``Detector``: one API over every model file, preprocessing and NMS built in."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from edgedet.anchors import generate_anchors
from edgedet.errors import InvalidInputError
from edgedet.runtimes.backends import open_backend
from edgedet.runtimes.detections import Detections
from edgedet.runtimes.ingraph_postprocess import InGraphPostprocessor
from edgedet.runtimes.options import DetectorOptions, check_flag
from edgedet.runtimes.per_thread import PerThread
from edgedet.runtimes.postprocess import Postprocessor
from edgedet.runtimes.preprocess import Preprocessor


def detections_in_frame(postprocess: Postprocessor | InGraphPostprocessor, placement,
                        class_names: Sequence[str], outputs: Sequence[np.ndarray]) -> Detections:
    """One frame's model outputs -> :class:`Detections` in that frame's pixels (what
    :meth:`Detector.detect` does after inference; training's batched validation uses it too)."""
    raw = postprocess(*outputs, content_size=placement.content_size)
    boxes = placement.to_original(raw.boxes)
    # Clipping to the frame can still flatten a box that only grazed its edge.
    kept = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return Detections(boxes[kept], raw.scores[kept], raw.class_ids[kept], class_names)


class Detector:
    """Run an edgedet model file (``.pt``, ``.onnx``; more formats as installed) on frames.

    Example::

        det = Detector("d0.onnx")
        for d in det.detect(cv2.imread("street.jpg")):
            print(d.label, d.score, d.box)

    Args:
        model_path: model file; its format is read from its content.
        score_threshold, iou_threshold, max_results, num_threads, categories, pre_nms_top_k,
        denied_categories: see :class:`~edgedet.runtimes.options.DetectorOptions`.
        backend: force a backend ("onnx", "torch", ...) instead of sniffing the file.
        options: all of the settings above at once, instead of as keywords.
        backend_options: the backend's own settings (e.g. OpenVINO's ``inference_precision``);
            a name neither the Detector nor the backend takes is an error that lists both.
    """

    def __init__(self, model_path: str | Path, score_threshold: float = 0.3,
                 iou_threshold: float = 0.5, max_results: int = 100, num_threads: int = 1,
                 categories: Optional[Sequence[str]] = None, backend: Optional[str] = None,
                 pre_nms_top_k: int = 1000, *, denied_categories: Optional[Sequence[str]] = None,
                 options: Optional[DetectorOptions] = None, **backend_options):
        given = DetectorOptions(score_threshold, iou_threshold, max_results, num_threads,
                                categories, denied_categories, pre_nms_top_k)
        if options is not None:
            if not isinstance(options, DetectorOptions):
                raise InvalidInputError(f"options must be a DetectorOptions, got {options!r}")
            if given != DetectorOptions():
                raise InvalidInputError("pass Detector settings either in options= or as "
                                        "keywords, not both")
            given = options
        self.options = given
        self.model_path = Path(model_path)
        self.backend = open_backend(model_path, num_threads=given.num_threads, backend=backend,
                                    caller_options=(*DetectorOptions.names(), "backend", "options"),
                                    **backend_options)
        self.metadata = self.backend.metadata
        meta = self.metadata
        self.class_names = list(meta.class_names)
        class_ids = given.class_ids(self.class_names)
        # The preprocessor reuses its buffers, so each calling thread gets its own.
        self._preprocessors = PerThread(lambda: Preprocessor(
            meta.input_size, meta.layout, meta.letterbox.pad_value,
            input_dtype=self.backend.input_dtype, quantization=meta.input_quantization,
        ))
        self._preprocessors.get()  # made now for this thread, so a bad layout fails here
        # A file whose graph ends in decoding + NMS (TFLite --nms) skips host NMS.
        if meta.postprocess:
            self.postprocess = InGraphPostprocessor(
                meta.input_size, meta.postprocess, given.score_threshold, given.iou_threshold,
                given.max_results, class_ids=class_ids)
        else:
            # Integer outputs are filtered in the quantized domain (see Postprocessor).
            self.postprocess = Postprocessor(
                generate_anchors(meta.anchors), given.score_threshold, given.iou_threshold,
                given.max_results, pre_nms_top_k=given.pre_nms_top_k, class_ids=class_ids,
                output_quantization=meta.quantization_of_outputs(),
            )
        self.num_threads = given.num_threads
        self._per_call = threading.local()

    @property
    def preprocess(self) -> Preprocessor:
        """The calling thread's preprocessor (frame -> input tensor)."""
        return self._preprocessors.get()

    @property
    def timings(self) -> dict[str, float]:
        """Per-stage milliseconds of the calling thread's last :meth:`detect`."""
        return getattr(self._per_call, "timings", {})

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
        (milliseconds) are in :attr:`timings` afterwards. Safe to call from several threads
        at once: each thread has its own buffers (and, where the runtime needs it, its own
        inference state).
        """
        t0 = time.perf_counter()
        tensor, placement = self.preprocess(frame, rgb=check_flag("rgb", rgb))
        t1 = time.perf_counter()
        outputs = self.backend.infer(tensor)
        t2 = time.perf_counter()
        detections = detections_in_frame(self.postprocess, placement, self.class_names, outputs)
        t3 = time.perf_counter()
        self._per_call.timings = {
            "preprocess_ms": (t1 - t0) * 1e3, "inference_ms": (t2 - t1) * 1e3,
            "postprocess_ms": (t3 - t2) * 1e3, "total_ms": (t3 - t0) * 1e3,
        }
        return detections

    def __repr__(self) -> str:
        return f"Detector({str(self.model_path)!r}, backend={self.backend.name})"
