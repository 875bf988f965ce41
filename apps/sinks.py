"""Where processed frames go: an annotated video file and a JSON-lines detection log.

Both write to a hidden temporary file beside the target and rename it when closed, so the
target name only ever holds a complete file. ``close()`` is what the demo calls on every
exit path (end of source, disconnect, Ctrl-C, error).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Optional, Union

import cv2
import numpy as np

from edgedet.apps.sources import Frame
from edgedet.errors import InvalidInputError
from edgedet.fileio import PendingFile
from edgedet.runtimes import Detections

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")
# With no frame rate known in advance (cameras), the first frames are held back to measure it.
FPS_PROBE_FRAMES = 10
FALLBACK_FPS = 10.0


def _estimate_fps(timestamps: list) -> float:
    known = [t for t in timestamps if t is not None]
    if len(known) < 2 or known[-1] <= known[0]:
        return FALLBACK_FPS
    return min(120.0, max(1.0, (len(known) - 1) / (known[-1] - known[0])))


class VideoSink:
    """Annotated frames into a video (mp4v). All frames take the first frame's size.

    ``fps=None`` (live sources) measures the rate from the first frames' timestamps, so a
    camera processed at 8 FPS plays back at real speed.
    """

    def __init__(self, path: Union[str, Path], fps: Optional[float], fourcc: str = "mp4v"):
        path = Path(path)
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise InvalidInputError(
                f"--save {path}: use a video file name ending in {', '.join(VIDEO_SUFFIXES)}")
        self.path = path
        self.fps = fps
        self.size: Optional[tuple] = None
        self.frames_written = 0
        self._fourcc = fourcc
        self._pending = PendingFile(path)
        self._writer: Optional[cv2.VideoWriter] = None
        self._held: list = []  # (image, timestamp) while the frame rate is being measured

    def write(self, frame: Frame, detections: Detections, annotated: np.ndarray,
              timings: Mapping[str, float]) -> None:
        if self._writer is None and self.fps is None:
            self._held.append((annotated, frame.timestamp_s))
            if len(self._held) >= FPS_PROBE_FRAMES:
                self._release_held()
            return
        self._write_image(annotated)

    def _release_held(self) -> None:
        if self.fps is None:
            self.fps = _estimate_fps([t for _, t in self._held])
        held, self._held = self._held, []
        for image, _ in held:
            self._write_image(image)

    def _write_image(self, image: np.ndarray) -> None:
        if self._writer is None:
            self.size = (image.shape[1], image.shape[0])
            self._writer = cv2.VideoWriter(str(self._pending.path),
                                           cv2.VideoWriter_fourcc(*self._fourcc),
                                           float(self.fps), self.size)
            if not self._writer.isOpened():
                raise InvalidInputError(
                    f"cannot write video {self.path}: this OpenCV build cannot encode "
                    f"{self._fourcc} into {self.path.suffix}")
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file: rename it into place, or remove it if no frame was written."""
        try:
            if self._held:
                self._release_held()
        finally:
            if self._writer is not None:
                self._writer.release()
            if self.frames_written:
                self._pending.commit()
            else:
                self._pending.discard()


def frame_record(frame: Frame, detections: Detections,
                 timings: Mapping[str, float]) -> dict:
    """The JSON-able record of one processed frame."""
    height, width = frame.image.shape[:2]
    record = {
        "frame": frame.index,
        "timestamp_s": None if frame.timestamp_s is None else round(frame.timestamp_s, 4),
        "width": width, "height": height,
        "detections": detections.to_list(),
        "timings_ms": {k: round(v, 2) for k, v in timings.items()},
    }
    if frame.name is not None:
        record["image"] = frame.name
    return record


class JsonlSink:
    """One JSON object per processed frame (see :func:`frame_record`), flushed per line."""

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        self.lines_written = 0
        self._pending = PendingFile(self.path)
        self._file = self._pending.path.open("w", encoding="utf-8")

    def write(self, frame: Frame, detections: Detections, annotated: Optional[np.ndarray],
              timings: Mapping[str, float]) -> None:
        self._file.write(json.dumps(frame_record(frame, detections, timings)) + "\n")
        self._file.flush()
        self.lines_written += 1

    def close(self) -> None:
        """Rename the log into place, or remove it if no frame was processed."""
        self._file.close()
        if self.lines_written:
            self._pending.commit()
        else:
            self._pending.discard()
