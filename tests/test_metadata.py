"""ModelMetadata is parsed into typed parts once, at the file boundary; a bad record fails there
naming the file, the field, what it must be and what it is."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from edgedet.errors import ModelLoadError
from edgedet.input_size import InputSize
from edgedet.metadata import (OUTPUT_ORDER, PAD_VALUE, InGraphNms, Letterbox, ModelMetadata,
                              Normalization, Outputs, TensorQuantization)

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

RECORDS = json.loads((Path(__file__).parent / "data" / "metadata_231291e.json").read_text())


def test_parts_are_typed():
    meta = ModelMetadata.from_dict(RECORDS["d0_tflite_int8"], source="m.tflite")
    assert meta.letterbox == Letterbox("top-left", PAD_VALUE)
    assert meta.outputs.order == OUTPUT_ORDER and isinstance(meta.outputs, Outputs)
    assert isinstance(meta.normalization, Normalization) and meta.normalization.mean == (123.675, 116.28, 103.53)
    assert meta.input_quantization == TensorQuantization(1.0, -128, "int8")
    cls_q, box_q = meta.quantization_of_outputs()
    assert (cls_q.scale, cls_q.zero_point, box_q.zero_point) == (0.0732, 97, -4)
    assert meta.anchors.image_size == InputSize(256, 256) == meta.input_size
    assert meta.variant.is_default
    with pytest.raises(AttributeError):
        meta.input_size = 512  # frozen


def test_output_quantization_follows_the_output_order():
    record = copy.deepcopy(RECORDS["d0_tflite_int8"])
    record["outputs"]["order"] = ["box_regression", "cls_logits"]
    box_q, cls_q = ModelMetadata.from_dict(record).quantization_of_outputs()
    assert (box_q.zero_point, cls_q.zero_point) == (-4, 97)
    assert ModelMetadata.from_dict(RECORDS["d0_checkpoint"]).quantization_of_outputs() == (None, None)


def test_dequantize_and_threshold_agree():
    q = TensorQuantization(scale=0.25, zero_point=-3)
    values = np.arange(-128, 128, dtype=np.int8)
    real = q.dequantize(values)
    t = q.threshold(1.1, np.int8)
    np.testing.assert_array_equal(values > t, real > 1.1)


BAD = {
    "input_quantization": ({"dtype": "int4", "scale": 1.0, "zero_point": 0},
                           "m.onnx: metadata input_quantization dtype must be int8 or uint8, got 'int4'"),
    "letterbox": ({"align": "centre", "pad_value": 114},
                  "m.onnx: metadata letterbox align must be 'top-left', got 'centre'"),
    "outputs": ({"order": "cls_logits"}, "m.onnx: metadata outputs must be a record with an 'order' list"),
    "mean": ([1.0, 2.0], r"m.onnx: metadata mean must be three numbers, got \[1.0, 2.0\]"),
    "layout": ("CHW", "m.onnx: metadata layout must be NCHW or NHWC, got 'CHW'"),
    "input_size": (0, r"m.onnx: metadata input_size must be a positive integer or \[width, "
                      r"height\], got 0"),
    "postprocess": ({"op": "TFLite_Detection_PostProcess", "score_threshold": 0.1,
                     "iou_threshold": 0.5, "max_detections": 0},
                    "m.onnx: metadata postprocess.max_detections is out of range .*: 0"),
}


@pytest.mark.parametrize("field", sorted(BAD))
def test_a_bad_field_is_named_with_what_it_must_be(field):
    value, message = BAD[field]
    record = copy.deepcopy(RECORDS["d0_checkpoint"])
    record[field] = value
    with pytest.raises(ModelLoadError, match=message):
        ModelMetadata.from_dict(record, source="m.onnx")


def test_in_graph_nms_record_is_typed():
    nms = ModelMetadata.from_dict(RECORDS["d0_tflite_int8_nms"]).postprocess
    assert nms == InGraphNms("TFLite_Detection_PostProcess", 0.2, 0.5, 10, True)
    record = copy.deepcopy(RECORDS["d0_tflite_int8_nms"])
    del record["postprocess"]["iou_threshold"]
    with pytest.raises(ModelLoadError, match="m.tflite: metadata postprocess lacks iou_threshold"):
        ModelMetadata.from_dict(record, source="m.tflite")


def test_versions_one_to_three_load_and_newer_ones_ask_for_an_upgrade():
    assert ModelMetadata.from_dict(RECORDS["d0_onnx_fp32"]).format_version == 1
    assert ModelMetadata.from_dict(RECORDS["d0_tflite_fp32_nms"]).format_version == 2
    with pytest.raises(ModelLoadError, match="format version 4 is newer .* upgrade edgedet"):
        ModelMetadata.from_dict({**RECORDS["d0_onnx_fp32"], "format_version": 4}, source="m.onnx")
