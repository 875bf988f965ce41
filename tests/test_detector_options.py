"""DetectorOptions: one checked record of what a caller sets; misspelt names fail clearly."""
from __future__ import annotations

import numpy as np
import pytest

from edgedet import Detector, DetectorOptions
from edgedet.errors import InvalidInputError


def test_a_misspelt_option_names_itself_the_closest_name_and_every_valid_one(small_onnx):
    with pytest.raises(InvalidInputError) as err:
        Detector(small_onnx, score_treshold=0.5)
    message = str(err.value)
    assert "unknown option(s) score_treshold (did you mean score_threshold?)" in message
    assert all(name in message for name in DetectorOptions.names())
    assert "the onnx backend accepts no extra options" in message


def test_options_object_equals_keywords(small_onnx):
    frame = np.random.default_rng(3).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    options = DetectorOptions(score_threshold=0.01, max_results=7, categories=["circle", "square"])
    by_object = Detector(small_onnx, options=options)
    by_keywords = Detector(small_onnx, score_threshold=0.01, max_results=7,
                           categories=["circle", "square"])
    assert by_object.options == by_keywords.options == options
    a, b = by_object.detect(frame), by_keywords.detect(frame)
    assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.class_ids, b.class_ids)
    assert len(a) == 7 and set(a.class_ids) <= {0, 1}
    with pytest.raises(InvalidInputError, match="either in options= or as keywords"):
        Detector(small_onnx, score_threshold=0.2, options=options)


def test_denied_categories_are_never_reported(small_onnx):
    frame = np.random.default_rng(4).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    det = Detector(small_onnx, score_threshold=0.0, max_results=50, denied_categories=["square"])
    assert len(det.detect(frame)) == 50 and 1 not in set(det.detect(frame).class_ids)
    only = Detector(small_onnx, score_threshold=0.0, categories=["circle", "square"],
                    denied_categories=["circle"])
    assert set(only.detect(frame).class_ids) == {1}
    with pytest.raises(InvalidInputError, match="leave no class"):
        Detector(small_onnx, categories=["circle"], denied_categories=["circle"])
    with pytest.raises(InvalidInputError, match=r"unknown denied_categories \['dog'\]"):
        Detector(small_onnx, denied_categories=["dog"])


def test_options_are_checked_when_made():
    with pytest.raises(InvalidInputError, match="max_results must be an integer >= 1, got 0"):
        DetectorOptions(max_results=0)
    assert DetectorOptions(categories=["a", "b"]).categories == ("a", "b")


def test_defaults_live_in_detector_options_alone():
    """The CLI flags' defaults are DetectorOptions' (no number typed twice)."""
    import argparse

    from edgedet.commands._detector_flags import add_detector_arguments

    parser = argparse.ArgumentParser()
    add_detector_arguments(parser, per="frame", classes=True)
    args = parser.parse_args([])
    default = DetectorOptions()
    assert (args.score, args.iou, args.max_results, args.threads, args.agnostic_nms) == (
        default.score_threshold, default.iou_threshold, default.max_results,
        default.num_threads, default.class_agnostic_nms)
    assert parser.parse_args(["--agnostic-nms"]).agnostic_nms is True


def test_class_agnostic_nms_keyword_reaches_the_postprocessor(small_onnx):
    assert Detector(small_onnx).postprocess.class_agnostic is False
    assert Detector(small_onnx, class_agnostic_nms=True).postprocess.class_agnostic is True
    with pytest.raises(InvalidInputError, match="class_agnostic_nms must be True or False"):
        DetectorOptions(class_agnostic_nms="yes")
