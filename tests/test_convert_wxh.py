"""A square checkpoint converted to a camera-shaped (WxH) file in every format: the graph
takes that shape, the record says so, outputs match PyTorch at that shape, in-graph NMS
scales boxes per axis, and MediaPipe runs the file on raw frames of that aspect (no letterbox
step) with the same detections as Detector.

The model is the fine-tuned D0 of tests/finetuned_fixture.py (fitted at 256x256); the network
is fully convolutional, so it runs at 256x192 with the same weights.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert_fixtures import ALL_FORMATS, run_backend
from finetuned_fixture import finetuned_checkpoint, synthetic_images
from test_tflite_nms import compare_with_mediapipe, count_agreeing_with_host, mediapipe_python  # noqa: F401
from edgedet.input_size import InputSize
from edgedet.runtimes.formats import SUFFIXES

WXH = InputSize(256, 192)  # 4:3
IMAGES = 6
SCORE = 0.3
# The model was fitted on 6 square images; on their 4:3 cuts it still scores two boxes above
# SCORE (measured: 1.0 and 0.68 in fp32), so at least that many are compared.
FOUND = 2
# Host against in-graph NMS compares at a lower threshold (still above the file's baked 0.1):
# in int8 the second box scores under SCORE (measured on an Intel Xeon: 1 box at 0.3).
COMPARE_SCORE = 0.15
FP32_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """The checkpoint, its training images cut to 4:3 frames (256x192, the objects in their
    top 192 rows stay where the model saw them), and the converted files with their reports."""
    root = tmp_path_factory.mktemp("wxh")
    checkpoint = finetuned_checkpoint(root / "d0_shapes.pt", images=IMAGES)
    frames = root / "frames"
    frames.mkdir()
    for i, (image, _, _) in enumerate(synthetic_images(IMAGES, 0)):
        cv2.imwrite(str(frames / f"{i}.png"), image[:WXH.height, :WXH.width])
    return {"root": root, "checkpoint": checkpoint, "frames": frames, "files": {}, "reports": {}}


def converted(made: dict, target: str, precision: str, nms: bool = False) -> Path:
    from edgedet.converters import convert_with_report
    from edgedet.converters.tflite_nms import NmsOptions

    key = (target, precision, nms)
    if key not in made["files"]:
        out = made["root"] / f"{target}_{precision}{'_nms' if nms else ''}{SUFFIXES[target]}"
        path, report = convert_with_report(
            made["checkpoint"], target, out, precision=precision, calib=made["frames"],
            input_size=str(WXH), nms=NmsOptions(score_threshold=0.1) if nms else None,
            report=not nms)
        made["files"][key], made["reports"][key] = path, report
    return made["files"][key]


def _frame_paths(made) -> list[Path]:
    return sorted(made["frames"].glob("*.png"))


@pytest.mark.parametrize("target, precision", ALL_FORMATS)
def test_every_format_takes_the_wxh_shape_and_records_it(made, target, precision):
    from edgedet import Detector
    from edgedet.runtimes.backends import open_backend

    path = converted(made, target, precision)
    meta = open_backend(path).metadata  # the backend checks the graph's input shape against it
    assert meta.input_size == meta.anchors.image_size == WXH
    raw = json.loads(meta.to_json())
    assert raw["input_size"] == [256, 192] and raw["format_version"] == 3
    detector = Detector(path, score_threshold=0.0, max_results=5)
    assert detector.preprocess._tensor.shape == WXH.tensor_shape(meta.layout)
    frame = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    boxes = detector.detect(frame).boxes
    assert len(boxes) == 5 and boxes[:, 2].max() <= 1280 and boxes[:, 3].max() <= 720
    report = made["reports"][(target, precision, False)]
    if precision != "int8":  # the fixture's int8 is fragile (see finetuned_fixture)
        assert report.cls_sqnr_db > 40 and report.matched_detections == report.reference_detections


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_fp32_outputs_match_pytorch_at_the_wxh_shape(made, target):
    from edgedet.checkpoint import load_checkpoint
    from edgedet.converters.calibration import load_calibration_images
    from edgedet.converters.parity import reference_outputs

    model, _ = load_checkpoint(made["checkpoint"])
    images = load_calibration_images(made["frames"], WXH)
    assert images[0].shape == (192, 256, 3)
    reference = reference_outputs(model, images)
    options = {"inference_precision": "f32"} if target == "openvino" else {}
    got = run_backend(converted(made, target, "fp32"), images, **options)
    for (ref_cls, ref_box), (cls_logits, boxes) in zip(reference, got):
        assert cls_logits.shape == ref_cls.shape and boxes.shape == ref_box.shape
        assert np.abs(cls_logits - ref_cls).max() < FP32_TOLERANCE
        assert np.abs(boxes - ref_box).max() < FP32_TOLERANCE


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_in_graph_nms_file_agrees_with_host_nms_on_wxh(made, precision):
    """Anchors normalised by height (y, h) and width (x, w) and boxes scaled back per axis:
    a mix-up of the two would move every box of a non-square file."""
    from edgedet import Detector

    host = Detector(converted(made, "tflite", precision), score_threshold=COMPARE_SCORE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        in_graph = Detector(converted(made, "tflite", precision, nms=True), score_threshold=COMPARE_SCORE)
    assert in_graph.metadata.input_size == WXH
    found = count_agreeing_with_host(host, in_graph, _frame_paths(made))
    assert found >= FOUND


def test_mediapipe_runs_the_wxh_file_on_raw_frames(mediapipe_python, made):  # noqa: F811
    """MediaPipe stretches each frame onto the model's input; with the frame's own aspect that
    is the letterbox Detector does (no padding), so no letterbox step is needed before it."""
    path = converted(made, "tflite", "fp32", nms=True)
    frames = _frame_paths(made)
    # The same frames at camera resolution (2x): MediaPipe resizes them, as Detector does.
    large = []
    for source in frames:
        frame = cv2.imread(str(source))
        large.append(source.with_name(f"{source.stem}_2x.png"))
        cv2.imwrite(str(large[-1]), cv2.resize(frame, (2 * WXH.width, 2 * WXH.height),
                                               interpolation=cv2.INTER_NEAREST))
    exact = compare_with_mediapipe(mediapipe_python, path, frames, SCORE)
    assert exact["ours"] >= FOUND
    assert exact["agree"] == exact["ours"] == exact["mediapipe"], exact
    resized = compare_with_mediapipe(mediapipe_python, path, large, SCORE, min_iou=0.8,
                                     score_tolerance=0.05)
    assert resized["agree"] >= 0.8 * max(resized["ours"], resized["mediapipe"]), resized
