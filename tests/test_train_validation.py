"""Validation during training reports what `edgedet eval` reports for the same weights."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgedet.data import load_dataset
from edgedet.data.synth import generate_dataset
from edgedet.evaluation import EVAL_MAX_RESULTS, EVAL_SCORE_THRESHOLD, evaluate
from edgedet.runtimes import Detector
from edgedet.train import TrainConfig
from edgedet.train.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from finetuned_fixture import fit_heads  # noqa: E402

SMALL = dict(model="d0", imgsz=128, batch=2, workers=0, threads=1, progress=False,
             scale_min=0.8, scale_max=1.2)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    # 15 images: 3 in val, so validation batches of 2 end with a partial batch.
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 15, "voc", seed=5,
                            image_size=(160, 128))


@pytest.fixture(scope="module")
def decisive_start(shapes, tmp_path_factory):
    """A D0 whose heads are fitted to the dataset's own images (letterboxed to 128).

    From random weights, one epoch leaves every score at the prior (0.0103, equal to 1e-8),
    and which of such ties NMS keeps depends on float rounding that differs between a
    batch of 2 and a single frame; then the two lists (and even their mAP) differ by luck.
    """
    from edgedet.runtimes.preprocess import letterbox

    samples = []
    for split in ("train", "val"):
        for sample in load_dataset(shapes, split=split).samples:
            image, placement = letterbox(cv2.imread(str(sample.image_path)), SMALL["imgsz"])
            boxes = sample.boxes * np.float32([placement.scale_x, placement.scale_y] * 2)
            samples.append((image, boxes, sample.class_ids))
    names = load_dataset(shapes, split="val").class_names
    return fit_heads(tmp_path_factory.mktemp("start") / "heads.pt", samples, names,
                     "synthetic shapes", steps=60)


def test_validation_equals_edgedet_eval(shapes, decisive_start, tmp_path, monkeypatch):
    import torch

    out = tmp_path / "run"
    config = dict(SMALL, model=None, weights=str(decisive_start))
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(out), epochs=1, lr=0.001, **config))
    opencv_threads, torch_threads = cv2.getNumThreads(), torch.get_num_threads()
    seen = []
    original_step = Trainer._step
    monkeypatch.setattr(Trainer, "_step",
                        lambda self, *batch: seen.append(cv2.getNumThreads()) or original_step(self, *batch))
    trainer.fit()
    # --workers 0: data in this process with one OpenCV thread; process settings restored.
    assert set(seen) == {1}
    assert (cv2.getNumThreads(), torch.get_num_threads()) == (opencv_threads, torch_threads)
    ours = trainer._validate()
    val = load_dataset(shapes, split="val")
    assert len(val) == 3 and ours["num_images"] == 3
    reference = evaluate(Detector(out / "last.pt", score_threshold=EVAL_SCORE_THRESHOLD,
                                  max_results=EVAL_MAX_RESULTS), val, progress=False)
    assert len(ours["detections"]) == len(reference["detections"]) > 0
    assert max(d["score"] for d in ours["detections"]) > 0.3, "the start is not decisive"
    for a, b in zip(ours["detections"], reference["detections"]):
        assert (a["image_id"], a["category_id"]) == (b["image_id"], b["category_id"])
        np.testing.assert_allclose(a["bbox"], b["bbox"], rtol=0, atol=1e-3)
        assert a["score"] == pytest.approx(b["score"], abs=1e-5)
    assert ours["map"] == pytest.approx(reference["map"], abs=1e-6)
    assert ours["map50"] == pytest.approx(reference["map50"], abs=1e-6)
    with (out / "results.csv").open() as f:
        row = next(csv.DictReader(f))
    assert float(row["val_map"]) == pytest.approx(reference["map"], abs=1e-6)


def test_val_every(shapes, tmp_path):
    Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "r"), epochs=3, val_every=2,
                        **SMALL)).fit()
    with (tmp_path / "r" / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    # Epoch 2 is due, epoch 3 is the last; epoch 1 is skipped.
    assert [r["val_map"] != "" for r in rows] == [False, True, True]
