"""EfficientDet-Lite through every converter and backend (Lite0 at 160 px: odd P5-P7 grids)."""
from __future__ import annotations

import numpy as np
import pytest

from convert_fixtures import ALL_FORMATS, reference_on_calibration, run_backend, shared_cache
from edgedet import Detector
from edgedet.checkpoint import load_checkpoint
from edgedet.converters.parity import sqnr_db
from edgedet.runtimes.backends import open_backend

LITE_SIZE = 160
# fp16 IR weights change nothing the Lite graph exercises beyond fp32 (its D0 test covers it).
FORMATS = [(target, precision) for target, precision in ALL_FORMATS if precision != "fp16"]


@pytest.fixture(scope="module")
def lite_checkpoint(tmp_path_factory):
    from edgedet.checkpoint import init_checkpoint

    path = tmp_path_factory.mktemp("lite") / "lite0_small.pt"
    init_checkpoint(path, "lite0", ["circle", "square", "triangle"], input_size=LITE_SIZE, seed=0)
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory, lite_checkpoint):
    return shared_cache(tmp_path_factory, lite_checkpoint)


@pytest.fixture(scope="module")
def reference(cache):
    return reference_on_calibration(cache)



@pytest.mark.parametrize("target, precision", FORMATS)
def test_lite_converts_keeps_metadata_and_detects(cache, lite_checkpoint, target, precision):
    path = cache.get(target, precision)
    detector = Detector(path, score_threshold=0.0, max_results=5)
    frame = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    assert len(detector.detect(frame)) == 5
    _, original = load_checkpoint(lite_checkpoint)
    meta = detector.metadata
    assert meta.model == "lite0" and meta.precision == precision
    for field in ("input_size", "anchors", "normalization"):
        assert getattr(meta, field) == getattr(original, field), field


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_lite_fp32_matches_pytorch_and_int8_stays_close(cache, reference, target):
    images, ref = reference
    options = {"inference_precision": "f32"} if target == "openvino" else {}
    for (ref_cls, ref_box), (cls_logits, boxes) in zip(ref, run_backend(cache.get(target, "fp32"),
                                                                          images, **options)):
        assert np.abs(cls_logits - ref_cls).max() < 1e-3 and np.abs(boxes - ref_box).max() < 1e-3
    got = run_backend(cache.get(target, "int8"), images)
    for i in (0, 1):
        value = sqnr_db(np.stack([r[i] for r in ref]), np.stack([g[i] for g in got]))
        assert value >= 20.0, f"{target} int8 output {i}: {value:.1f} dB"


def test_lite_tflite_int8_is_full_integer_with_int8_io(cache):
    from test_convert_tflite import FLOAT_TYPES, _op_names, schema

    path = cache.get("tflite", "int8")
    model = schema.Model.GetRootAsModel(path.read_bytes(), 0)
    op_names = _op_names(model)
    graph = model.Subgraphs(0)
    float_ops, used, transposed_channels = [], set(), []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = op_names[op.OpcodeIndex()]
        used.add(name)
        tensors = [op.Inputs(j) for j in range(op.InputsLength())]
        tensors += [op.Outputs(j) for j in range(op.OutputsLength())]
        if any(t >= 0 and graph.Tensors(t).Type() in FLOAT_TYPES for t in tensors):
            float_ops.append(name)
        if name == "TRANSPOSE":
            shape = graph.Tensors(op.Inputs(0)).ShapeAsNumpy()
            transposed_channels.append(min(shape[1], shape[-1]))
    assert float_ops == [] and "DEQUANTIZE" not in used
    # The stem's TF-same pad runs on the 3-channel input in NCHW (litert-torch leaves it
    # there); every other layer stays NHWC.
    assert len(transposed_channels) <= 2 and set(transposed_channels) <= {3}
    assert "LOGISTIC" not in used  # no swish / squeeze-excitation sigmoid left
    backend = open_backend(path)
    assert backend.input_dtype == np.int8
    assert all(d["dtype"] == np.int8 for d in backend.interpreter.get_output_details())


def test_lite_onnx_graph_has_no_sigmoid(cache):
    import onnx

    ops = {n.op_type for n in onnx.load(str(cache.get("onnx", "fp32"))).graph.node}
    assert "Sigmoid" not in ops and "Clip" in ops  # ReLU6 everywhere
