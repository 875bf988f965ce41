"""``Detector``: one API over every model file, preprocessing and NMS built in."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from edgedet.anchors import generate_anchors
from edgedet.errors import InvalidInputError
from edgedet.metadata import ModelMetadata
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


def postprocessor_for(metadata: ModelMetadata,
                      options: DetectorOptions) -> Postprocessor | InGraphPostprocessor:
    """The post-processing a model file's outputs need, with the caller's ``options``: host
    decoding + NMS, or only filtering for a file whose graph ends in NMS (TFLite ``--nms``)."""
    class_ids = options.class_ids(metadata.class_names)
    if metadata.postprocess:
        return InGraphPostprocessor(metadata.input_size, metadata.postprocess, options,
                                    class_ids=class_ids)
    # Integer outputs are filtered in the quantized domain (see Postprocessor).
    return Postprocessor(generate_anchors(metadata.anchors), options, class_ids=class_ids,
                         output_quantization=metadata.quantization_of_outputs())


class Detector:
    """Run an edgedet model file on frames: any format of ``runtimes/formats.py``'s registry
    (``.pt``, ``.onnx``, OpenVINO ``.xml`` + ``.bin``, ``.tflite``) whose runtime is installed;
    opening one whose runtime is missing is an error naming the pip extra that adds it.

    Example::

        det = Detector("d0.onnx")
        for d in det.detect(cv2.imread("street.jpg")):
            print(d.label, d.score, d.box)

    Args:
        model_path: model file; its format is read from its content.
        score_threshold, iou_threshold, max_results, num_threads, categories, pre_nms_top_k,
        denied_categories, class_agnostic_nms: see
            :class:`~edgedet.runtimes.options.DetectorOptions` (their defaults live there).
        backend: force a backend ("onnx", "torch", ...) instead of sniffing the file.
        options: all of the settings above at once, instead of as keywords.
        backend_options: the backend's own settings (e.g. OpenVINO's ``inference_precision``);
            a name neither the Detector nor the backend takes is an error that lists both.
    """

    def __init__(self, model_path: str | Path, score_threshold: Optional[float] = None,
                 iou_threshold: Optional[float] = None, max_results: Optional[int] = None,
                 num_threads: Optional[int] = None, categories: Optional[Sequence[str]] = None,
                 backend: Optional[str] = None, pre_nms_top_k: Optional[int] = None, *,
                 denied_categories: Optional[Sequence[str]] = None,
                 class_agnostic_nms: Optional[bool] = None,
                 options: Optional[DetectorOptions] = None, **backend_options):
        keywords = {name: value for name, value in (
            ("score_threshold", score_threshold), ("iou_threshold", iou_threshold),
            ("max_results", max_results), ("num_threads", num_threads),
            ("categories", categories), ("denied_categories", denied_categories),
            ("pre_nms_top_k", pre_nms_top_k), ("class_agnostic_nms", class_agnostic_nms),
        ) if value is not None}
        if options is None:
            given = DetectorOptions(**keywords)
        elif not isinstance(options, DetectorOptions):
            raise InvalidInputError(f"options must be a DetectorOptions, got {options!r}")
        elif keywords:
            raise InvalidInputError(f"pass Detector settings either in options= or as "
                                    f"keywords, not both (got options= and {', '.join(keywords)})")
        else:
            given = options
        self.options = given
        self.model_path = Path(model_path)
        self.backend = open_backend(model_path, num_threads=given.num_threads, backend=backend,
                                    caller_options=(*DetectorOptions.names(), "backend", "options"),
                                    **backend_options)
        self.metadata = self.backend.metadata
        meta = self.metadata
        self.class_names = list(meta.class_names)
        # The preprocessor reuses its buffers, so each calling thread gets its own.
        self._preprocessors = PerThread(lambda: Preprocessor(
            meta.input_size, meta.layout, meta.letterbox.pad_value,
            input_dtype=self.backend.input_dtype, quantization=meta.input_quantization,
        ))
        self._preprocessors.get()  # made now for this thread, so a bad layout fails here
        self.postprocess = postprocessor_for(meta, given)
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
            "path": str(self.model_path), "model": meta.model,
            "input_size": meta.input_size.to_json(),  # N when square, else [width, height]
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
