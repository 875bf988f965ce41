"""Video and JSONL sinks, the overlay, the display check and the latency statistics."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from demo_media import count_frames

from edgedet.apps import display
from edgedet.apps.overlay import draw_overlay
from edgedet.apps.sinks import FPS_PROBE_FRAMES, JsonlSink, VideoSink
from edgedet.apps.sources import Frame
from edgedet.apps.stats import Smoothed, StageTimes
from edgedet.errors import InvalidInputError
from edgedet.runtimes import Detections

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

NAMES = ["circle", "square"]


def _frame(i, timestamp=None, size=(160, 120)):
    return Frame(np.full((size[1], size[0], 3), i, np.uint8), i, timestamp)


def _one_box():
    return Detections(np.array([[10, 20, 50, 60]]), np.array([0.9]), np.array([1]), NAMES)


def test_video_sink_writes_every_frame_at_the_first_frame_size(tmp_path):
    sink = VideoSink(tmp_path / "out.mp4", fps=10)
    for i in range(7):
        size = (160, 120) if i != 3 else (200, 100)  # an odd-sized frame is resized
        frame = _frame(i, size=size)
        sink.write(frame, _one_box(), frame.image, {})
    sink.close()
    assert count_frames(tmp_path / "out.mp4") == (7, 160, 120)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no temporary left behind


def test_video_sink_measures_fps_of_a_live_source(tmp_path):
    sink = VideoSink(tmp_path / "live.mp4", fps=None)
    for i in range(FPS_PROBE_FRAMES + 3):
        frame = _frame(i, timestamp=i * 0.25)  # a camera processed at 4 FPS
        sink.write(frame, _one_box(), frame.image, {})
    sink.close()
    assert sink.fps == pytest.approx(4.0)
    cap = cv2.VideoCapture(str(tmp_path / "live.mp4"))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(4.0, rel=0.01)
    assert count_frames(tmp_path / "live.mp4")[0] == FPS_PROBE_FRAMES + 3


def test_sinks_without_frames_leave_no_file(tmp_path):
    VideoSink(tmp_path / "a.mp4", fps=10).close()
    JsonlSink(tmp_path / "a.jsonl").close()
    assert list(tmp_path.iterdir()) == []


def test_video_sink_rejects_a_non_video_name(tmp_path):
    with pytest.raises(InvalidInputError, match="--save .*out.txt.*mp4"):
        VideoSink(tmp_path / "out.txt", fps=10)


def test_jsonl_sink_one_record_per_frame(tmp_path):
    sink = JsonlSink(tmp_path / "d.jsonl")
    for i in range(3):
        sink.write(_frame(i, timestamp=i / 10), _one_box(), None, {"inference_ms": 12.345})
    sink.close()
    records = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in records] == [0, 1, 2]
    assert records[2]["timestamp_s"] == pytest.approx(0.2)
    assert records[0]["detections"] == [
        {"box": [10.0, 20.0, 50.0, 60.0], "score": 0.9, "class_id": 1, "label": "square"}]
    assert records[0]["timings_ms"] == {"inference_ms": 12.35}


def test_overlay_draws_boxes_and_panel_without_touching_the_input():
    image = np.zeros((120, 160, 3), np.uint8)
    out = draw_overlay(image, _one_box(), 12.5, {"inference": 30.0})
    assert not image.any()
    assert out.shape == image.shape and out[:20, :60].any() and out[20:60, 10:50].any()


def test_no_display_means_headless(monkeypatch):
    monkeypatch.setattr(display.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    window, reason = display.open_window("t")
    assert window is None and "DISPLAY" in reason


def test_opencv_without_gui_means_headless(monkeypatch):
    def no_gui(*args):
        raise cv2.error("The function is not implemented")

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(display.cv2, "namedWindow", no_gui)
    window, reason = display.open_window("t")
    assert window is None and "opencv-python-headless" in reason


def test_stage_times_mean_and_p90():
    times = StageTimes(["inference", "render"])
    for value in range(1, 11):
        times.add({"inference": float(value)})
    assert times.count("inference") == 10 and times.count("render") == 0
    assert times.mean("inference") == pytest.approx(5.5)
    assert times.p90("inference") == pytest.approx(9.1)
    assert "inference" in times.table() and "render" not in times.table()


def test_smoothed_values_move_towards_new_samples():
    smooth = Smoothed(alpha=0.5)
    assert smooth.update({"x": 10.0}) == {"x": 10.0}
    assert smooth.update({"x": 20.0}) == {"x": 15.0}


class _FakeGui:
    """Stands in for OpenCV's GUI calls: a key queue and a visibility sequence."""

    def __init__(self, keys, visible):
        self.keys, self.visible = list(keys), list(visible)

    def install(self, monkeypatch):
        monkeypatch.setattr(display.cv2, "namedWindow", lambda *a: None)
        monkeypatch.setattr(display.cv2, "imshow", lambda *a: None)
        monkeypatch.setattr(display.cv2, "waitKey", lambda *a: self.keys.pop(0))
        monkeypatch.setattr(display.cv2, "getWindowProperty", lambda *a: self.visible.pop(0))


@pytest.mark.parametrize("keys, visible, shown", [
    ([-1, -1, ord("q")], [1.0, 1.0], 3),    # q quits
    ([-1, 27], [1.0], 2),                   # Esc quits
    ([-1, -1, -1], [1.0, 1.0, 0.0], 3),     # the user closed the window
    ([-1, -1, -1, ord("q")], [-1.0, -1.0, -1.0], 4),  # a backend that reports no visibility
])
def test_window_quits_on_q_esc_or_close(monkeypatch, keys, visible, shown):
    _FakeGui(keys, visible).install(monkeypatch)
    window = display.Window("t")
    image = np.zeros((4, 4, 3), np.uint8)
    results = [window.show(image) for _ in range(shown)]
    assert results == [True] * (shown - 1) + [False]
