"""Detector: letterbox round trip, backends agree, timings, torch-free runtime."""
import json
import subprocess
import sys

import numpy as np
import pytest

from edgedet import Detector
from edgedet.anchors import generate_anchors
from edgedet.runtimes.preprocess import letterbox


class FixedOutputs:
    """A backend stand-in whose outputs are chosen by the test (so the answer is known)."""

    name = "fixed"

    def __init__(self, metadata, cls_logits, box_regression):
        self.metadata = metadata
        self.input_dtype = np.dtype(np.float32)
        self.outputs = (cls_logits, box_regression)
        self.seen = None

    def infer(self, tensor):
        self.seen = tensor.copy()
        return self.outputs

    def info(self):
        return {"backend": self.name}


def test_boxes_are_mapped_back_through_the_letterbox(small_onnx):
    det = Detector(small_onnx, score_threshold=0.5)
    meta = det.metadata
    anchors = generate_anchors(meta.anchors)
    # One confident anchor, zero regression: the detection IS that anchor in input pixels.
    k = 9 * (32 * 5 + 10) + 4  # P3, row 5, column 10, anchor 4 (square, mid scale)
    cls_logits = np.full((len(anchors), 3), -10.0, np.float32)
    cls_logits[k, 1] = 5.0
    det.backend = FixedOutputs(meta, cls_logits, np.zeros((len(anchors), 4), np.float32))
    frame = np.zeros((300, 600, 3), np.uint8)  # wide: scale 256/600, content 256 x 128
    dets = det.detect(frame)
    assert len(dets) == 1
    d = dets[0]
    sx, sy = 256 / 600, 128 / 300
    expected = anchors[k] / np.array([sx, sy, sx, sy])
    assert np.allclose(d.box, np.clip(expected, 0, [600, 300, 600, 300]), atol=1e-3)
    assert d.class_id == 1 and d.label == "square"
    assert d.score == pytest.approx(1 / (1 + np.exp(-5.0)), rel=1e-5)


def test_preprocess_places_content_top_left_in_rgb(small_onnx):
    det = Detector(small_onnx)
    anchors = len(generate_anchors(det.metadata.anchors))
    fake = FixedOutputs(det.metadata, np.full((anchors, 3), -10, np.float32), np.zeros((anchors, 4), np.float32))
    det.backend = fake
    frame = np.zeros((100, 400, 3), np.uint8)
    frame[:, :200] = (255, 0, 0)  # left half blue in BGR
    det.detect(frame)
    x = fake.seen[0]  # [3, 256, 256] RGB
    assert x.shape == (3, 256, 256)
    assert x[2, 10, 10] == 255 and x[0, 10, 10] == 0  # blue went to channel 2 (RGB)
    assert x[2, 10, 200] == 0  # right half black
    assert np.all(x[:, 70:, :] == 114)  # below the 64-row content: padding


def test_letterbox_scale_and_padding():
    img = np.full((50, 100, 3), 7, np.uint8)
    out, info = letterbox(img, 128, pad_value=114)
    assert out.shape == (128, 128, 3)
    assert (info.scale_x, info.scale_y) == (1.28, 1.28)
    assert np.all(out[:64, :] == 7) and np.all(out[64:, :] == 114)


def test_onnx_and_pytorch_backends_agree(small_checkpoint, small_onnx):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    a = Detector(small_onnx, score_threshold=0.005)
    b = Detector(small_checkpoint, score_threshold=0.005)
    da, db = a.detect(frame), b.detect(frame)
    assert a.backend.name == "onnxruntime" and b.backend.name == "pytorch"
    assert len(da) == len(db) > 0
    assert np.allclose(da.boxes, db.boxes, atol=1e-2)
    assert np.allclose(da.scores, db.scores, atol=1e-4)


def test_timings_and_info(small_onnx):
    det = Detector(small_onnx)
    dets = det.detect(np.zeros((64, 64, 3), np.uint8))
    assert set(det.timings) == {"preprocess_ms", "inference_ms", "postprocess_ms", "total_ms"}
    assert all(v >= 0 for v in det.timings.values())
    info = det.info
    assert info["backend"] == "onnxruntime" and info["threads"] == 1 and info["input_size"] == 256
    assert json.loads(dets.to_json()) == dets.to_list()


def test_draw_returns_annotated_copy(small_onnx):
    det = Detector(small_onnx, score_threshold=0.0, max_results=3)
    frame = np.zeros((120, 160, 3), np.uint8)
    dets = det.detect(frame)
    drawn = dets.draw(frame)
    assert len(dets) == 3
    assert drawn.shape == frame.shape and drawn.any() and not frame.any()


def test_runtime_imports_and_runs_without_torch(small_onnx):
    code = f"""
import sys
sys.modules["torch"] = None  # any import of torch now raises ImportError
import numpy as np
from edgedet import Detector
det = Detector({str(small_onnx)!r}, score_threshold=0.0, max_results=5)
dets = det.detect(np.zeros((90, 160, 3), np.uint8))
assert len(dets) == 5, len(dets)
print("ok", det.backend.name)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ok onnxruntime" in result.stdout


def test_source_checkout_imports_without_installation(small_onnx):
    """From the repository root, with site-packages on the path but without the editable
    install's import hook (-S skips .pth files), the mapped subpackages still resolve."""
    import site
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = f"""
import sys
sys.modules["torch"] = None
import numpy as np
from edgedet import Detector
det = Detector({str(small_onnx)!r})
print(len(det.detect(np.zeros((32, 32, 3), np.uint8))) >= 0, Detector.__module__)
"""
    env = {"PYTHONPATH": ":".join(site.getsitepackages())}
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "True edgedet.runtimes.detector" in result.stdout
