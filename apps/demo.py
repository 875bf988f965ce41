"""The demo loop: frame source -> Detector -> overlay -> sinks (and a window if there is one).

Each piece is passed in, so the loop can run on a fake camera or without a model file.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import numpy as np

from edgedet.apps.display import Window
from edgedet.apps.overlay import draw_overlay
from edgedet.apps.sources import Frame, FrameSource
from edgedet.apps.stats import Smoothed, StageTimes
from edgedet.runtimes import Detections

STAGES = ("capture", "preprocess", "inference", "postprocess", "render", "total")
_DETECTOR_STAGES = ("preprocess", "inference", "postprocess")


class Sink(Protocol):
    """Receives every processed frame; closed once at the end, whatever ended the run."""

    def write(self, frame: Frame, detections: Detections, annotated: Optional[np.ndarray],
              timings: dict) -> None: ...

    def close(self) -> None: ...


class FrameDetector(Protocol):
    """What the loop needs of :class:`edgedet.Detector`."""

    timings: dict

    def detect(self, frame: np.ndarray) -> Detections: ...


@dataclass
class DemoResult:
    """What a run did: frames processed and dropped, why it ended, per-stage latency."""

    frames: int
    dropped: int
    elapsed_s: float
    end_reason: str
    interrupted: bool
    times: StageTimes

    @property
    def effective_fps(self) -> float:
        """Frames processed per second of wall time, from the first read to the last frame."""
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        head = (f"processed {self.frames} frames in {self.elapsed_s:.2f} s: "
                f"{self.effective_fps:.2f} FPS effective, {self.dropped} dropped; "
                f"ended: {self.end_reason}")
        return head + "\n" + self.times.table() if self.frames else head


def run_demo(source: FrameSource, detector: FrameDetector, sinks: Sequence[Sink] = (),
             window: Optional[Window] = None, draw: bool = True,
             max_frames: Optional[int] = None) -> DemoResult:
    """Process frames until the source ends, the window is closed, ``max_frames`` are done,
    or Ctrl-C. The source, sinks and window are closed on every one of those paths.

    ``draw=False`` skips the overlay when nothing would show or save it (a window always
    gets it).
    """
    draw = draw or window is not None
    times = StageTimes(STAGES)
    smooth = Smoothed()
    frames = 0
    interrupted = False
    end_reason = ""
    start = time.perf_counter()
    last_done = None
    try:
        while max_frames is None or frames < max_frames:
            t0 = time.perf_counter()
            frame = source.read()
            if frame is None:
                end_reason = source.end_reason or "source ended"
                break
            t1 = time.perf_counter()
            detections = detector.detect(frame.image)
            t2 = time.perf_counter()
            stage_ms = {k: detector.timings[f"{k}_ms"] for k in _DETECTOR_STAGES}
            shown = smooth.values
            fps = 1000.0 / shown["interval_ms"] if shown.get("interval_ms") else None
            annotated = draw_overlay(frame.image, detections, fps, shown) if draw else None
            for sink in sinks:
                sink.write(frame, detections, annotated, detector.timings)
            keep_going = window.show(annotated) if window is not None else True
            t3 = time.perf_counter()
            frames += 1
            stage_ms.update(capture=(t1 - t0) * 1e3, render=(t3 - t2) * 1e3,
                            total=(t3 - t0) * 1e3)
            times.add(stage_ms)
            if last_done is not None:
                stage_ms["interval_ms"] = (t3 - last_done) * 1e3
            last_done = t3
            smooth.update(stage_ms)
            if not keep_going:
                end_reason = "closed by the user"
                break
        else:
            end_reason = f"reached --max-frames {max_frames}"
    except KeyboardInterrupt:
        interrupted = True
        end_reason = "interrupted (Ctrl-C or SIGTERM)"
    finally:
        elapsed = time.perf_counter() - start
        _close_all(source, sinks, window)
    return DemoResult(frames, source.dropped, elapsed, end_reason, interrupted, times)


def _close_all(source: FrameSource, sinks: Sequence[Sink], window: Optional[Window]) -> None:
    # Close everything even if one close fails, so no output is left half-written.
    first_error: Optional[BaseException] = None
    for closer in [source.close, *(s.close for s in sinks)] + ([window.close] if window else []):
        try:
            closer()
        except Exception as exc:
            first_error = first_error or exc
            print(f"warning: while closing: {exc}", file=sys.stderr)
    if first_error is not None:
        raise first_error
