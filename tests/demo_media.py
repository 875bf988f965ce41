"""Test helpers for the demo app: a synthetic video and a fake camera (not a test module)."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Optional

import cv2
import numpy as np


def make_video(path: Path, frames: int = 20, size: tuple = (160, 120), fps: float = 10.0,
               fourcc: str = "mp4v") -> Path:
    """Write ``frames`` frames of a red disc and a green square moving across grey."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc} test videos"
    for i in range(frames):
        image = np.full((height, width, 3), 60, np.uint8)
        cv2.circle(image, (10 + (i * 7) % (width - 20), height // 2), 14, (0, 0, 255), -1)
        y = 5 + (i * 4) % (height - 40)
        cv2.rectangle(image, (width - 50, y), (width - 20, y + 30), (0, 255, 0), -1)
        writer.write(image)
    writer.release()
    return path


def count_frames(path: Path) -> tuple:
    """(frames decoded, width, height) of a video file."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"{path} does not open as a video"
    n = 0
    while cap.read()[0]:
        n += 1
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    return n, size[0], size[1]


class FakeCamera:
    """A ``cv2.VideoCapture`` stand-in producing numbered frames about every millisecond;
    after ``fail_after`` frames every read fails, like an unplugged USB camera."""

    def __init__(self, fail_after: Optional[int] = None, size: tuple = (160, 120)):
        self.fail_after = fail_after
        self.size = size
        self.reads = 0
        self.released = False
        self._lock = threading.Lock()

    def read(self):
        time.sleep(0.001)
        with self._lock:
            if self.fail_after is not None and self.reads >= self.fail_after:
                return False, None
            self.reads += 1
            value = self.reads % 256
        return True, np.full((self.size[1], self.size[0], 3), value, np.uint8)

    def release(self) -> None:
        self.released = True


def wait_until(condition, timeout_s: float = 20.0) -> None:
    """Poll ``condition()`` until true; fail the test if it never becomes true."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)
