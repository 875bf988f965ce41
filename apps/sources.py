"""Frame sources for the demo: a video file, an image folder, or a live camera.

Every source yields :class:`Frame` objects from :meth:`FrameSource.read` until it returns
``None``; :attr:`FrameSource.end_reason` then says why (end of file, disconnect...).
Files give every frame (or every n-th); live sources give only the newest frame.
"""
from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from edgedet.apps.capture import LatestFrameGrabber, ReadFn
from edgedet.data.types import IMAGE_SUFFIXES
from edgedet.errors import InvalidInputError

Size = Tuple[int, int]  # width, height
# An image folder becomes a slideshow in the saved video at this rate.
IMAGE_FOLDER_FPS = 5.0
# How long a live source may take to deliver its first frame, then any later one.
FIRST_FRAME_TIMEOUT_S = 10.0
STALL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Frame:
    """One frame to run the detector on."""

    image: np.ndarray  # HxWx3 uint8, BGR
    index: int  # frame number in a file or folder; capture count for a camera
    timestamp_s: Optional[float]  # video position (files); seconds since start (cameras)
    name: Optional[str] = None  # the image's file name, for image folders


class FrameSource(ABC):
    """Where frames come from. Use as a context manager, or call :meth:`close`."""

    description: str = "source"
    live: bool = False  # True: newest frame only, frames may be dropped
    fps: Optional[float] = None  # rate of the frames read() returns, when known in advance
    frame_size: Optional[Size] = None  # (width, height) of every frame, when known in advance
    end_reason: str = ""

    @property
    def dropped(self) -> int:
        """Frames the source produced that were never handed out (live sources)."""
        return 0

    @abstractmethod
    def read(self) -> Optional[Frame]:
        """The next frame, or ``None`` when the source has ended (see :attr:`end_reason`)."""

    def close(self) -> None:
        """Release the device or file."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _resize(image: np.ndarray, size: Optional[Size]) -> np.ndarray:
    if size is None or (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _check_every(every: int) -> int:
    if not isinstance(every, int) or every < 1:
        raise InvalidInputError(f"--every must be an integer >= 1, got {every!r}")
    return every


class VideoFileSource(FrameSource):
    """Every ``every``-th frame of a video file; timestamps are positions in the video."""

    def __init__(self, path: Union[str, Path], every: int = 1, size: Optional[Size] = None):
        self.path = Path(path)
        self.every = _check_every(every)
        self.size = size
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise InvalidInputError(
                f"cannot open video {self.path}: OpenCV could not read it (not a video, "
                "truncated, or a codec this OpenCV build lacks?)"
            )
        native_fps = self._cap.get(cv2.CAP_PROP_FPS)
        self._native_fps = native_fps if native_fps and native_fps > 0 else None
        self.frame_count = max(0, int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        self.fps = self._native_fps / self.every if self._native_fps else None
        self._next_index = 0
        self._pending = self._decode()  # fail now, before any output exists, if nothing decodes
        if self._pending is None:
            self._cap.release()
            raise InvalidInputError(f"cannot read video {self.path}: no frame could be decoded")
        height, width = self._pending.image.shape[:2]
        self.frame_size = (width, height)
        self.description = (f"video {self.path.name} ({width}x{height}"
                            + (f", {self._native_fps:.4g} fps" if self._native_fps else "")
                            + (f", {self.frame_count} frames" if self.frame_count else "") + ")")

    def _timestamp(self, index: int) -> float:
        if self._native_fps:
            return index / self._native_fps
        return self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0

    def _decode(self) -> Optional[Frame]:
        index = self._next_index
        ok, image = self._cap.read()
        if not ok or image is None:
            return None
        self._next_index += 1
        return Frame(_resize(image, self.size), index, self._timestamp(index))

    def _skip(self, count: int) -> bool:
        for _ in range(count):
            if not self._cap.grab():
                return False
            self._next_index += 1
        return True

    def read(self) -> Optional[Frame]:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        frame = self._decode() if self._skip(self.every - 1) else None
        if frame is None and not self.end_reason:
            self.end_reason = self._why_ended()
        return frame

    def _why_ended(self) -> str:
        if self.frame_count and self._next_index + self.every <= self.frame_count:
            return (f"the video stopped decoding at frame {self._next_index} of "
                    f"{self.frame_count} (truncated or damaged file?)")
        return "end of video"

    def close(self) -> None:
        self._cap.release()


class ImageFolderSource(FrameSource):
    """Images in a folder in name order (or an explicit list); unreadable files are skipped."""

    fps = IMAGE_FOLDER_FPS

    def __init__(self, paths: Union[str, Path, Sequence[Path]], every: int = 1,
                 size: Optional[Size] = None):
        if isinstance(paths, (str, Path)):
            folder = Path(paths)
            paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not paths:
                raise InvalidInputError(
                    f"image folder {folder} has no images ({', '.join(IMAGE_SUFFIXES)})")
            self.description = f"image folder {folder} ({len(paths)} images)"
        else:
            self.description = f"{len(paths)} image(s)"
        self.every = _check_every(every)
        self.fps = IMAGE_FOLDER_FPS / self.every
        self.paths = list(paths)
        self.size = size
        self.skipped: list[Path] = []
        self._position = 0

    def read(self) -> Optional[Frame]:
        while self._position < len(self.paths):
            index = self._position
            path = self.paths[index]
            self._position += self.every
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.skipped.append(path)
                print(f"warning: {path}: not a readable image; skipped", file=sys.stderr)
                continue
            return Frame(_resize(image, self.size), index, None, path.name)
        self.end_reason = "end of image folder" + (
            f" ({len(self.skipped)} unreadable file(s) skipped)" if self.skipped else "")
        return None


class LiveSource(FrameSource):
    """A camera or stream read on a background thread; only the newest frame is returned.

    ``read_fn`` returns ``(ok, BGR image)`` like ``cv2.VideoCapture.read``; ``release`` is
    called on close. Timestamps are seconds since the capture started.
    """

    live = True

    def __init__(self, read_fn: ReadFn, release: Callable[[], None], description: str,
                 first_frame_timeout_s: float = FIRST_FRAME_TIMEOUT_S,
                 stall_timeout_s: float = STALL_TIMEOUT_S):
        self.description = description
        self._release = release
        self._stall_timeout_s = stall_timeout_s
        self._grabber = LatestFrameGrabber(read_fn, name=f"capture {description}")
        first = self._grabber.get(first_frame_timeout_s)
        if first is None:
            self.close()
            why = self._grabber.end_reason or f"nothing within {first_frame_timeout_s:.0f} s"
            raise InvalidInputError(f"{description} opened but delivered no frame: {why}")
        self._pending: Optional[Frame] = Frame(first.image, first.sequence, first.time_s)
        self.frame_size: Size = (first.image.shape[1], first.image.shape[0])
        self.description = f"{description} ({self.frame_size[0]}x{self.frame_size[1]})"

    @property
    def dropped(self) -> int:
        return self._grabber.dropped

    def read(self) -> Optional[Frame]:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        captured = self._grabber.get(self._stall_timeout_s)
        if captured is None:
            self.end_reason = self._grabber.end_reason or (
                f"no new frame for {self._stall_timeout_s:.0f} s (camera stalled or disconnected?)")
            return None
        return Frame(captured.image, captured.sequence, captured.time_s)

    def close(self) -> None:
        self._grabber.stop()
        self._release()


def open_camera(device: Union[int, str], size: Optional[Size] = None) -> LiveSource:
    """Open an OpenCV camera (index or device path such as ``/dev/video0``) or a stream URL."""
    cap = cv2.VideoCapture(device)
    if not cap.isOpened():
        where = f"camera index {device} (/dev/video{device})" if isinstance(device, int) else str(device)
        raise InvalidInputError(
            f"cannot open {where}. Check that the camera is plugged in (`ls /dev/video*`), "
            "that no other program is using it, and that your user may access it (the "
            "'video' group on Linux). For a Raspberry Pi camera module use --source picamera."
        )
    if size is not None:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
    # The driver may hold a few frames; ask for the smallest queue it supports.
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    name = f"stream {device}" if "://" in str(device) else f"camera {device}"
    source = LiveSource(cap.read, cap.release, name)
    if size is not None and source.frame_size != tuple(size):
        width, height = source.frame_size
        print(f"note: {name} gives {width}x{height}, not the requested {size[0]}x{size[1]}",
              file=sys.stderr)
    return source


def open_source(spec: str, every: int = 1, size: Optional[Size] = None) -> FrameSource:
    """Open ``spec``: a camera index (``0``), a device path or stream URL, ``picamera``,
    a video file, an image file, or a folder of images."""
    spec = str(spec).strip()
    if spec.isdigit():
        return open_camera(int(spec), size)
    if spec.lower() == "picamera":
        from edgedet.apps.picamera import open_picamera

        return open_picamera(size)
    if spec.startswith("/dev/video") or "://" in spec:
        return open_camera(spec, size)
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, every, size)
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return ImageFolderSource([path], every, size)
        return VideoFileSource(path, every, size)
    raise InvalidInputError(
        f"source {spec!r} not found: give a camera index (0), a video file, an image folder, "
        "an image, a device path (/dev/video0), a stream URL, or 'picamera'"
    )
