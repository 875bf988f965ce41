"""Run ``Detector`` on model files over folders of PNG frames; write every detection as JSON.

Runs with only the torch-free runtime installed (``edgedet[tflite]``), the same script on
the x86 host and inside the emulated arm64 system, so that ``pi_emulated.py`` can compare
the two outputs. PNG frames decode to the same pixels everywhere (JPEG decoders may not).

    python pi_detect.py --out dets.json --frames DIR [--frames DIR2] model.tflite ...

Score threshold 0.3 (the default), one thread: the settings the guide runs with.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
from pathlib import Path

import cv2
import numpy as np

from edgedet import Detector


def int8_logit_step(detector: Detector) -> float | None:
    """The class output's quantization step in logit units (one int8 step), or None when
    the file's class output is float (in-graph NMS files dequantize before their op)."""
    quant = detector.metadata.output_quantization or {}
    cls = quant.get(detector.metadata.outputs.order[0]) if detector.metadata.outputs.order else None
    return None if cls is None else float(cls.scale)


def runtime_of(detector: Detector) -> str:
    """The interpreter package and its version, e.g. ``ai-edge-litert 2.3.0``."""
    package = detector.info.get("interpreter") or detector.info.get("backend")
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return str(package)


def detect_folder(detector: Detector, folder: Path) -> dict[str, list[dict]]:
    """Per frame name: its detections as plain JSON (boxes in the frame's pixels)."""
    results = {}
    for path in sorted(folder.glob("*.png")):
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise SystemExit(f"pi_detect.py: cannot read frame {path}")
        found = detector.detect(frame)
        results[path.name] = [
            {"box": [float(v) for v in box], "score": float(score), "class_id": int(cls)}
            for box, score, cls in zip(np.asarray(found.boxes), np.asarray(found.scores),
                                       np.asarray(found.class_ids))
        ]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--frames", type=Path, action="append", required=True,
                        help="a folder of .png frames (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = {"machine": platform.machine(), "python": sys.version.split()[0],
              "numpy": np.__version__, "opencv": cv2.__version__, "models": {}}
    for model in args.models:
        detector = Detector(model, num_threads=1)
        report["models"][model.name] = {
            "backend": detector.info.get("backend"), "runtime": runtime_of(detector),
            "input_size": detector.info["input_size"], "logit_step": int8_logit_step(detector),
            "frames": {folder.name: detect_folder(detector, folder) for folder in args.frames},
        }
    args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
