"""TFLite specifics: full int8 graph, NHWC int8 input that maps exactly onto pixels, metadata."""
from __future__ import annotations

import numpy as np
import pytest

from convert_fixtures import shared_cache
from edgedet.metadata import METADATA_KEY, TensorQuantization
from edgedet.runtimes.tflite_metadata import read_tflite_metadata

schema = pytest.importorskip("ai_edge_litert.schema_py_generated")
FLOAT_TYPES = {schema.TensorType.FLOAT32, schema.TensorType.FLOAT16, schema.TensorType.FLOAT64}


@pytest.fixture(scope="module")
def int8_file(tmp_path_factory, small_checkpoint):
    return shared_cache(tmp_path_factory, small_checkpoint).get("tflite", "int8")


def _op_names(model) -> dict[int, str]:
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = {}
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        custom = oc.CustomCode()
        codes[i] = custom.decode() if custom else names.get(code, str(code))
    return codes


def test_int8_file_has_no_float_flex_or_custom_ops(int8_file):
    model = schema.Model.GetRootAsModel(int8_file.read_bytes(), 0)
    op_names = _op_names(model)
    assert not [n for n in op_names.values() if n == "CUSTOM" or n.startswith("Flex")
                or n in ("DEQUANTIZE",)], op_names
    graph = model.Subgraphs(0)
    float_ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        tensors = [op.Inputs(j) for j in range(op.InputsLength())]
        tensors += [op.Outputs(j) for j in range(op.OutputsLength())]
        if any(t >= 0 and graph.Tensors(t).Type() in FLOAT_TYPES for t in tensors):
            float_ops.append(op_names[op.OpcodeIndex()])
    assert float_ops == []
    assert graph.OperatorsLength() > 100  # the whole network, not a stub


def test_graph_runs_nhwc_without_transposes(int8_file):
    # The network is converted to NHWC end to end; a TRANSPOSE means some op (such as a
    # BiFPN fusion with a 0-d weight) was left in NCHW.
    model = schema.Model.GetRootAsModel(int8_file.read_bytes(), 0)
    op_names = _op_names(model)
    graph = model.Subgraphs(0)
    used = [op_names[graph.Operators(i).OpcodeIndex()] for i in range(graph.OperatorsLength())]
    assert "CONV_2D" in used and "TRANSPOSE" not in used


def test_int8_io_and_pixel_mapping(int8_file):
    from edgedet.runtimes.backends import open_backend

    backend = open_backend(int8_file)
    meta = backend.metadata
    assert backend.input_dtype == np.int8
    assert meta.layout == "NHWC"
    q = meta.input_quantization
    assert q == TensorQuantization(scale=1.0, zero_point=-128, dtype="int8")
    # uint8 pixels land exactly on int8 values: q = p - 128 == (p ^ 0x80) viewed as int8
    pixels = np.arange(256, dtype=np.uint8)
    quantized = np.clip(np.round(pixels / q.scale + q.zero_point), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(quantized, (pixels ^ 0x80).view(np.int8))
    assert set(meta.output_quantization) == {"cls_logits", "box_regression"}
    for params in meta.output_quantization.values():
        assert params.dtype == "int8" and params.scale > 0
    details = backend.interpreter.get_output_details()
    assert all(d["dtype"] == np.int8 for d in details)


def test_metadata_reader_matches_schema(int8_file):
    content = int8_file.read_bytes()
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    by_schema = {m.name.decode() if isinstance(m.name, bytes) else m.name: m.buffer
                 for m in model.metadata}
    found = read_tflite_metadata(content)
    assert METADATA_KEY in by_schema and METADATA_KEY in found
    assert bytes(model.buffers[by_schema[METADATA_KEY]].data) == found[METADATA_KEY]


def test_metadata_reader_rejects_non_tflite():
    with pytest.raises(ValueError, match="TFL3"):
        read_tflite_metadata(b"\x08\x07" + b"\x00" * 30)
    with pytest.raises(ValueError, match="corrupt"):
        read_tflite_metadata(b"\xff\xff\xff\x7fTFL3" + b"\x00" * 8)
