"""A file whose edgedet metadata disagrees with its graph fails when opened, saying what
disagrees (it used to fail at detect() with a runtime's error, or label boxes '2')."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from convert_fixtures import shared_cache
from edgedet import Detector
from edgedet.errors import ModelLoadError
from edgedet.metadata import METADATA_KEY

EDITS: dict[str, tuple[Callable[[dict], None], str]] = {
    "input size": (lambda d: d.update(input_size=320),
                   "anchors are for 256 px but input_size is 320"),
    "input size and anchors": (lambda d: (d.update(input_size=320), d["anchors"].update(image_size=320)),
                               r"graph's input shape is \[1, (3, )?256, 256(, 3)?\] but the metadata "
                               r"\(input_size 320 and layout N..."),
    "anchors without aspect ratios": (lambda d: d["anchors"].pop("aspect_ratios"),
                                      "anchors record lacks aspect_ratios"),
    "anchors with a string level": (lambda d: d["anchors"].update(min_level="three"),
                                    "anchors record is malformed"),
    "too few class names": (lambda d: d.update(class_names=["circle", "square"]),
                            r"class output shape is \[1, \d+, 3\] but the metadata .*2 class_names"),
    "class names not strings": (lambda d: d.update(class_names=[1, 2, 3]),
                                "class_names must be a non-empty list of strings"),
    "pad value out of range": (lambda d: d.update(letterbox={"pad_value": 300}),
                               "letterbox must be a record with an integer pad_value in 0-255"),
    "output quantization without scale": (
        lambda d: d.update(output_quantization={"cls_logits": {"zero_point": 3}}),
        "output_quantization.cls_logits must hold a positive scale"),
}


def _edit_onnx(path: Path, out: Path, change: Callable[[dict], None]) -> Path:
    import onnx

    graph = onnx.load(str(path))
    for prop in graph.metadata_props:
        if prop.key == METADATA_KEY:
            record = json.loads(prop.value)
            change(record)
            prop.value = json.dumps(record)
    onnx.save(graph, str(out))
    return out


def _edit_openvino(path: Path, out: Path, change: Callable[[dict], None]) -> Path:
    import openvino as ov

    model = ov.Core().read_model(str(path))
    record = json.loads(model.get_rt_info([METADATA_KEY]).astype(str))
    change(record)
    model.set_rt_info(json.dumps(record), [METADATA_KEY])
    ov.save_model(model, str(out.with_suffix(".xml")), compress_to_fp16=False)
    return out.with_suffix(".xml")


def _edit_tflite(path: Path, out: Path, change: Callable[[dict], None]) -> Path:
    from edgedet.converters.tflite import with_metadata
    from edgedet.runtimes.tflite_metadata import read_tflite_metadata

    content = path.read_bytes()
    record = json.loads(read_tflite_metadata(content)[METADATA_KEY])
    change(record)
    out = out.with_suffix(".tflite")
    out.write_bytes(with_metadata(content, METADATA_KEY, json.dumps(record).encode()))
    return out


@pytest.mark.parametrize("edit", list(EDITS))
def test_onnx_metadata_is_checked_against_the_graph(small_onnx, tmp_path, edit):
    change, message = EDITS[edit]
    path = _edit_onnx(small_onnx, tmp_path / "edited.onnx", change)
    with pytest.raises(ModelLoadError, match=message):
        Detector(path)


@pytest.mark.parametrize("edit", ["input size and anchors", "anchors without aspect ratios",
                                  "too few class names"])
def test_openvino_metadata_is_checked_against_the_graph(tmp_path_factory, small_checkpoint, tmp_path, edit):
    pytest.importorskip("openvino")
    ir = shared_cache(tmp_path_factory, small_checkpoint).get("openvino", "fp32")
    change, message = EDITS[edit]
    with pytest.raises(ModelLoadError, match=message):
        Detector(_edit_openvino(ir, tmp_path / "edited.xml", change))


@pytest.mark.parametrize("edit", ["input size and anchors", "anchors without aspect ratios",
                                  "too few class names"])
def test_tflite_metadata_is_checked_against_the_graph(tmp_path_factory, small_checkpoint, tmp_path, edit):
    pytest.importorskip("ai_edge_litert")
    tflite = shared_cache(tmp_path_factory, small_checkpoint).get("tflite", "fp32")
    change, message = EDITS[edit]
    with pytest.raises(ModelLoadError, match=message):
        Detector(_edit_tflite(tflite, tmp_path / "edited.tflite", change))


def test_checkpoint_anchor_record_is_checked(small_checkpoint, tmp_path):
    import torch

    state = torch.load(small_checkpoint, weights_only=True)
    state["metadata"]["anchors"].pop("aspect_ratios")
    path = tmp_path / "edited.pt"
    torch.save(state, path)
    with pytest.raises(ModelLoadError, match="anchors record lacks aspect_ratios"):
        Detector(path)


def test_unedited_files_still_open(small_onnx):
    assert Detector(small_onnx).metadata.num_classes == 3
