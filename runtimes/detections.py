"""The result type of ``Detector.detect``: boxes in the original frame's pixels."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One detected object."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
    score: float
    class_id: int
    label: str


def _color(class_id: int) -> tuple[int, int, int]:
    # Distinct, stable BGR colours: hues spaced by the golden angle.
    hue = (class_id * 137.508) % 360
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(hue / 360, 0.85, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


class Detections:
    """Detections of one frame. Iterable of :class:`Detection`; numpy arrays as attributes."""

    def __init__(self, boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
                 class_names: list[str]):
        self.boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(scores, dtype=np.float32).reshape(-1)
        self.class_ids = np.asarray(class_ids, dtype=np.int64).reshape(-1)
        self.class_names = list(class_names)

    @property
    def labels(self) -> list[str]:
        return [self._name(c) for c in self.class_ids]

    def _name(self, class_id: int) -> str:
        return self.class_names[class_id] if 0 <= class_id < len(self.class_names) else str(class_id)

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def __iter__(self) -> Iterator[Detection]:
        for box, score, cid in zip(self.boxes, self.scores, self.class_ids):
            yield Detection(tuple(float(v) for v in box), float(score), int(cid), self._name(int(cid)))

    def __getitem__(self, index: int) -> Detection:
        return list(self)[index]

    def __repr__(self) -> str:
        return f"Detections({len(self)}: {', '.join(self.labels[:5])}{'...' if len(self) > 5 else ''})"

    def to_list(self) -> list[dict]:
        return [
            {"box": [round(v, 2) for v in d.box], "score": round(d.score, 4),
             "class_id": d.class_id, "label": d.label}
            for d in self
        ]

    def to_json(self) -> str:
        return json.dumps(self.to_list())

    def draw(self, image: np.ndarray, thickness: int = 2, scores: bool = True) -> np.ndarray:
        """Return a copy of ``image`` (BGR uint8) with boxes, labels and (``scores``) scores drawn."""
        import cv2

        canvas = image.copy()
        font = cv2.FONT_HERSHEY_SIMPLEX
        scale = max(0.4, min(canvas.shape[:2]) / 1000)
        for det in self:
            color = _color(det.class_id)
            x1, y1, x2, y2 = (int(round(v)) for v in det.box)
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
            text = f"{det.label} {det.score:.2f}" if scores else det.label
            (tw, th), base = cv2.getTextSize(text, font, scale, 1)
            ty = max(y1, th + base)
            cv2.rectangle(canvas, (x1, ty - th - base), (x1 + tw, ty), color, -1)
            cv2.putText(canvas, text, (x1, ty - base), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
        return canvas
