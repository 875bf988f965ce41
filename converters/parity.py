"""Parity report: how closely a converted file reproduces the PyTorch model.

Measured on the calibration images (or deterministic synthetic images for float conversions
without ``--calib``): output SQNR in dB for class logits and box regression, and detection
agreement at the runtime's default thresholds (reference detections matched one-to-one to the
converted file's by IoU; mean IoU of matched pairs and the share that keep their class).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from edgedet.anchors import box_iou, generate_anchors
from edgedet.fileio import PathLike, atomic_write_text
from edgedet.metadata import ModelMetadata
from edgedet.progress import progress
from edgedet.runtimes.formats import get_format
from edgedet.runtimes.postprocess import Postprocessor, RawDetections
from edgedet.runtimes.preprocess import Preprocessor

MATCH_IOU = 0.5  # a converted detection counts as the same box above this overlap

Outputs = list[tuple[np.ndarray, np.ndarray]]  # per image: (cls_logits [N, C], boxes [N, 4])


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio, 10 log10(sum ref^2 / sum (ref - test)^2)."""
    reference = reference.astype(np.float64)
    noise = float(np.sum((reference - test.astype(np.float64)) ** 2))
    signal = float(np.sum(reference ** 2))
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(signal / noise) if signal > 0 else -math.inf


@dataclass
class ParityReport:
    """Parity of one converted file against the PyTorch model."""

    file: str
    target: str
    precision: str
    runtime: str
    images: int
    image_source: str  # "calibration" or "synthetic"
    cls_sqnr_db: float
    box_sqnr_db: float
    cls_max_abs_diff: float
    box_max_abs_diff: float
    reference_detections: int
    converted_detections: int
    matched_detections: int
    mean_iou: Optional[float]
    same_class_rate: Optional[float]
    score_threshold: float
    nms_iou_threshold: float

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        # JSON has no Infinity: an exact match (or an all-zero reference) is written as text.
        d = {k: (str(v) if isinstance(v, float) and math.isinf(v) else v)
             for k, v in self.to_dict().items()}
        return json.dumps(d, indent=2, sort_keys=True)

    def write_json(self, path: PathLike) -> None:
        atomic_write_text(path, self.to_json() + "\n")

    def format(self) -> str:
        """A few human-readable lines for the CLI."""
        def pct(x: Optional[float]) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"

        iou = "n/a" if self.mean_iou is None else f"{self.mean_iou:.3f}"
        return "\n".join([
            f"parity vs PyTorch on {self.images} {self.image_source} image(s), "
            f"{self.target} {self.precision} run by {self.runtime}:",
            f"  SQNR  class logits {self.cls_sqnr_db:.1f} dB (max |diff| {self.cls_max_abs_diff:.2e}), "
            f"boxes {self.box_sqnr_db:.1f} dB (max |diff| {self.box_max_abs_diff:.2e})",
            f"  detections (score >= {self.score_threshold}, NMS IoU {self.nms_iou_threshold}): "
            f"PyTorch {self.reference_detections}, converted {self.converted_detections}, "
            f"matched {self.matched_detections} (IoU >= {MATCH_IOU}); "
            f"mean IoU {iou}, same class {pct(self.same_class_rate)}",
        ])


def match_detections(ref: RawDetections, test: RawDetections) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching by IoU (best pairs first); returns (ref, test, iou) triples."""
    if len(ref.boxes) == 0 or len(test.boxes) == 0:
        return []
    iou = box_iou(ref.boxes, test.boxes)
    pairs = np.argwhere(iou >= MATCH_IOU)
    pairs = pairs[np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")]
    used_ref, used_test, matches = set(), set(), []
    for r, t in pairs:
        if r in used_ref or t in used_test:
            continue
        used_ref.add(r)
        used_test.add(t)
        matches.append((int(r), int(t), float(iou[r, t])))
    return matches


class ParityAccumulator:
    """Parity statistics gathered one image at a time, so memory does not grow with the
    number of images (a 90-class D0 at 512 px has 18 MB of class logits per image)."""

    def __init__(self, metadata: ModelMetadata):
        # The runtime's default thresholds, so agreement is measured where users will run.
        self.post = Postprocessor(generate_anchors(metadata.anchors))
        self.images = 0
        self.signal = [0.0, 0.0]  # sum of reference^2: class logits, boxes
        self.noise = [0.0, 0.0]  # sum of (reference - converted)^2
        self.max_abs = [0.0, 0.0]
        self.n_ref = self.n_new = 0
        self.ious: list[float] = []
        self.same: list[bool] = []

    def add(self, reference: tuple[np.ndarray, np.ndarray], converted: tuple[np.ndarray, np.ndarray]) -> None:
        """Add one image's ``(cls_logits [N, C], boxes [N, 4])`` from both models."""
        for i, (ref, new) in enumerate(zip(reference, converted)):
            ref64 = ref.astype(np.float64)
            diff = ref64 - new
            self.signal[i] += float(np.sum(ref64 * ref64))
            self.noise[i] += float(np.sum(diff * diff))
            self.max_abs[i] = max(self.max_abs[i], float(np.max(np.abs(diff))))
        ref_det, new_det = self.post(*reference), self.post(*converted)
        self.n_ref += len(ref_det.boxes)
        self.n_new += len(new_det.boxes)
        for r, t, iou in match_detections(ref_det, new_det):
            self.ious.append(iou)
            self.same.append(bool(ref_det.class_ids[r] == new_det.class_ids[t]))
        self.images += 1

    def sqnr_db(self, i: int) -> float:
        if self.noise[i] == 0.0:
            return math.inf
        return 10.0 * math.log10(self.signal[i] / self.noise[i]) if self.signal[i] > 0 else -math.inf

    def report(self, *, file: str, target: str, precision: str, runtime: str,
               image_source: str) -> ParityReport:
        return ParityReport(
            file=file, target=target, precision=precision, runtime=runtime,
            images=self.images, image_source=image_source,
            cls_sqnr_db=self.sqnr_db(0), box_sqnr_db=self.sqnr_db(1),
            cls_max_abs_diff=self.max_abs[0], box_max_abs_diff=self.max_abs[1],
            reference_detections=self.n_ref, converted_detections=self.n_new,
            matched_detections=len(self.ious),
            mean_iou=float(np.mean(self.ious)) if self.ious else None,
            same_class_rate=float(np.mean(self.same)) if self.same else None,
            score_threshold=self.post.score_threshold, nms_iou_threshold=self.post.iou_threshold,
        )


