"""Conversion requests that must fail early and clearly, and failures that leave no files."""
from __future__ import annotations

import builtins
import json
import shutil

import pytest
import torch

from convert_fixtures import shared_cache, write_calibration_folder
from edgedet import Detector
from edgedet.cli import main
from edgedet.converters import SUFFIXES, convert, convert_with_report
from edgedet.errors import InvalidInputError, MissingDependencyError, ModelLoadError


@pytest.fixture(scope="module")
def calib(tmp_path_factory):
    return write_calibration_folder(tmp_path_factory.mktemp("calib_bad"), count=2)


@pytest.mark.parametrize("target, precision, message", [
    ("caffe", "fp32", "unknown target 'caffe': expected one of onnx, openvino, tflite"),
    ("onnx", "int4", "unknown precision 'int4': expected one of fp32, fp16, int8"),
    ("onnx", "fp16", "target onnx cannot be written in fp16.*available for openvino"),
    ("tflite", "fp16", "target tflite cannot be written in fp16"),
])
def test_bad_target_or_precision(small_checkpoint, tmp_path, target, precision, message):
    with pytest.raises(InvalidInputError, match=message):
        convert(small_checkpoint, target, None, precision=precision)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_int8_without_calibration_says_how_to_fix(small_checkpoint, tmp_path, target):
    out = tmp_path / f"m{SUFFIXES[target]}"
    with pytest.raises(InvalidInputError, match="needs calibration images: add --calib PATH"):
        convert(small_checkpoint, target, out, precision="int8")


