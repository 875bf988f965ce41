"""COCO-style evaluation of any model file through ``Detector`` (pycocotools does the maths)."""
from __future__ import annotations

import contextlib
import io
import json
import warnings
from typing import Any, Protocol

import numpy as np

from edgedet.data.cleaning import DatasetWarning
from edgedet.data.types import Dataset
from edgedet.errors import InvalidInputError, require
from edgedet.fileio import PathLike, atomic_write_text

# Settings that make mAP meaningful: keep low-confidence boxes, COCO's 100 per image.
EVAL_SCORE_THRESHOLD = 0.001
EVAL_MAX_RESULTS = 100


class SupportsDetect(Protocol):
    class_names: list[str]

    def detect(self, frame: np.ndarray, rgb: bool = False) -> Any: ...


def _class_mapping(model_names: list[str], dataset: Dataset) -> dict[int, int]:
    """Model class id -> dataset class id, matched by name."""
    missing = [n for n in dataset.class_names if n not in model_names]
    if missing:
        raise InvalidInputError(
            f"the model does not know dataset class(es) {missing}; model classes: {model_names}, "
            f"dataset classes: {dataset.class_names}"
        )
    return {i: dataset.class_names.index(n) for i, n in enumerate(model_names) if n in dataset.class_names}


def _ground_truth(dataset: Dataset, image_ids: list[int]) -> dict:
    images, annotations = [], []
    for image_id in image_ids:
        s = dataset.samples[image_id - 1]
        images.append({"id": image_id, "width": s.width, "height": s.height,
                       "file_name": s.image_path.name})
        for (x1, y1, x2, y2), cid in zip(s.boxes.tolist(), s.class_ids.tolist()):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": cid + 1, "bbox": [x1, y1, x2 - x1, y2 - y1],
                                "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(dataset.class_names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def coco_metrics(ground_truth: dict, detections: list[dict], class_names: list[str]) -> dict:
    """mAP@[.5:.95], mAP@.5 and per-class AP of COCO-format detections, via pycocotools."""
    require("pycocotools", "train", "evaluation")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    per_class = {n: {"ap": None, "ap50": None} for n in class_names}
    if not detections or not ground_truth["annotations"]:
        return {"map": 0.0, "map50": 0.0, "per_class": per_class}
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = ground_truth
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(detections), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    precision = evaluator.eval["precision"]  # [IoU thresholds, recall, class, area, max dets]
    for k, name in enumerate(class_names):
        p = precision[:, :, k, 0, -1]
        if (p > -1).any():
            per_class[name] = {"ap": float(p[p > -1].mean()),
                               "ap50": float(p[0][p[0] > -1].mean()) if (p[0] > -1).any() else 0.0}
    return {"map": float(evaluator.stats[0]), "map50": float(evaluator.stats[1]),
            "per_class": per_class}


def evaluate(detector: SupportsDetect, dataset: Dataset, progress: bool = True) -> dict:
    """Run ``detector`` over every image of ``dataset`` and score it COCO-style.

    ``detector`` is a :class:`edgedet.runtimes.Detector` (any model format) built with a low
    score threshold, e.g. ``Detector(path, score_threshold=0.001, max_results=100)``.
    Returns ``{"map", "map50", "per_class": {name: {"ap", "ap50"}}, "num_images",
    "detections"}``; the detections are COCO results (image ids are 1-based sample indices,
    category ids 1-based dataset class ids); save them with :func:`save_detections`.
    Unreadable images are skipped with a warning naming them. A detector that also has
    ``detect_batch(frames)`` and ``batch_size`` gets the frames that many at a time.
    """
    import cv2

    mapping = _class_mapping(list(detector.class_names), dataset)
    samples = dataset.samples
    if progress:
        from edgedet.progress import progress as progress_bar

        samples = progress_bar(samples, total=len(samples), desc=f"eval {dataset.name}/{dataset.split}",
                               unit="img", leave=True)
    detections, image_ids, pending = [], [], []
    # A detector with detect_batch (the trainer's validation) gets frames a batch at a time.
    batch_size = getattr(detector, "batch_size", 1) if hasattr(detector, "detect_batch") else 1

    def flush() -> None:
        if not pending:  # the split's size was a multiple of the batch
            return
        frames = [frame for _, frame in pending]
        found_per_frame = (detector.detect_batch(frames) if hasattr(detector, "detect_batch")
                           else [detector.detect(frame) for frame in frames])
        for (image_id, _), found in zip(pending, found_per_frame):
            for (x1, y1, x2, y2), score, cid in zip(found.boxes.tolist(), found.scores.tolist(),
                                                   found.class_ids.tolist()):
                if cid in mapping:
                    detections.append({"image_id": image_id, "category_id": mapping[cid] + 1,
                                       "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
        pending.clear()

    for image_id, sample in enumerate(samples, 1):
        frame = cv2.imread(str(sample.image_path), cv2.IMREAD_COLOR)
        if frame is None:
            warnings.warn(f"unreadable image skipped: {sample.image_path}", DatasetWarning)
            continue
        image_ids.append(image_id)
        pending.append((image_id, frame))
        if len(pending) >= batch_size:
            flush()
    flush()
    if not image_ids:
        raise InvalidInputError(f"no readable image in {dataset.root} split {dataset.split!r}")
    result = coco_metrics(_ground_truth(dataset, image_ids), detections, dataset.class_names)
    result.update(num_images=len(image_ids), detections=detections)
    return result


def save_detections(path: PathLike, result: dict, dataset: Dataset) -> None:
    """Write ``result["detections"]`` as a COCO results JSON, with each image's file name."""
    rows = [dict(d, bbox=[round(v, 2) for v in d["bbox"]], score=round(d["score"], 5),
                 file_name=str(dataset.samples[d["image_id"] - 1].image_path))
            for d in result["detections"]]
    atomic_write_text(path, json.dumps(rows))


def format_report(result: dict) -> str:
    """A plain-text table: overall mAP and per-class AP."""
    lines = [f"images: {result['num_images']}",
             f"mAP@[.5:.95]: {result['map']:.4f}", f"mAP@.5:       {result['map50']:.4f}",
             f"{'class':<20} {'AP@[.5:.95]':>12} {'AP@.5':>8}"]
    for name, ap in result["per_class"].items():
        fmt = lambda v: "n/a" if v is None else f"{v:.4f}"  # noqa: E731
        lines.append(f"{name:<20} {fmt(ap['ap']):>12} {fmt(ap['ap50']):>8}")
    return "\n".join(lines)
