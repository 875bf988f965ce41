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


def test_unpaired_detections_count_as_threshold_crossings_only_near_it():
    from _pi_compare import unpaired_near_threshold

    threshold = 0.3
    ours = {"a.png": [det([0, 0, 10, 10], 0.9), det([20, 20, 30, 30], sigmoid(math.log(3 / 7) + STEP))]}
    theirs = {"a.png": [det([0, 0, 10, 10], sigmoid(math.log(9) + 2 * STEP))]}  # 2 steps apart
    summary = compare_frames(ours, theirs, STEP)
    assert len(summary["unpaired"]) == 1 and unpaired_near_threshold(summary, threshold, STEP)
    far = {"a.png": [det([0, 0, 10, 10], 0.9), det([20, 20, 30, 30], 0.6)]}
    assert not unpaired_near_threshold(compare_frames(far, theirs, STEP), threshold, STEP)


def _parity(summary: dict) -> dict:
    return {"cortex-a72": {"d0.tflite": {"logit_step": STEP, "raw": {**summary, "gated": False},
                                         "input512": {**summary, "gated": True}}}}


def test_judge_accepts_a_difference_only_when_every_op_agrees_within_a_step():
    import pi_emulated

    ours = {"a.png": [det([0, 0, 10, 10], sigmoid(1.0))]}
    theirs = {"a.png": [det([0, 0, 10, 10], sigmoid(1.0 + 4 * STEP))]}
    summary = compare_frames(ours, theirs, STEP)
    summary["agrees"] = agrees(summary, 1, 1)
    assert not summary["agrees"]
    one_step = {"d0.tflite": {"cortex-a72": {"max_op_steps": 1.0, "worst_op": "MUL"}}}
    three_steps = {"d0.tflite": {"cortex-a72": {"max_op_steps": 3.0, "worst_op": "MUL"}}}
    parity = _parity(summary)
    assert pi_emulated.judge(parity, one_step, 0.3) == []
    assert parity["cortex-a72"]["d0.tflite"]["input512"]["explained"]
    assert "raw" not in "".join(pi_emulated.judge(_parity(summary), {}, 0.3))  # only gated folders
    failed = pi_emulated.judge(_parity(summary), three_steps, 0.3)
    assert len(failed) == 1 and "differs by 3 int8 steps on its own (MUL)" in failed[0]
    assert "no kernel probe" in pi_emulated.judge(_parity(summary), {}, 0.3)[0]
