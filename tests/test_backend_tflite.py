"""TFLite backend: interpreter choice and fallback, threads, int8 dequantization, bad files."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from convert_fixtures import shared_cache
from edgedet import Detector
from edgedet.errors import ModelLoadError

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def cache(tmp_path_factory, small_checkpoint):
    return shared_cache(tmp_path_factory, small_checkpoint)


def test_info_names_interpreter_and_threads(cache):
    det = Detector(cache.get("tflite", "fp32"), num_threads=2)
    assert det.info["backend"] == "tflite"
    assert det.info["interpreter"] == "ai-edge-litert"
    assert det.info["threads"] == 2
    assert det.metadata.layout == "NHWC"


def test_opening_and_running_prints_nothing_from_the_runtime(cache, capfd):
    path = cache.get("tflite", "fp32")
    capfd.readouterr()
    Detector(path).detect(np.zeros((64, 80, 3), np.uint8))
    captured = capfd.readouterr()
    assert "XNNPACK" not in captured.err + captured.out


def test_fallback_to_tflite_runtime_warns_about_speed(cache, monkeypatch):
    from ai_edge_litert.interpreter import Interpreter

    fake = types.ModuleType("tflite_runtime")
    fake.interpreter = types.SimpleNamespace(Interpreter=Interpreter)
    monkeypatch.setitem(sys.modules, "tflite_runtime", fake)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", fake.interpreter)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    with pytest.warns(UserWarning, match="tflite-runtime.*~15x slower"):
        det = Detector(cache.get("tflite", "fp32"))
    assert det.info["interpreter"] == "tflite-runtime"


def test_int8_outputs_are_raw_and_dequantized_with_the_files_params(cache):
    det = Detector(cache.get("tflite", "int8"))
    frame = np.full((256, 256, 3), 90, np.uint8)
    tensor, _ = det.preprocess(frame)
    assert tensor.dtype == np.int8 and tensor.shape == (1, 256, 256, 3)
    raw_cls, raw_boxes = det.backend.infer(tensor)
    assert raw_cls.dtype == np.int8 and raw_boxes.dtype == np.int8
    cls_logits, boxes = det.backend.infer_float(tensor)
    assert cls_logits.dtype == np.float32 and boxes.dtype == np.float32
    scale, zero_point = det.backend._outputs[0]["quantization"]
    np.testing.assert_allclose(cls_logits, (raw_cls.astype(np.float32) - zero_point) * scale)
    q = det.metadata.output_quantization["cls_logits"]
    assert (q.scale, q.zero_point) == pytest.approx((scale, zero_point))


def test_detections_from_int8_outputs_equal_float_postprocessing(cache):
    """Filtering on the raw int8 values gives what filtering dequantized outputs gives."""
    det = Detector(cache.get("tflite", "int8"), score_threshold=0.0, max_results=50)
    frame = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    dets = det.detect(frame)
    tensor, placement = det.preprocess(frame)
    cls_logits, boxes = det.backend.infer_float(tensor)
    expected = det.postprocess(cls_logits, boxes)
    assert len(dets) == len(expected.scores) == 50
    assert np.array_equal(dets.class_ids, expected.class_ids)
    assert np.allclose(dets.scores, expected.scores)
    assert np.allclose(dets.boxes, placement.to_original(expected.boxes), atol=1e-3)


def test_tflite_without_metadata_and_truncated_file(cache, tmp_path):
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(cache.get("tflite", "fp32").read_bytes()))
    model.metadata = []
    plain = tmp_path / "plain.tflite"
    plain.write_bytes(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    with pytest.raises(ModelLoadError, match="without edgedet metadata.*edgedet convert"):
        Detector(plain)
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes(cache.get("tflite", "fp32").read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="cut.tflite"):
        Detector(truncated)
