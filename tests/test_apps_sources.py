"""Frame sources: video files, image folders, live sources, and the errors for bad ones."""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from demo_media import FakeCamera, make_video

from edgedet.apps.sources import (ImageFolderSource, LiveSource, VideoFileSource, open_camera,
                                  open_source)
from edgedet.errors import InvalidInputError, MissingDependencyError


def _drain(source):
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    return frames


def test_video_file_gives_every_frame_with_video_timestamps(tmp_path):
    source = open_source(str(make_video(tmp_path / "v.mp4", frames=12, fps=10)))
    assert isinstance(source, VideoFileSource) and not source.live and source.fps == 10
    frames = _drain(source)
    assert [f.index for f in frames] == list(range(12))
    assert frames[5].timestamp_s == pytest.approx(0.5)
    assert frames[0].image.shape == (120, 160, 3)
    assert source.end_reason == "end of video"


def test_every_n_subsamples_and_size_resizes(tmp_path):
    video = make_video(tmp_path / "v.mp4", frames=12, fps=10)
    source = VideoFileSource(video, every=5, size=(80, 64))
    frames = _drain(source)
    assert [f.index for f in frames] == [0, 5, 10]
    assert [f.timestamp_s for f in frames] == pytest.approx([0.0, 0.5, 1.0])
    assert frames[0].image.shape == (64, 80, 3)
    assert source.fps == pytest.approx(2.0)


def test_unreadable_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 50)
    with pytest.raises(InvalidInputError, match="cannot open video .*broken.mp4"):
        open_source(str(bad))


def test_missing_source_lists_what_is_accepted(tmp_path):
    with pytest.raises(InvalidInputError, match="nope.mp4' not found: give a camera index.*video file.*image folder.*'picamera'"):
        open_source(str(tmp_path / "nope.mp4"))


def test_bad_every_is_rejected(tmp_path):
    with pytest.raises(InvalidInputError, match="--every"):
        VideoFileSource(make_video(tmp_path / "v.mp4", frames=3), every=0)


def test_image_folder_in_name_order_skipping_unreadable_files(tmp_path, capsys):
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"img{i}.png"), np.full((30, 40, 3), i * 50, np.uint8))
    (tmp_path / "img1b.jpg").write_bytes(b"broken")
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(str(tmp_path))
    frames = _drain(source)
    assert [f.name for f in frames] == ["img0.png", "img1.png", "img2.png"]
    assert all(f.timestamp_s is None for f in frames)
    assert "img1b.jpg: not a readable image" in capsys.readouterr().err
    assert "1 unreadable" in source.end_reason


def test_empty_image_folder_is_an_error(tmp_path):
    with pytest.raises(InvalidInputError, match="has no images"):
        ImageFolderSource(tmp_path)


def test_camera_that_cannot_open_names_the_device_and_what_to_check():
    with pytest.raises(InvalidInputError, match=r"camera index 97 \(/dev/video97\).*plugged in"):
        open_camera(97)


def test_live_source_reads_newest_frames_and_releases_the_camera():
    camera = FakeCamera(fail_after=8)
    source = LiveSource(camera.read, camera.release, "fake camera")
    assert source.live and source.frame_size == (160, 120)
    frames = _drain(source)
    assert frames and [f.index for f in frames] == sorted({f.index for f in frames})
    assert "disconnected" in source.end_reason
    assert camera.released


def test_live_source_without_any_frame_fails_at_open():
    camera = FakeCamera(fail_after=0)
    with pytest.raises(InvalidInputError, match="fake camera opened but delivered no frame"):
        LiveSource(camera.read, camera.release, "fake camera")
    assert camera.released


def test_picamera_without_picamera2_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import picamera2 now fails
    with pytest.raises(MissingDependencyError, match="python3-picamera2.*--system-site-packages"):
        open_source("picamera")


def test_demo_imports_neither_torch_nor_picamera2():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import edgedet.apps.demo, edgedet.apps.sources, edgedet.apps.sinks\n"
            "import edgedet.apps.display, edgedet.commands.demo\n"
            "assert 'picamera2' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
