"""Draw detections plus an FPS and per-stage latency panel on a frame."""
from __future__ import annotations

from typing import Mapping, Optional

import cv2
import numpy as np

from edgedet.runtimes import Detections

# Overlay labels for the stages the panel shows, in order.
PANEL_STAGES = (("preprocess", "pre"), ("inference", "infer"), ("postprocess", "post"))
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_overlay(image: np.ndarray, detections: Detections, fps: Optional[float],
                 stage_ms: Mapping[str, float]) -> np.ndarray:
    """Return a copy of ``image`` with boxes, labels with scores, and a top-left panel:
    ``fps`` (``None`` until known) and the smoothed per-stage latency in ms."""
    canvas = detections.draw(image)
    lines = [f"{fps:.1f} FPS" if fps is not None else "-- FPS"]
    parts = [f"{short} {stage_ms[stage]:.1f}" for stage, short in PANEL_STAGES if stage in stage_ms]
    if parts:
        lines.append(" | ".join(parts) + " ms")
    _text_panel(canvas, lines)
    return canvas


def _text_panel(canvas: np.ndarray, lines: list, margin: int = 6) -> None:
    scale = max(0.4, min(canvas.shape[:2]) / 900)
    widest = max(cv2.getTextSize(line, _FONT, 1.0, 1)[0][0] for line in lines)
    scale = min(scale, (canvas.shape[1] - 2 * margin) / widest)  # small frames: shrink to fit
    sizes = [cv2.getTextSize(line, _FONT, scale, 1) for line in lines]
    line_h = max(h + base for (_, h), base in sizes) + margin // 2
    width = max(w for (w, _), _ in sizes) + 2 * margin
    height = line_h * len(lines) + margin
    # Darken the panel area instead of painting it black, so the video stays visible.
    region = canvas[:height, :width]
    region[:] = (region * 0.35).astype(np.uint8)
    for i, line in enumerate(lines):
        y = margin + line_h * (i + 1) - margin // 2
        cv2.putText(canvas, line, (margin, y), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
