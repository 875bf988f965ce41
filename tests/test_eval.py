"""Evaluation: our numbers equal pycocotools run by hand on the same predictions; the CLI works."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from edgedet.cli import main
from edgedet.data import load_dataset
from edgedet.data.synth import generate_dataset
from edgedet.errors import InvalidInputError
from edgedet.evaluation import evaluate
from edgedet.runtimes.detections import Detections


class ScriptedDetector:
    """Returns pre-computed detections for the i-th call: known predictions."""

    def __init__(self, class_names, per_image):
        self.class_names = class_names
        self.per_image = iter(per_image)

    def detect(self, frame, rgb=False):
        boxes, scores, ids = next(self.per_image)
        return Detections(boxes, scores, ids, self.class_names)


def _predictions(dataset, seed=0):
    """Ground truth jittered, some missed, some mislabelled, plus false positives."""
    rng = np.random.default_rng(seed)
    per_image = []
    for s in dataset.samples:
        keep = rng.random(len(s.boxes)) > 0.2
        boxes = s.boxes[keep] + rng.normal(0, 3, (int(keep.sum()), 4)).astype(np.float32)
        ids = s.class_ids[keep].copy()
        flip = rng.random(len(ids)) < 0.15
        ids[flip] = (ids[flip] + 1) % len(dataset.class_names)
        extra = rng.uniform(0, 100, (2, 4)).astype(np.float32)
        extra[:, 2:] += extra[:, :2] + 10
        per_image.append((np.concatenate([boxes, extra]), rng.uniform(0.05, 1, len(ids) + 2),
                          np.concatenate([ids, rng.integers(0, len(dataset.class_names), 2)])))
    return per_image


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("eval") / "ds", 30, "coco", seed=4)


def test_metrics_equal_pycocotools(shapes):
    dataset = load_dataset(shapes, split="val")
    per_image = _predictions(dataset)
    result = evaluate(ScriptedDetector(dataset.class_names, per_image), dataset, progress=False)

    # Independent reference: the generator's own COCO JSON + the predictions, straight into pycocotools.
    gt_path = shapes / "annotations" / "instances_val.json"
    gt_doc = json.loads(gt_path.read_text())
    ids_by_name = {img["file_name"]: img["id"] for img in gt_doc["images"]}
    reference = []
    for sample, (boxes, scores, ids) in zip(dataset.samples, per_image):
        for (x1, y1, x2, y2), score, cid in zip(boxes.tolist(), scores.tolist(), ids.tolist()):
            reference.append({"image_id": ids_by_name[sample.image_path.name], "category_id": cid + 1,
                              "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        ev = COCOeval(gt, gt.loadRes(reference), "bbox")
        ev.evaluate(), ev.accumulate(), ev.summarize()
    assert 0.2 < ev.stats[0] < 0.95  # a non-trivial score, so the comparison means something
    assert result["map"] == pytest.approx(ev.stats[0], abs=1e-9)
    assert result["map50"] == pytest.approx(ev.stats[1], abs=1e-9)
    assert result["num_images"] == len(dataset)
    ap = [v["ap"] for v in result["per_class"].values()]
    assert np.mean(ap) == pytest.approx(result["map"], abs=1e-6)


def test_perfect_predictions_score_one(shapes):
    dataset = load_dataset(shapes, split="val")
    perfect = [(s.boxes, np.ones(len(s.boxes)), s.class_ids) for s in dataset.samples]
    result = evaluate(ScriptedDetector(dataset.class_names, perfect), dataset, progress=False)
    assert result["map"] == pytest.approx(1.0) and result["map50"] == pytest.approx(1.0)


def test_model_without_a_dataset_class_is_refused(shapes):
    dataset = load_dataset(shapes, split="val")
    with pytest.raises(InvalidInputError, match="does not know dataset class"):
        evaluate(ScriptedDetector(["ellipse", "rectangle"], []), dataset, progress=False)


def test_eval_command_writes_detections(shapes, tmp_path, capsys):
    from edgedet.checkpoint import init_checkpoint

    dataset = load_dataset(shapes, split="val")
    model = tmp_path / "m.pt"
    init_checkpoint(model, "d0", dataset.class_names, input_size=128)
    out = tmp_path / "dets.json"
    assert main(["eval", "--model", str(model), "--data", str(shapes), "--split", "val",
                 "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "mAP@[.5:.95]" in printed and "ellipse" in printed
    rows = json.loads(out.read_text())
    assert rows and {"image_id", "category_id", "bbox", "score", "file_name"} <= set(rows[0])
    assert main(["eval", "--model", str(model), "--data", str(tmp_path / "missing")]) == 2
