"""The format registry: every fact about a model-file format comes from its one row."""
from __future__ import annotations

import inspect

import pytest

from edgedet.errors import InvalidInputError, ModelLoadError
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import (
    CONVERSIONS, OPENVINO, REGISTRY, SUFFIXES, SUPPORTED, TARGETS, TORCH, get_format, sniff_format)

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

# The first bytes of a file of each format, as written by its exporter.
HEADS = {
    "torch": b"PK\x03\x04" + bytes(60),
    "onnx": b"\x08\x08\x12\x07pytorch",
    "openvino": b'<?xml version="1.0"?>\n<net name="m" version="11">',
    "tflite": b"\x1c\x00\x00\x00TFL3" + bytes(56),
}


def test_every_row_is_recognized_by_its_content_alone(tmp_path):
    assert set(HEADS) == set(REGISTRY)
    for name, head in HEADS.items():
        path = tmp_path / f"{name}.bin"  # a suffix no row owns: content decides
        path.write_bytes(head)
        assert sniff_format(path) == name


def test_unrecognized_content_names_the_suffix_guess_and_every_format(tmp_path):
    path = tmp_path / "broken.tflite"
    path.write_bytes(b"\x00" * 16)
    with pytest.raises(ModelLoadError) as err:
        sniff_format(path)
    assert "its suffix says tflite" in str(err.value)
    assert all(row.title in str(err.value) for row in REGISTRY.values())


def test_views_of_the_registry():
    assert TARGETS == ("onnx", "openvino", "tflite") and not TORCH.is_target
    assert SUFFIXES == {"onnx": ".onnx", "openvino": ".xml", "tflite": ".tflite"}
    assert SUPPORTED["openvino"] == ("fp32", "fp16", "int8")
    assert set(CONVERSIONS) == {(t, p) for t in TARGETS for p in SUPPORTED[t]}
    assert get_format("ONNX") is REGISTRY["onnx"]
    with pytest.raises(InvalidInputError, match="unknown backend 'caffe': expected one of torch"):
        get_format("caffe", "backend")


def test_entry_points_resolve_to_backends_and_converters():
    for row in REGISTRY.values():
        backend = row.load_backend()
        assert issubclass(backend, Backend)
        assert list(inspect.signature(backend).parameters)[:2] == ["path", "num_threads"]
        if row.is_target:
            params = inspect.signature(row.load_converter()).parameters
            assert list(params)[:3] == ["model", "metadata", "out"]
        else:
            with pytest.raises(InvalidInputError, match="does not write"):
                row.load_converter()


def test_int8_needs_more_packages_than_float():
    for name in TARGETS:
        row = REGISTRY[name]
        assert set(row.needs("fp32")) < set(row.needs("int8"))
        assert all(need.extra in ("onnx", "openvino", "tflite", "convert") for need in row.needs("int8"))


def test_companion_files_count_as_the_model(tmp_path):
    xml = tmp_path / "m.xml"
    assert OPENVINO.files(xml) == [xml, tmp_path / "m.bin"]
    (tmp_path / "m.bin").write_bytes(b"1234")
    with pytest.raises(InvalidInputError, match="m.bin already exist.*--force"):
        OPENVINO.check_free(xml, overwrite=False)
    OPENVINO.check_free(xml, overwrite=True)
    xml.write_bytes(b"12")
    assert OPENVINO.size_bytes(xml) == 6
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"1")
    with pytest.raises(InvalidInputError, match="m.onnx already exists; pass --force"):
        REGISTRY["onnx"].check_free(onnx, overwrite=False)


def test_a_file_without_edgedet_metadata_says_how_to_make_one():
    with pytest.raises(ModelLoadError, match=r"m.tflite is a TFLite model without edgedet metadata.*"
                                             r"--target tflite --out model.tflite"):
        REGISTRY["tflite"].parse_metadata("m.tflite", None)
    with pytest.raises(ModelLoadError, match="an ONNX model without"):
        REGISTRY["onnx"].parse_metadata("m.onnx", None)


def test_in_graph_nms_is_a_field_of_the_formats_that_have_it(tmp_path):
    from edgedet.converters import convert_with_report
    from edgedet.converters.tflite_nms import NmsOptions, detector_file

    assert REGISTRY["tflite"].load_in_graph_nms() is detector_file
    assert [name for name, row in REGISTRY.items() if row.in_graph_nms] == ["tflite"]
    with pytest.raises(InvalidInputError, match=r"in-graph NMS \(--nms\) is available for tflite only, not onnx"):
        convert_with_report(tmp_path / "missing.pt", "onnx", tmp_path / "x.onnx", nms=NmsOptions())
