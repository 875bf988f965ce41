"""FAKE ``picamera2`` — a stand-in for Raspberry Pi OS's Picamera2, NOT the real package.

It implements exactly the calls edgedet makes (``apps/picamera.py`` and ``edgedet doctor``):
``Picamera2()``, ``create_preview_configuration(main={"size", "format"})``, ``configure``,
``start``, ``capture_array("main")``, ``stop``, ``close`` and ``Picamera2.global_camera_info()``,
and refuses anything else edgedet might start calling by mistake (an AttributeError names it).
The real one needs libcamera and a camera, neither of which exists where the tests run.

Frames: a moving gradient, or the frames of the video named by ``FAKE_PICAMERA2_VIDEO``,
resized to the configured size, as 3-channel uint8 in B, G, R memory order (what the real
"RGB888" format delivers). Every call is appended as a JSON line to ``FAKE_PICAMERA2_LOG``
when that variable is set, so a test can check the calls and their order.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

FAKE = True  # lets a test assert that this, not the real package, was imported
_SUPPORTED_FORMATS = ("RGB888",)


def _log(call: str, **details: Any) -> None:
    path = os.environ.get("FAKE_PICAMERA2_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"call": call, **details}) + "\n")


class Picamera2:
    """The subset of ``picamera2.Picamera2`` that edgedet uses."""

    __slots__ = ("_size", "_started", "_closed", "_count", "_video")

    def __init__(self, camera_num: int = 0) -> None:
        _log("Picamera2", camera_num=camera_num)
        self._size: tuple[int, int] | None = None
        self._started = self._closed = False
        self._count = 0
        self._video = None

    @staticmethod
    def global_camera_info() -> list[dict]:
        _log("global_camera_info")
        return [{"Model": "fake-imx708", "Location": 2, "Rotation": 180, "Id": "fake", "Num": 0}]

    def create_preview_configuration(self, main: dict) -> dict:
        _log("create_preview_configuration", main={k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in main.items()})
        if set(main) != {"size", "format"} or main["format"] not in _SUPPORTED_FORMATS:
            raise ValueError(f"fake picamera2 supports main={{'size', 'format': RGB888}}, got {main}")
        return {"main": dict(main)}

    def configure(self, config: dict) -> None:
        _log("configure")
        width, height = config["main"]["size"]
        self._size = (int(width), int(height))

    def start(self) -> None:
        _log("start")
        if self._size is None:
            raise RuntimeError("fake picamera2: start() before configure()")
        video = os.environ.get("FAKE_PICAMERA2_VIDEO")
        if video:
            import cv2

            self._video = cv2.VideoCapture(video)
        self._started = True

    def capture_array(self, name: str = "main") -> np.ndarray:
        if name != "main" or not self._started or self._closed:
            raise RuntimeError(f"fake picamera2: capture_array({name!r}) on a camera that is not running")
        self._count += 1
        width, height = self._size
        if self._video is not None:
            import cv2

            ok, frame = self._video.read()
            if not ok:  # loop the clip, as a camera never ends
                self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._video.read()
            return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        ramp = (np.arange(width, dtype=np.int32)[None, :] + 4 * self._count) % 256
        return np.repeat(np.broadcast_to(ramp, (height, width))[..., None], 3, axis=2).astype(np.uint8)

    def stop(self) -> None:
        _log("stop", frames=self._count)
        self._started = False

    def close(self) -> None:
        _log("close")
        if self._video is not None:
            self._video.release()
        self._closed = True
