"""Orchestration for `edgedet benchmark`: convert on demand, time, evaluate, report."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from edgedet.benchmarking.latency import ModelResult, measure_latency
from edgedet.errors import EdgedetError, InvalidInputError
from edgedet.input_size import SizeLike



@dataclass
class BenchmarkPlan:
    """What to measure. Either ``models`` (files) or ``weights`` + formats/precisions."""

    models: list[Path] = field(default_factory=list)
    weights: Optional[Path] = None
    formats: Sequence[str] = ("onnx",)
    precisions: Sequence[str] = ("fp32",)
    calib: Optional[Path] = None
    calib_size: int = 200
    # With weights: convert at this size (e.g. "320x192"); None keeps the checkpoint's.
    input_size: Optional[SizeLike] = None
    parity_report: bool = True
    # Keep a file already at its output path instead of converting again (benchmark scripts
    # convert once, then time on a quiet machine).
    reuse: bool = False
    out_dir: Optional[Path] = None
    data: Optional[Path] = None
    data_format: Optional[str] = None
    split: str = "val"
    runs: int = 50
    warmup: int = 5
    threads: int = 1
    image: Optional[Path] = None
    class_agnostic_nms: bool = False
    # Called with each conversion's parity report (the CLI prints it); None: not shown.
    show_report: Optional[Callable] = None


def convert_all(plan: BenchmarkPlan, failed: list[ModelResult]) -> list[Path]:
    """Convert ``plan.weights`` to every requested format x precision; failures become rows."""
    from edgedet.converters import convert_with_report
    from edgedet.runtimes.formats import REGISTRY

    out_dir = plan.out_dir or plan.weights.with_name(plan.weights.stem + "_bench")
    paths = []
    for fmt in plan.formats:
        row = REGISTRY.get(fmt)
        if row is not None and not row.is_target:  # the checkpoint itself
            paths.append(plan.weights)
            continue
        # An unknown name still gets a row: convert() fails on it with a clear message.
        suffix = row.suffix if row is not None else "." + fmt
        sized = f"_{plan.input_size}" if plan.input_size else ""
        for precision in plan.precisions:
            out = out_dir / f"{plan.weights.stem}{sized}_{precision}{suffix}"
            if plan.reuse and out.is_file():
                paths.append(out)
                continue
            try:
                path, report = convert_with_report(
                    plan.weights, fmt, out, precision=precision, calib=plan.calib,
                    calib_size=plan.calib_size, overwrite=True, report=plan.parity_report,
                    input_size=plan.input_size)
                paths.append(path)
                if report is not None and plan.show_report is not None:
                    plan.show_report(report)
            except (EdgedetError, OSError, RuntimeError, ValueError) as exc:
                failed.append(ModelResult(path=str(out), format=fmt, precision=precision,
                                          error=f"conversion failed: {exc}"))
    return paths


def benchmark_frame(plan: BenchmarkPlan, dataset=None) -> np.ndarray:
    """The frame every model is timed on: --image, else the first dataset image, else a
    synthetic 1280x720 frame."""
    import cv2

    path = plan.image or (dataset.samples[0].image_path if dataset is not None else None)
    if path is not None:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise InvalidInputError(f"--image {path}: not a readable image")
        return frame
    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (9, 9), 0)
    cv2.circle(frame, (400, 300), 120, (40, 200, 60), -1)
    cv2.rectangle(frame, (800, 200), (1100, 560), (200, 60, 40), -1)
    return frame


def load_eval_dataset(plan: BenchmarkPlan):
    from edgedet.data import load_dataset

    dataset = load_dataset(plan.data, plan.data_format, plan.split)
    if not dataset.samples or not any(len(s.boxes) for s in dataset.samples):
        raise InvalidInputError(
            f"--data {plan.data} (split {plan.split}) has no labelled boxes to compute mAP with"
        )
    return dataset


def add_map(rows: list[ModelResult], dataset, threads: int,
            class_agnostic_nms: bool = False) -> None:
    """Fill ``map``/``map50`` of each working row by evaluating through a Detector."""
    from edgedet.evaluation import EVAL_MAX_RESULTS, EVAL_SCORE_THRESHOLD, evaluate
    from edgedet.runtimes import Detector

    for row in rows:
        if not row.ok:
            continue
        try:
            det = Detector(row.path, score_threshold=EVAL_SCORE_THRESHOLD,
                           max_results=EVAL_MAX_RESULTS, num_threads=threads,
                           class_agnostic_nms=class_agnostic_nms)
            result = evaluate(det, dataset, progress=True)
        except Exception as exc:  # a model that cannot be evaluated is reported, not fatal
            row.error = f"evaluation failed: {type(exc).__name__}: {exc}"
            continue
        row.map, row.map50 = float(result["map"]), float(result["map50"])


def run_benchmark(plan: BenchmarkPlan) -> list[ModelResult]:
    """Run the whole plan and return one row per model file (failed ones included)."""
    failed: list[ModelResult] = []
    models = list(plan.models)
    if plan.weights is not None:
        models += convert_all(plan, failed)
    if not models and not failed:
        raise InvalidInputError("nothing to benchmark: give model files or --weights")
    dataset = load_eval_dataset(plan) if plan.data else None
    frame = benchmark_frame(plan, dataset)
    rows = measure_latency(models, frame, runs=plan.runs, warmup=plan.warmup,
                           threads=plan.threads, class_agnostic_nms=plan.class_agnostic_nms)
    if dataset is not None:
        add_map(rows, dataset, plan.threads, plan.class_agnostic_nms)
    return rows + failed
