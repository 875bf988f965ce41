"""Latency bookkeeping: per-stage samples for the final summary, smoothed values for the overlay."""
from __future__ import annotations

from typing import Dict, Iterable, Mapping

import numpy as np


class StageTimes:
    """Collects one latency sample (ms) per stage per frame; reports mean and p90."""

    def __init__(self, stages: Iterable[str]):
        self.stages = tuple(stages)
        self._samples: Dict[str, list] = {s: [] for s in self.stages}

    def add(self, times_ms: Mapping[str, float]) -> None:
        """Record one frame's times; stages not given are left out for that frame."""
        for stage in self.stages:
            if stage in times_ms:
                self._samples[stage].append(float(times_ms[stage]))

    def count(self, stage: str) -> int:
        return len(self._samples[stage])

    def mean(self, stage: str) -> float:
        values = self._samples[stage]
        return float(np.mean(values)) if values else float("nan")

    def p90(self, stage: str) -> float:
        values = self._samples[stage]
        return float(np.percentile(values, 90)) if values else float("nan")

    def table(self) -> str:
        """A plain-text table: stage, mean ms, p90 ms."""
        lines = [f"  {'stage':<12} {'mean ms':>8} {'p90 ms':>8}"]
        for stage in self.stages:
            if self._samples[stage]:
                lines.append(f"  {stage:<12} {self.mean(stage):>8.1f} {self.p90(stage):>8.1f}")
        return "\n".join(lines)


class Smoothed:
    """Exponential moving averages of named values, for a steady on-screen readout."""

    def __init__(self, alpha: float = 0.1):
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self.values: Dict[str, float] = {}

    def update(self, sample: Mapping[str, float]) -> Dict[str, float]:
        for key, value in sample.items():
            old = self.values.get(key)
            self.values[key] = float(value) if old is None else old + self.alpha * (value - old)
        return dict(self.values)
