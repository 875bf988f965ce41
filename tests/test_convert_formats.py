"""Every target x precision: converts, loads in Detector, matches PyTorch, keeps metadata."""
from __future__ import annotations

import json

import numpy as np
import pytest

from convert_fixtures import ALL_FORMATS, reference_on_calibration, run_backend, shared_cache
from edgedet import Detector
from edgedet.checkpoint import load_checkpoint
from edgedet.converters.parity import sqnr_db
from edgedet.metadata import ModelMetadata
from edgedet.runtimes.backends import open_backend

FP32_TOLERANCE = 1e-3
INT8_MIN_SQNR_DB = 20.0


@pytest.fixture(scope="module")
def cache(tmp_path_factory, small_checkpoint):
    return shared_cache(tmp_path_factory, small_checkpoint)


@pytest.fixture(scope="module")
def reference(cache):
    """PyTorch outputs on the calibration images, and the images themselves."""
    return reference_on_calibration(cache)



@pytest.mark.parametrize("target, precision", ALL_FORMATS)
def test_converts_and_detector_returns_detections(cache, target, precision):
    path = cache.get(target, precision)
    detector = Detector(path, score_threshold=0.0, max_results=5)
    frame = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    detections = detector.detect(frame)
    assert len(detections) == 5
    boxes = np.asarray([d.box for d in detections])
    assert boxes.min() >= 0 and boxes[:, 2].max() <= 200 and boxes[:, 3].max() <= 120
    assert detector.info["precision"] == precision
    assert detector.metadata.class_names == ["circle", "square", "triangle"]


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_fp32_matches_pytorch(cache, reference, target):
    images, ref = reference
    options = {"inference_precision": "f32"} if target == "openvino" else {}
    got = run_backend(cache.get(target, "fp32"), images, **options)
    for (ref_cls, ref_box), (cls_logits, boxes) in zip(ref, got):
        assert cls_logits.shape == ref_cls.shape and boxes.shape == ref_box.shape
        assert np.abs(cls_logits - ref_cls).max() < FP32_TOLERANCE
        assert np.abs(boxes - ref_box).max() < FP32_TOLERANCE


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_int8_reaches_20db_on_calibration_images(cache, reference, target):
    images, ref = reference
    got = run_backend(cache.get(target, "int8"), images)
    for i in (0, 1):
        value = sqnr_db(np.stack([r[i] for r in ref]), np.stack([g[i] for g in got]))
        assert value >= INT8_MIN_SQNR_DB, f"{target} int8 output {i}: {value:.1f} dB"


def test_openvino_fp16_is_close(cache, reference):
    images, ref = reference
    got = run_backend(cache.get("openvino", "fp16"), images, inference_precision="f32")
    assert sqnr_db(np.stack([r[0] for r in ref]), np.stack([g[0] for g in got])) > 40


@pytest.mark.parametrize("target, precision", ALL_FORMATS)
def test_metadata_round_trips(cache, small_checkpoint, target, precision):
    _, original = load_checkpoint(small_checkpoint)
    meta = open_backend(cache.get(target, precision)).metadata
    assert isinstance(meta, ModelMetadata)
    assert meta.precision == precision
    assert meta.layout == ("NHWC" if target == "tflite" else "NCHW")
    for field in ("model", "phi", "input_size", "class_names", "anchors", "normalization"):
        assert getattr(meta, field) == getattr(original, field), field


def test_parity_report_agrees_with_independent_measurement(cache, reference):
    images, ref = reference
    cache.get("onnx", "int8")
    report = cache.reports[("onnx", "int8")]
    got = run_backend(cache.files[("onnx", "int8")], images)
    expected = sqnr_db(np.stack([r[0] for r in ref]), np.stack([g[0] for g in got]))
    assert report.images == len(images) and report.image_source == "calibration"
    assert report.cls_sqnr_db == pytest.approx(expected, abs=0.01)
    record = json.loads(report.to_json())
    assert record["precision"] == "int8" and "box_sqnr_db" in record


def test_fp32_report_without_calibration_uses_synthetic_images(cache, tmp_path):
    from edgedet.converters import convert_with_report

    _, report = convert_with_report(cache.checkpoint, "onnx", tmp_path / "m.onnx")
    assert report.image_source == "synthetic" and report.images > 0
    assert report.cls_max_abs_diff < FP32_TOLERANCE



def test_onnx_int8_weights_leave_headroom_for_non_vnni_kernels(cache):
    # Full-range int8 weights overflow ORT's saturating int16 sums on AVX2 CPUs (see
    # converters/onnx_int8.py); 7-bit weights cannot.
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(cache.get("onnx", "int8"))).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer
               if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert weights, "no int8 conv weights in the quantized graph"
    assert min(int(w.min()) for w in weights) >= -64
    assert max(int(w.max()) for w in weights) <= 64
