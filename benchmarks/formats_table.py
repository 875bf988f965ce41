"""Every deployable format of one model, measured in one run: size, conversion time, parity
against PyTorch, and single-thread ``Detector.detect()`` median latency.

    python benchmarks/formats_table.py                      # random-weight D0 at 512
    python benchmarks/formats_table.py --weights d0.pt --calib images/ --json table.json

Without ``--weights`` a random-weight checkpoint is made; without ``--calib`` deterministic
synthetic images (smooth colour fields) are written and used for calibration and parity.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from edgedet import Detector
from edgedet.benchmarking.latency import ModelResult, model_size_mb, time_detectors
from edgedet.checkpoint import init_checkpoint, load_checkpoint
from edgedet.converters import convert_with_report
from edgedet.converters.calibration import load_calibration_images, synthetic_images
from edgedet.converters.parity import measure_parity, reference_outputs
from edgedet.runtimes.formats import CONVERSIONS, SUFFIXES

REPORT_FIELDS = ("cls_sqnr_db", "box_sqnr_db", "cls_max_abs_diff", "box_max_abs_diff",
                 "reference_detections", "matched_detections", "mean_iou", "same_class_rate")


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def prepare(args: argparse.Namespace, work: Path):
    """The checkpoint (made if not given), its model and metadata, and calibration images."""
    weights = Path(args.weights) if args.weights else work / "d0.pt"
    if not args.weights:
        init_checkpoint(weights, args.model, [f"class{i}" for i in range(args.num_classes)],
                        input_size=args.imgsz, seed=0)
    model, metadata = load_checkpoint(weights)
    calib = Path(args.calib) if args.calib else work / "calib"
    if not args.calib:
        calib.mkdir()
        for i, image in enumerate(synthetic_images(metadata.input_size, args.calib_size, seed=1)):
            cv2.imwrite(str(calib / f"{i:04d}.png"), image[:, :, ::-1])
    return weights, model, metadata, calib


def convert_all(args, work: Path, weights: Path, model, metadata, calib: Path, images, reference):
    """Convert to every format; returns table rows and one Detector per row."""
    rows, detectors = [], {}
    for target, precision in CONVERSIONS:
        out = work / f"{target}_{precision}{SUFFIXES[target]}"
        start = time.perf_counter()
        convert_with_report(weights, target, out, precision, calib=calib,
                            calib_size=args.calib_size, report=False)
        seconds = time.perf_counter() - start
        report = measure_parity(model, metadata, out, target, precision, images, reference)
        variants = [{}]
        if target == "openvino":  # the plugin's default precision, and f32 if that differs
            variants.append({"inference_precision": "f32"})
        for options in variants:
            det = Detector(out, num_threads=1, **options)
            key = f"{target} {precision} / {det.info['backend']} " \
                  f"{det.info.get('inference_precision', precision)}"
            if key in detectors:
                continue
            detectors[key] = det
            rows.append({"key": key, "size_mb": model_size_mb(out), "convert_s": seconds,
                         **{k: getattr(report, k) for k in REPORT_FIELDS}})
        print(f"converted {target} {precision} in {seconds:.0f} s", flush=True)
    return rows, detectors


def print_table(rows: list[dict]) -> None:
    print("| file / runs as | size MB | convert s | cls SQNR dB | box SQNR dB | "
          "det. matched / ref | mean IoU | same class | detect() ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['key']} | {r['size_mb']:.1f} | {r['convert_s']:.0f} | "
              f"{r['cls_sqnr_db']:.1f} | {r['box_sqnr_db']:.1f} | "
              f"{r['matched_detections']} / {r['reference_detections']} | "
              f"{_fmt(r['mean_iou'], '.3f')} | {_fmt(r['same_class_rate'], '.1%')} | "
              f"{r['latency_ms']:.1f} |")


def run(args: argparse.Namespace) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="edgedet_formats_"))
    weights, model, metadata, calib = prepare(args, work)
    images = load_calibration_images(calib, metadata.input_size, args.calib_size)
    reference = reference_outputs(model, images)
    rows, detectors = convert_all(args, work, weights, model, metadata, calib, images, reference)
    frame = cv2.resize(images[0][:, :, ::-1], (640, 480))
    timed = {key: ModelResult(path=key) for key in detectors}
    time_detectors([(timed[key], det) for key, det in detectors.items()], frame, args.runs,
                   warmup=3)
    for r in rows:
        result = timed[r["key"]]
        r["latency_ms"] = result.latency["total_ms"].median if result.ok else float("nan")
    print(f"\n{metadata.model} at {metadata.input_size}, {metadata.num_classes} classes; parity "
          f"vs PyTorch on {len(images)} images from {calib}; latency: median of "
          f"{args.runs} detect() calls on a 640x480 frame, 1 thread, interleaved across "
          f"files; load average {os.getloadavg()[0]:.1f}\n")
    print_table(rows)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", help="checkpoint to convert (default: a random-weight one)")
    p.add_argument("--model", default="d0")
    p.add_argument("--imgsz", type=int, default=512)
    p.add_argument("--num-classes", type=int, default=90)
    p.add_argument("--calib", help="calibration image folder or dataset")
    p.add_argument("--calib-size", type=int, default=64)
    p.add_argument("--runs", type=int, default=30, help="timed detect() calls per file, interleaved")
    p.add_argument("--json", help="write the rows here as JSON")
    args = p.parse_args()
    rows = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
