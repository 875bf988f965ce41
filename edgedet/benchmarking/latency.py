"""Latency of several Detectors measured round-robin, so machine noise hits all alike."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from edgedet.errors import EdgedetError, InvalidInputError
from edgedet.progress import progress

STAGES = ("total_ms", "preprocess_ms", "inference_ms", "postprocess_ms")


@dataclass
class LatencyStats:
    """Median and 90th percentile of one stage, in milliseconds."""

    median: float
    p90: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> "LatencyStats":
        values = np.asarray(samples, dtype=np.float64)
        return cls(float(np.median(values)), float(np.percentile(values, 90)))


@dataclass
class ModelResult:
    """One row of the benchmark table."""

    path: str
    format: str = ""
    precision: str = ""
    model: str = ""
    input_size: str = ""  # "320" or "320x192"
    size_mb: float = 0.0
    threads: int = 1
    latency: dict[str, LatencyStats] = field(default_factory=dict)
    map: Optional[float] = None
    map50: Optional[float] = None
    error: Optional[str] = None
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        return f"{Path(self.path).name} ({self.format} {self.precision})".strip()


def open_detectors(paths: Sequence[str | Path], threads: int = 1, **detector_options):
    """Open a Detector per path; a file that fails becomes a failed row, not a crash."""
    from edgedet.runtimes import Detector
    from edgedet.runtimes.formats import sniff_format

    rows, detectors = [], []
    for path in paths:
        row = ModelResult(path=str(path), threads=threads)
        rows.append(row)
        try:
            row.format = sniff_format(path)
            det = Detector(path, num_threads=threads, **detector_options)
        except (EdgedetError, OSError, RuntimeError) as exc:
            row.error = f"{type(exc).__name__}: {exc}"
            detectors.append(None)
            continue
        meta = det.metadata
        row.precision, row.model, row.input_size = (meta.precision, meta.model,
                                                       str(meta.input_size))
        row.size_mb = model_size_mb(Path(path))
        row.info = det.info
        if "precision" in row.info and row.info["precision"] != meta.precision:
            row.precision = str(row.info["precision"])
        detectors.append(det)
    return rows, detectors


def model_size_mb(path: Path) -> float:
    """Size of a model file in MB, counting an OpenVINO IR's .bin with its .xml."""
    from edgedet.runtimes.formats import format_of

    return format_of(path).size_bytes(path) / 1e6


def measure_latency(paths: Sequence[str | Path], frame: np.ndarray, runs: int = 50,
                    warmup: int = 5, threads: int = 1, show_progress: bool = True,
                    **detector_options) -> list[ModelResult]:
    """Time ``detect(frame)`` for every model file: ``warmup`` calls each, then ``runs``
    rounds in which each model runs once (interleaved). Returns one row per path."""
    if not isinstance(runs, int) or runs < 1:
        raise InvalidInputError(f"--runs must be an integer >= 1, got {runs!r}")
    rows, detectors = open_detectors(paths, threads, **detector_options)
    time_detectors([(row, det) for row, det in zip(rows, detectors) if det is not None], frame,
                   runs, warmup, show_progress)
    return rows


def time_detectors(live: Sequence[tuple[ModelResult, object]], frame: np.ndarray, runs: int,
                   warmup: int = 5, show_progress: bool = True) -> None:
    """Fill ``row.latency`` (or ``row.error``) for each (row, open Detector) pair: ``warmup``
    calls each, then ``runs`` rounds in which each detector runs once (interleaved)."""
    samples: dict[int, dict[str, list[float]]] = {id(r): {s: [] for s in STAGES} for r, _ in live}
    for row, det in live:
        for _ in range(warmup):
            _safe_detect(row, det, frame)
    for _ in progress(range(runs), total=runs, desc="benchmark", enabled=show_progress):
        for row, det in live:
            if row.ok and _safe_detect(row, det, frame):
                for stage in STAGES:
                    samples[id(row)][stage].append(det.timings[stage])
    for row, _ in live:
        if row.ok:
            row.latency = {s: LatencyStats.of(v) for s, v in samples[id(row)].items()}


def _safe_detect(row: ModelResult, det, frame: np.ndarray) -> bool:
    try:
        det.detect(frame)
        return True
    except Exception as exc:  # one broken model must not stop the others being measured
        row.error = f"{type(exc).__name__}: {exc}"
        return False