def test_calibration_path_missing_empty_or_unreadable(small_checkpoint, tmp_path):
    out = tmp_path / "m.onnx"
    with pytest.raises(InvalidInputError, match="calibration path not found"):
        convert(small_checkpoint, "onnx", out, "int8", calib=tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="no images|not an image folder"):
        convert(small_checkpoint, "onnx", out, "int8", calib=empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.jpg").write_text("not an image")
    with pytest.raises(InvalidInputError, match="none of its 1 image file"):
        convert(small_checkpoint, "onnx", out, "int8", calib=broken)
    with pytest.raises(InvalidInputError, match="calibration size must be an integer >= 1"):
        convert(small_checkpoint, "onnx", out, "int8", calib=broken, calib_size=0)
    assert not out.exists()


def test_output_suffix_must_match_target(small_checkpoint, tmp_path):
    with pytest.raises(InvalidInputError, match=r"suffix '.onnx' but a tflite file must end in .tflite"):
        convert(small_checkpoint, "tflite", tmp_path / "m.onnx")


def _edit_checkpoint(src, dst, edit):
    state = torch.load(src, weights_only=True)
    edit(state)
    torch.save(state, dst)
    return dst


def test_checkpoint_without_metadata(small_checkpoint, tmp_path):
    ckpt = _edit_checkpoint(small_checkpoint, tmp_path / "nometa.pt", lambda s: s.pop("metadata"))
    with pytest.raises(ModelLoadError, match="no 'metadata' record"):
        convert(ckpt, "onnx", tmp_path / "m.onnx")


def test_checkpoint_from_newer_format(small_checkpoint, tmp_path):
    ckpt = _edit_checkpoint(small_checkpoint, tmp_path / "new.pt",
                            lambda s: s["metadata"].update(format_version=99))
    with pytest.raises(ModelLoadError, match="format version 99 is newer"):
        convert(ckpt, "onnx", tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_model_file_given_as_checkpoint_is_detected_by_content(small_onnx, tmp_path):
    renamed = tmp_path / "looks_like.pt"
    shutil.copy(small_onnx, renamed)
    with pytest.raises(InvalidInputError, match="is an onnx model file, not a PyTorch checkpoint"):
        convert(renamed, "openvino", tmp_path / "m.xml")


def test_renamed_model_files_still_load_by_content(tmp_path_factory, small_checkpoint, small_onnx, tmp_path):
    tflite = shared_cache(tmp_path_factory, small_checkpoint).get("tflite", "fp32")
    as_onnx = tmp_path / "really_tflite.onnx"
    shutil.copy(tflite, as_onnx)
    assert Detector(as_onnx).backend.name == "tflite"
    as_tflite = tmp_path / "really_onnx.tflite"
    shutil.copy(small_onnx, as_tflite)
    assert Detector(as_tflite).backend.name == "onnxruntime"


def test_existing_ir_half_not_overwritten_without_force(small_checkpoint, tmp_path):
    (tmp_path / "m.bin").write_bytes(b"keep")
    with pytest.raises(InvalidInputError, match="m.bin already exist.*--force"):
        convert(small_checkpoint, "openvino", tmp_path / "m.xml")
    assert (tmp_path / "m.bin").read_bytes() == b"keep" and not (tmp_path / "m.xml").exists()


def _block_imports(monkeypatch, *prefixes):
    """Make importing any module under ``prefixes`` fail, by either import route."""
    import importlib

    def blocking(real):
        def fake(name, *args, **kwargs):
            if name.split(".")[0] in prefixes:
                raise ImportError(f"No module named {name!r}")
            return real(name, *args, **kwargs)
        return fake

    monkeypatch.setattr(builtins, "__import__", blocking(builtins.__import__))
    monkeypatch.setattr(importlib, "import_module", blocking(importlib.import_module))


def test_missing_interpreters_name_the_extra(tmp_path_factory, small_checkpoint, monkeypatch):
    cache = shared_cache(tmp_path_factory, small_checkpoint)
    tflite, xml = cache.get("tflite", "fp32"), cache.get("openvino", "fp32")
    _block_imports(monkeypatch, "ai_edge_litert", "tflite_runtime", "openvino")
    with pytest.raises(MissingDependencyError, match=r"pip install 'edgedet\[tflite\]'"):
        Detector(tflite)
    with pytest.raises(MissingDependencyError, match=r"pip install 'edgedet\[openvino\]'"):
        Detector(xml)


def test_missing_converter_package_names_the_extra(small_checkpoint, calib, tmp_path, monkeypatch):
    _block_imports(monkeypatch, "nncf", "litert_torch")
    with pytest.raises(MissingDependencyError, match=r"'nncf'.*pip install 'edgedet\[convert\]'"):
        convert(small_checkpoint, "openvino", tmp_path / "m.xml", "int8", calib=calib)
    with pytest.raises(MissingDependencyError, match=r"'litert_torch'.*edgedet\[convert\]"):
        convert(small_checkpoint, "tflite", tmp_path / "m.tflite")
    assert list(tmp_path.iterdir()) == []


def test_failed_openvino_save_leaves_neither_xml_nor_bin(small_checkpoint, tmp_path, monkeypatch):
    import openvino

    def half_save(model, path, compress_to_fp16=True):
        open(str(path)[:-4] + ".bin", "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(openvino, "save_model", half_save)
    with pytest.raises(OSError, match="disk full"):
        convert(small_checkpoint, "openvino", tmp_path / "m.xml")
    # At most the converter libraries' log remains (it helps explain the failure).
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".log"] == []


def test_failed_int8_quantization_leaves_no_file(small_checkpoint, calib, tmp_path, monkeypatch):
    from onnxruntime import quantization

    def broken(*args, **kwargs):
        raise RuntimeError("calibration crashed")

    monkeypatch.setattr(quantization, "quantize_static", broken)
    with pytest.raises(RuntimeError, match="calibration crashed"):
        convert(small_checkpoint, "onnx", tmp_path / "m.onnx", "int8", calib=calib)
    # At most the converter libraries' log remains (it helps explain the failure).
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".log"] == []


def test_cli_convert_prints_report_and_writes_json(small_checkpoint, calib, tmp_path, capsys):
    out, report = tmp_path / "m.onnx", tmp_path / "parity.json"
    assert main(["convert", "--weights", str(small_checkpoint), "--target", "onnx",
                 "--out", str(out), "--calib", str(calib), "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "parity vs PyTorch on 2 calibration image(s)" in printed and "SQNR" in printed
    record = json.loads(report.read_text())
    assert record["target"] == "onnx" and record["images"] == 2
    assert record["cls_max_abs_diff"] < 1e-3
    # existing output without --force: exit code 2 and a message, file untouched
    before = out.read_bytes()
    assert main(["convert", "--weights", str(small_checkpoint), "--target", "onnx",
                 "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == before


def test_cli_rejects_unknown_precision(small_checkpoint, capsys):
    assert main(["convert", "--weights", str(small_checkpoint), "--target", "openvino",
                 "--precision", "bf16"]) == 2
    assert "expected one of fp32, fp16, int8" in capsys.readouterr().err


def test_convert_with_report_can_skip_the_report(small_checkpoint, tmp_path):
    path, report = convert_with_report(small_checkpoint, "onnx", tmp_path / "m.onnx", report=False)
    assert path.exists() and report is None
