"""`edgedet demo` end to end, headless, with a real (random-weight) D0 model."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest
from demo_media import FakeCamera, count_frames, make_video, wait_until

from edgedet.apps import sources
from edgedet.apps.demo import run_demo
from edgedet.apps.sinks import JsonlSink, VideoSink
from edgedet.apps.sources import LiveSource
from edgedet.cli import main
from edgedet.runtimes import Detections, Detector


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_boxes(record):
    for det in record["detections"]:
        x1, y1, x2, y2 = det["box"]
        assert 0 <= x1 <= x2 <= record["width"] and 0 <= y1 <= y2 <= record["height"]
        assert 0.0 <= det["score"] <= 1.0 and isinstance(det["label"], str)


def test_demo_on_a_video_writes_video_jsonl_and_summary(tmp_path, small_onnx, capsys):
    video = make_video(tmp_path / "shapes.mp4", frames=20, size=(160, 120), fps=10)
    out, dets = tmp_path / "out.mp4", tmp_path / "dets.jsonl"
    rc = main(["demo", "--model", str(small_onnx), "--source", str(video), "--headless",
               "--score", "0.0", "--max-results", "5", "--save", str(out), "--jsonl", str(dets)])
    assert rc == 0
    assert count_frames(out) == (20, 160, 120)
    records = _records(dets)
    assert [r["frame"] for r in records] == list(range(20))
    assert records[10]["timestamp_s"] == pytest.approx(1.0)
    assert all(len(r["detections"]) == 5 for r in records)  # score 0: max-results boxes
    for record in records:
        _check_boxes(record)
    printed = capsys.readouterr().out
    assert "processed 20 frames" in printed and "FPS effective" in printed
    for stage in ("capture", "preprocess", "inference", "postprocess", "render", "total"):
        assert stage in printed
    assert f"saved {out} (20 frames)" in printed


def test_demo_every_and_class_allow_list(tmp_path, small_onnx):
    video = make_video(tmp_path / "shapes.mp4", frames=10)
    dets = tmp_path / "dets.jsonl"
    rc = main(["demo", "--model", str(small_onnx), "--source", str(video), "--every", "3",
               "--score", "0.0", "--classes", "square", "--jsonl", str(dets)])
    assert rc == 0
    records = _records(dets)
    assert [r["frame"] for r in records] == [0, 3, 6, 9]
    assert {d["label"] for r in records for d in r["detections"]} == {"square"}


def test_camera_that_disconnects_mid_run_ends_cleanly_with_files_intact(tmp_path, small_onnx):
    camera = FakeCamera(fail_after=40)
    source = LiveSource(camera.read, camera.release, "fake camera")
    detector = Detector(small_onnx, score_threshold=0.0, max_results=3)
    video, log = VideoSink(tmp_path / "cam.mp4", fps=None), JsonlSink(tmp_path / "cam.jsonl")
    result = run_demo(source, detector, [video, log])
    assert "disconnected" in result.end_reason and not result.interrupted
    assert camera.released
    assert result.frames >= 1
    assert count_frames(tmp_path / "cam.mp4") == (result.frames, 160, 120)
    records = _records(tmp_path / "cam.jsonl")
    assert len(records) == result.frames
    assert all(r["frame"] < 40 for r in records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.jsonl", "cam.mp4"]


def test_truncated_video_ends_cleanly_and_says_so(tmp_path, small_onnx, capsys):
    full = make_video(tmp_path / "full.avi", frames=40, fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    out, dets = tmp_path / "out.mp4", tmp_path / "dets.jsonl"
    rc = main(["demo", "--model", str(small_onnx), "--source", str(cut), "--headless",
               "--save", str(out), "--jsonl", str(dets)])
    assert rc == 0
    lines = len(_records(dets))
    assert 5 <= lines < 40 and count_frames(out)[0] == lines
    assert "truncated or damaged" in capsys.readouterr().out


class _SlowDetector:
    """Takes as long as the camera needs to produce ``gap`` more frames (not a clock)."""

    def __init__(self, camera: FakeCamera, gap: int):
        self.camera, self.gap = camera, gap
        self.timings = {"preprocess_ms": 0.0, "inference_ms": 0.0, "postprocess_ms": 0.0,
                        "total_ms": 0.0}

    def detect(self, image):
        target = self.camera.reads + self.gap
        wait_until(lambda: self.camera.reads >= target)
        return Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0), ["a"])


def test_slow_detector_on_a_camera_drops_frames_instead_of_lagging(tmp_path):
    camera = FakeCamera()
    source = LiveSource(camera.read, camera.release, "fake camera")
    log = JsonlSink(tmp_path / "slow.jsonl")
    result = run_demo(source, _SlowDetector(camera, gap=6), [log], draw=False, max_frames=6)
    indices = [r["frame"] for r in _records(tmp_path / "slow.jsonl")]
    assert len(indices) == 6 and result.end_reason == "reached --max-frames 6"
    # While one frame was processed the camera made 6 more; only the newest was taken next.
    assert (np.diff(indices) >= 5).all(), indices
    assert result.dropped >= 4 * 5


class _InterruptAfter:
    """Wraps a source and raises KeyboardInterrupt (as Ctrl-C would) on read number ``n``."""

    def __init__(self, source, n):
        self.source, self.n, self.reads = source, n, 0
        self.live, self.fps, self.dropped = source.live, source.fps, 0
        self.description, self.end_reason = source.description, ""

    def read(self):
        self.reads += 1
        if self.reads == self.n:
            raise KeyboardInterrupt
        return self.source.read()

    def close(self):
        self.source.close()


def test_ctrl_c_closes_files_valid_and_prints_summary(tmp_path, small_onnx, monkeypatch, capsys):
    video = make_video(tmp_path / "shapes.mp4", frames=20)
    real_open = sources.open_source
    monkeypatch.setattr(sources, "open_source", lambda *a, **k: _InterruptAfter(real_open(*a, **k), 6))
    out, dets = tmp_path / "out.mp4", tmp_path / "dets.jsonl"
    rc = main(["demo", "--model", str(small_onnx), "--source", str(video), "--headless",
               "--save", str(out), "--jsonl", str(dets)])
    assert rc == 130
    assert count_frames(out) == (5, 160, 120)
    assert len(_records(dets)) == 5
    assert "processed 5 frames" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dets.jsonl", "out.mp4", "shapes.mp4"]


def test_missing_runtime_names_the_extra_and_writes_nothing(tmp_path, small_onnx, monkeypatch,
                                                           capsys):
    video = make_video(tmp_path / "shapes.mp4", frames=3)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the [onnx] extra were absent
    rc = main(["demo", "--model", str(small_onnx), "--source", str(video),
               "--jsonl", str(tmp_path / "d.jsonl")])
    assert rc == 2
    assert "pip install 'edgedet[onnx]'" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["shapes.mp4"]


@pytest.mark.parametrize("argv, message", [
    (["--size", "640by480"], "--size must look like 640x480"),
    (["--classes", "dog"], "unknown categories"),
    (["--source", "missing.mp4"], "not found"),
])
def test_bad_arguments_are_clear_errors(tmp_path, small_onnx, capsys, argv, message):
    args = ["demo", "--model", str(small_onnx), "--source", str(make_video(tmp_path / "v.mp4", 3))]
    rc = main(args + argv + ["--jsonl", str(tmp_path / "d.jsonl")])
    assert rc == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "d.jsonl").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_real_signal_stops_the_cli_with_complete_files(tmp_path, small_onnx, signum):
    video = make_video(tmp_path / "long.mp4", frames=1000)
    out, dets = tmp_path / "out.mp4", tmp_path / "dets.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgedet", "demo", "--model", str(small_onnx), "--source",
         str(video), "--headless", "--save", str(out), "--jsonl", str(dets)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell running pytest as a background job makes its children ignore SIGINT, and
        # Python then keeps ignoring it: give the CLI the default a terminal user has.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # Signal once the run is under way: the hidden JSONL being written has 3 lines.
        def started():
            partial = list(tmp_path.glob(".dets.*.partial.jsonl"))
            return proc.poll() is not None or (
                bool(partial) and partial[0].read_text().count("\n") >= 3)

        wait_until(started, timeout_s=25)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=25)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stdout
    lines = len(_records(dets))
    assert 3 <= lines < 1000
    assert count_frames(out) == (lines, 160, 120)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dets.jsonl", "long.mp4", "out.mp4"]


class _QuitAfter:
    """A window stand-in whose user presses q on frame ``n``."""

    def __init__(self, n):
        self.n, self.shown, self.closed = n, [], False

    def show(self, image):
        self.shown.append(image.shape)
        return len(self.shown) < self.n

    def close(self):
        self.closed = True


def test_quitting_the_window_ends_the_run_and_closes_everything(tmp_path, small_onnx):
    source = sources.open_source(str(make_video(tmp_path / "v.mp4", frames=10)))
    window = _QuitAfter(3)
    log = JsonlSink(tmp_path / "d.jsonl")
    result = run_demo(source, Detector(small_onnx), [log], window=window, draw=False)
    assert result.frames == 3 and result.end_reason == "closed by the user"
    assert window.shown == [(120, 160, 3)] * 3 and window.closed  # drawn although draw=False
    assert len(_records(tmp_path / "d.jsonl")) == 3
