"""benchmarks/_pi_compare.py: pairing detections of two runs and the agreement verdict."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _pi_compare import agrees, compare_frames  # noqa: E402

pytestmark = pytest.mark.fast
STEP = 0.1  # logit units per int8 step


def det(box, score, cls=0):
    return {"box": box, "score": score, "class_id": cls}


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_identical_runs_agree():
    frames = {"a.png": [det([0, 0, 10, 10], 0.9)], "b.png": []}
    summary = compare_frames(frames, frames, STEP)
    assert summary["frames_identical"] == 2 and summary["max_box_diff_px"] == 0
    assert agrees(summary, 1, 1)


def test_one_step_and_a_pixel_agree_two_steps_do_not():
    ours = {"a.png": [det([0, 0, 10, 10], sigmoid(1.0))]}
    one = {"a.png": [det([0.5, 0, 10, 11], sigmoid(1.0 + STEP))]}
    two = {"a.png": [det([0, 0, 10, 10], sigmoid(1.0 + 2 * STEP))]}
    assert agrees(compare_frames(ours, one, STEP), 1, 1)
    summary = compare_frames(ours, two, STEP)
    assert summary["max_logit_diff_int8_steps"] == pytest.approx(2, abs=1e-3)
    assert not agrees(summary, 1, 1)


def test_a_missing_or_relabelled_box_is_unpaired():
    ours = {"a.png": [det([0, 0, 10, 10], 0.9), det([20, 20, 30, 30], 0.5)]}
    theirs = {"a.png": [det([0, 0, 10, 10], 0.9, cls=1)]}
    summary = compare_frames(ours, theirs, STEP)
    assert len(summary["unpaired"]) == 3 and not agrees(summary, 1, 1)


def test_different_frame_sets_are_an_error():
    with pytest.raises(ValueError, match="different frames"):
        compare_frames({"a.png": []}, {"b.png": []}, STEP)
