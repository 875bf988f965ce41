"""Latest-frame-only capture: a background thread reads a live source and keeps only the
newest frame, so a slow detector skips frames instead of falling further and further behind."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

ReadFn = Callable[[], Tuple[bool, Optional[np.ndarray]]]


@dataclass(frozen=True)
class Captured:
    """One frame from the capture thread."""

    sequence: int  # 0, 1, 2... in capture order, counting frames never handed out
    image: np.ndarray
    time_s: float  # seconds since the grabber started, taken when the frame arrived


class LatestFrameGrabber:
    """Run ``read()`` (e.g. ``cv2.VideoCapture.read``) on a thread; :meth:`get` returns the
    newest frame not yet handed out and counts the ones that were overwritten as dropped.

    The thread stops after ``max_failures`` reads in a row return no frame (a camera that
    was unplugged) or when ``read`` raises; :attr:`end_reason` then says why.
    """

    def __init__(self, read: ReadFn, max_failures: int = 25, retry_delay_s: float = 0.02,
                 name: str = "capture"):
        self._read = read
        self._max_failures = max_failures
        self._retry_delay_s = retry_delay_s
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._latest: Optional[Captured] = None
        self._taken = -1
        self._start = time.monotonic()
        self.captured = 0
        self.dropped = 0
        self.ended = False
        self.end_reason = ""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        reason = "stopped"
        while not self._stop.is_set():
            try:
                ok, image = self._read()
            except Exception as exc:  # a driver error ends the stream; report it, don't die silently
                reason = f"the source raised {type(exc).__name__}: {exc}"
                break
            if not ok or image is None:
                failures += 1
                if failures >= self._max_failures:
                    reason = f"the source returned no frame {failures} times in a row (disconnected?)"
                    break
                time.sleep(self._retry_delay_s)
                continue
            failures = 0
            with self._cond:
                self._latest = Captured(self.captured, image, time.monotonic() - self._start)
                self.captured += 1
                self._cond.notify_all()
        with self._cond:
            self.ended = True
            self.end_reason = reason
            self._cond.notify_all()

    def _has_new(self) -> bool:
        return self._latest is not None and self._latest.sequence > self._taken

    def get(self, timeout_s: Optional[float] = None) -> Optional[Captured]:
        """Wait for a frame newer than the last one returned; ``None`` if the stream ended
        (or ``timeout_s`` passed) with nothing new."""
        with self._cond:
            self._cond.wait_for(lambda: self._has_new() or self.ended, timeout_s)
            if not self._has_new():
                return None
            latest = self._latest
            self.dropped += latest.sequence - self._taken - 1
            self._taken = latest.sequence
            return latest

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the thread to finish and wait for it (a blocked driver read may outlast this)."""
        self._stop.set()
        self._thread.join(timeout_s)
