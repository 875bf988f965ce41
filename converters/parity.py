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


def reference_outputs(model, images: list[np.ndarray]) -> Outputs:
    """Run the PyTorch model on RGB uint8 canvases; returns per-image numpy outputs."""
    import torch

    from edgedet.converters.calibration import to_nchw_float

    outputs = []
    # Fresh models carry denormal activations that make eager conv ~50x slower (measured);
    # flushing them changes values by < 1e-37.
    flushed = torch.set_flush_denormal(True)
    try:
        with torch.inference_mode():
            for tensor in to_nchw_float(images):
                cls_logits, boxes = model(torch.from_numpy(tensor))
                outputs.append((cls_logits[0].numpy(), boxes[0].numpy()))
    finally:
        if flushed:
            torch.set_flush_denormal(False)
    return outputs


def converted_outputs(path: PathLike, images: list[np.ndarray], **backend_options) -> tuple[Outputs, str]:
    """Run a converted file through its runtime backend exactly as ``Detector`` feeds it."""
    from edgedet.runtimes.backends import open_backend

    backend = open_backend(path, num_threads=1, **backend_options)
    meta = backend.metadata
    prep = Preprocessor(meta.input_size, meta.layout, input_dtype=backend.input_dtype,
                        quantization=meta.input_quantization)
    outputs = []
    for image in images:
        tensor, _ = prep(image, rgb=True)
        cls_logits, boxes = backend.infer_float(tensor)
        outputs.append((np.array(cls_logits, dtype=np.float32), np.array(boxes, dtype=np.float32)))
    info = backend.info()
    runtime = info.get("backend", backend.name)
    if info.get("inference_precision"):
        runtime += f" ({info['inference_precision']})"
    return outputs, runtime


def compare(reference: Outputs, converted: Outputs, metadata: ModelMetadata, *, file: str,
            target: str, precision: str, runtime: str, image_source: str) -> ParityReport:
    """Build the parity report from matching per-image outputs."""
    # The runtime's default thresholds, so agreement is measured where users will run.
    post = Postprocessor(generate_anchors(metadata.anchor_spec))
    ref_cls = np.stack([o[0] for o in reference])
    ref_box = np.stack([o[1] for o in reference])
    new_cls = np.stack([o[0] for o in converted])
    new_box = np.stack([o[1] for o in converted])
    n_ref = n_new = 0
    ious, same = [], []
    for (rc, rb), (nc, nb) in zip(reference, converted):
        ref_det, new_det = post(rc, rb), post(nc, nb)
        n_ref += len(ref_det.boxes)
        n_new += len(new_det.boxes)
        for r, t, iou in match_detections(ref_det, new_det):
            ious.append(iou)
            same.append(ref_det.class_ids[r] == new_det.class_ids[t])
    return ParityReport(
        file=file, target=target, precision=precision, runtime=runtime,
        images=len(reference), image_source=image_source,
        cls_sqnr_db=sqnr_db(ref_cls, new_cls), box_sqnr_db=sqnr_db(ref_box, new_box),
        cls_max_abs_diff=float(np.max(np.abs(ref_cls - new_cls))),
        box_max_abs_diff=float(np.max(np.abs(ref_box - new_box))),
        reference_detections=n_ref, converted_detections=n_new, matched_detections=len(ious),
        mean_iou=float(np.mean(ious)) if ious else None,
        same_class_rate=float(np.mean(same)) if same else None,
        score_threshold=post.score_threshold, nms_iou_threshold=post.iou_threshold,
    )


def measure_parity(model, metadata: ModelMetadata, path: PathLike, target: str, precision: str,
                   images: Optional[list[np.ndarray]] = None,
                   reference: Optional[Outputs] = None) -> ParityReport:
    """Parity of the converted file ``path`` against ``model`` on ``images`` (RGB uint8
    canvases; deterministic synthetic images when None). ``reference`` may hold
    :func:`reference_outputs` already computed for the same images.

    OpenVINO runs with f32 inference here so that the report describes the file itself, not
    the CPU plugin's default bf16 execution.
    """
    from edgedet.converters.calibration import synthetic_images

    source = "calibration" if images is not None else "synthetic"
    samples = images if images is not None else synthetic_images(metadata.input_size)
    options = {"inference_precision": "f32"} if target == "openvino" else {}
    converted, runtime = converted_outputs(path, samples, **options)
    if reference is None:
        reference = reference_outputs(model, samples)
    return compare(reference, converted, metadata, file=str(path),
                   target=target, precision=precision, runtime=runtime, image_source=source)