def _reference_output(model, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The PyTorch model's outputs for one RGB uint8 canvas."""
    import torch

    from edgedet.converters.calibration import nchw_float

    from edgedet.torch_settings import torch_settings

    # Fresh models carry denormal activations that make eager conv ~50x slower (measured).
    # Only around torch: the flag is per thread and the converted file's runtime shares it.
    with torch_settings(), torch.inference_mode():
        cls_logits, boxes = model(torch.from_numpy(nchw_float(image)))
    return cls_logits[0].numpy(), boxes[0].numpy()


def reference_outputs(model, images: list[np.ndarray]) -> Outputs:
    """Run the PyTorch model on RGB uint8 canvases; returns per-image numpy outputs (all kept:
    for tests and benchmarks on a few images; :func:`measure_parity` streams instead)."""
    return [_reference_output(model, image) for image in images]


class _ConvertedRunner:
    """A converted file run through its runtime backend exactly as ``Detector`` feeds it."""

    def __init__(self, path: PathLike, **backend_options):
        from edgedet.runtimes.backends import open_backend

        self.backend = backend = open_backend(path, num_threads=1, **backend_options)
        meta = backend.metadata
        self.prep = Preprocessor(meta.input_size, meta.layout, input_dtype=backend.input_dtype,
                                 quantization=meta.input_quantization)
        info = backend.info()
        self.runtime = info.get("backend", backend.name)
        if info.get("inference_precision"):
            self.runtime += f" ({info['inference_precision']})"

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tensor, _ = self.prep(image, rgb=True)
        cls_logits, boxes = self.backend.infer_float(tensor)
        return np.array(cls_logits, dtype=np.float32), np.array(boxes, dtype=np.float32)


def converted_outputs(path: PathLike, images: list[np.ndarray], **backend_options) -> tuple[Outputs, str]:
    """Run a converted file through its runtime backend exactly as ``Detector`` feeds it."""
    run = _ConvertedRunner(path, **backend_options)
    return [run(image) for image in images], run.runtime


def compare(reference: Outputs, converted: Outputs, metadata: ModelMetadata, *, file: str,
            target: str, precision: str, runtime: str, image_source: str) -> ParityReport:
    """Build the parity report from matching per-image outputs."""
    acc = ParityAccumulator(metadata)
    for ref, new in zip(reference, converted):
        acc.add(ref, new)
    return acc.report(file=file, target=target, precision=precision, runtime=runtime,
                      image_source=image_source)


def measure_parity(model, metadata: ModelMetadata, path: PathLike, target: str, precision: str,
                   images: Optional[list[np.ndarray]] = None,
                   reference: Optional[Outputs] = None) -> ParityReport:
    """Parity of the converted file ``path`` against ``model`` on ``images`` (RGB uint8
    canvases; deterministic synthetic images when None). ``reference`` may hold
    :func:`reference_outputs` already computed for the same images.

    The file runs with its format row's ``parity_backend_options`` (OpenVINO: f32 inference),
    so that the report describes the file itself, not a runtime's default execution precision.
    """
    from edgedet.converters.calibration import synthetic_images

    source = "calibration" if images is not None else "synthetic"
    samples = images if images is not None else synthetic_images(metadata.input_size)
    converted = _ConvertedRunner(path, **dict(get_format(target).parity_backend_options))
    acc = ParityAccumulator(metadata)
    for i, image in enumerate(progress(samples, total=len(samples), desc="parity")):
        ref = reference[i] if reference is not None else _reference_output(model, image)
        acc.add(ref, converted(image))
    return acc.report(file=str(path), target=target, precision=precision,
                      runtime=converted.runtime, image_source=source)
