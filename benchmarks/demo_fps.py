"""Effective FPS and per-stage latency of the demo loop on a video file, one row per model.

It runs exactly what `edgedet demo --source VIDEO --headless` runs (every frame decoded,
detected, drawn and, with --out, written to .mp4 and .jsonl) and prints a Markdown table.

    python benchmarks/demo_fps.py --video ../shared/samples/cars_short.mp4 \
        d0_int8.tflite d0_int8.xml d0.onnx --threads 1 --out /tmp/demo_runs
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edgedet.input_size import input_size
from edgedet.apps.demo import STAGES, DemoResult, run_demo
from edgedet.apps.sinks import JsonlSink, VideoSink
from edgedet.apps.sources import VideoFileSource
from edgedet.runtimes import Detector


class CpuTimedDetector:
    """Wraps a Detector and also records the process CPU time of each ``detect`` call.

    On a shared machine wall-clock latency includes time spent waiting for a core; CPU time
    does not (it still includes slowdowns from caches and memory bandwidth that others use).
    """

    def __init__(self, detector: Detector):
        self.detector = detector
        self.cpu_ms: list[float] = []

    @property
    def timings(self) -> dict:
        return self.detector.timings

    def detect(self, frame):
        start = time.process_time()
        detections = self.detector.detect(frame)
        self.cpu_ms.append((time.process_time() - start) * 1e3)
        return detections


def measure(model: Path, video: Path, threads: int,
            out_dir: Path | None) -> tuple[CpuTimedDetector, DemoResult]:
    """Run the demo loop over the whole video with ``model``; return the detector and result."""
    detector = CpuTimedDetector(Detector(model, num_threads=threads))
    source = VideoFileSource(video)
    sinks = []
    if out_dir is not None:
        sinks = [VideoSink(out_dir / f"{model.stem}.mp4", fps=source.fps),
                 JsonlSink(out_dir / f"{model.stem}.jsonl")]
    return detector, run_demo(source, detector, sinks, draw=out_dir is not None)


def table_row(model: Path, detector: CpuTimedDetector, result: DemoResult) -> str:
    info = detector.detector.info
    cells = [model.name, info["backend"], info["precision"], str(input_size(info["input_size"])),
             str(result.frames), f"{result.effective_fps:.1f}"]
    cells += [f"{result.times.mean(s):.1f} / {result.times.p90(s):.1f}" for s in STAGES]
    cells.append(f"{np.mean(detector.cpu_ms):.1f} / {np.percentile(detector.cpu_ms, 90):.1f}")
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="model files (.onnx, .xml, .tflite)")
    parser.add_argument("--video", type=Path, required=True, help="video file to run on")
    parser.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    parser.add_argument("--out", type=Path, help="also write <model>.mp4 and <model>.jsonl here")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)  # as `edgedet demo` does

    print(f"# {args.video.name}, {args.threads} thread(s), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    print("| model | backend | precision | input | frames | effective FPS | "
          + " | ".join(f"{s} ms mean / p90" for s in STAGES) + " | detect CPU ms mean / p90 |")
    print("|" + "---|" * (7 + len(STAGES)))
    for model in args.models:
        detector, result = measure(model, args.video, args.threads, args.out)
        print(table_row(model, detector, result), flush=True)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
