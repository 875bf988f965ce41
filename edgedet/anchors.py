"""Anchor grid and box coding in numpy: the reference every other part of edgedet uses.

Anchor order matches the head outputs: level (P3..P7), then row, then column, then the
9 anchors of a location (scale-major, then aspect ratio). Boxes are (x1, y1, x2, y2) in
pixels of the letterboxed network input, which may be square or WxH. Regression targets use the official EfficientDet
convention (ty, tx, th, tw) with no scale factors.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Union

import numpy as np

from edgedet import configs
from edgedet.input_size import InputSize, input_size


@dataclass(frozen=True)
class AnchorSpec:
    """Parameters that fully determine the anchor grid of an input (square or WxH).

    ``image_size`` may be given as an int (square) or anything :func:`input_size` parses;
    it is held as an :class:`InputSize`.
    """

    image_size: Union[InputSize, int]
    min_level: int = configs.MIN_LEVEL
    max_level: int = configs.MAX_LEVEL
    num_scales: int = configs.NUM_SCALES
    aspect_ratios: tuple[float, ...] = field(default=configs.ASPECT_RATIOS)
    anchor_scale: float = configs.ANCHOR_SCALE
    # effdet's convention: explicit (width, height) multipliers per aspect, in this order,
    # e.g. ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4)). None: (sqrt(r), 1/sqrt(r)) per aspect_ratios.
    aspect_multipliers: Optional[tuple[tuple[float, float], ...]] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_size", input_size(self.image_size))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_size"] = self.image_size.to_json()
        d["aspect_ratios"] = list(self.aspect_ratios)
        if self.aspect_multipliers is None:
            del d["aspect_multipliers"]  # files of default models stay as they were
        else:
            d["aspect_multipliers"] = [list(m) for m in self.aspect_multipliers]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AnchorSpec":
        d = dict(d)
        d["aspect_ratios"] = tuple(float(a) for a in d["aspect_ratios"])
        if d.get("aspect_multipliers") is not None:
            d["aspect_multipliers"] = tuple((float(w), float(h)) for w, h in d["aspect_multipliers"])
        return cls(**d)

    def aspect_shapes(self) -> list[tuple[float, float]]:
        """(width, height) multiplier of each aspect of a location, in head-output order."""
        if self.aspect_multipliers is not None:
            return list(self.aspect_multipliers)
        return [(float(np.sqrt(r)), float(1.0 / np.sqrt(r))) for r in self.aspect_ratios]

    @property
    def anchors_per_location(self) -> int:
        return self.num_scales * len(self.aspect_shapes())

    def feature_sizes(self) -> list[tuple[int, int]]:
        """(rows, columns) of each level's feature map, P3 first: ceil(side / 2^level)."""
        w, h = self.image_size.width, self.image_size.height
        return [(-(-h // 2**level), -(-w // 2**level))
                for level in range(self.min_level, self.max_level + 1)]

    @property
    def num_anchors(self) -> int:
        return sum(r * c for r, c in self.feature_sizes()) * self.anchors_per_location


def generate_anchors(spec: AnchorSpec) -> np.ndarray:
    """Return all anchors as an ``[N, 4]`` float32 array of (x1, y1, x2, y2)."""
    # One (half-width, half-height) per anchor shape of a location, scale-major.
    shapes = []
    for octave in range(spec.num_scales):
        scale = 2.0 ** (octave / spec.num_scales)
        for wr, hr in spec.aspect_shapes():
            shapes.append((wr, hr, scale))
    per_level = []
    for rows, cols in spec.feature_sizes():
        # The level's grid spans the whole input (google/automl), each axis on its own: stride
        # 2^level when the side divides evenly, e.g. 320 / 3 = 106.7 px for P7 at 320 (3 cells)
        # but 192 / 2 = 96 px down a 320x192 input. An anchor's width follows the x stride and
        # its height the y stride, as automl's anchors do.
        stride_x = spec.image_size.width / cols
        stride_y = spec.image_size.height / rows
        cy, cx = np.meshgrid((np.arange(rows, dtype=np.float64) + 0.5) * stride_y,
                             (np.arange(cols, dtype=np.float64) + 0.5) * stride_x, indexing="ij")
        half = np.array(
            [(spec.anchor_scale * stride_x * s * wr / 2, spec.anchor_scale * stride_y * s * hr / 2)
             for wr, hr, s in shapes], dtype=np.float64
        )  # [A, 2]
        cx = cx.reshape(-1, 1)
        cy = cy.reshape(-1, 1)
        boxes = np.stack(
            [cx - half[:, 0], cy - half[:, 1], cx + half[:, 0], cy + half[:, 1]], axis=-1
        )  # [H*W, A, 4]
        per_level.append(boxes.reshape(-1, 4))
    return np.concatenate(per_level).astype(np.float32)


def _centers_and_sizes(boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * w, boxes[..., 1] + 0.5 * h, w, h


def encode_boxes(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Encode (x1, y1, x2, y2) boxes against same-shaped anchors as (ty, tx, th, tw)."""
    xa, ya, wa, ha = _centers_and_sizes(anchors.astype(np.float64))
    x, y, w, h = _centers_and_sizes(boxes.astype(np.float64))
    w = np.maximum(w, 1e-6)
    h = np.maximum(h, 1e-6)
    codes = np.stack([(y - ya) / ha, (x - xa) / wa, np.log(h / ha), np.log(w / wa)], axis=-1)
    return codes.astype(np.float32)


# exp() of a larger code would overflow float32 and no real box is that much larger than its
# anchor; the cap keeps decoding of untrained or quantized outputs finite.
MAX_LOG_SCALE = float(np.log(1000.0 / 16))


def decode_boxes(codes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Invert :func:`encode_boxes`: (ty, tx, th, tw) codes + anchors -> (x1, y1, x2, y2)."""
    codes = codes.astype(np.float32, copy=False)
    anchors = anchors.astype(np.float32, copy=False)
    xa, ya, wa, ha = _centers_and_sizes(anchors)
    y = codes[..., 0] * ha + ya
    x = codes[..., 1] * wa + xa
    h = np.exp(np.minimum(codes[..., 2], MAX_LOG_SCALE)) * ha
    w = np.exp(np.minimum(codes[..., 3], MAX_LOG_SCALE)) * wa
    return np.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=-1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``[N, 4]`` and ``[M, 4]`` (x1, y1, x2, y2) boxes -> ``[N, M]``."""
    a = a.astype(np.float32, copy=False)
    b = b.astype(np.float32, copy=False)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / np.maximum(union, 1e-9)
