"""Training augmentation: horizontal flip, random scale jitter with crop, then the runtime's
letterbox, so that at scale 1 a training input is exactly what ``Detector`` feeds the model;
optionally colour jitter (and mosaic, in :mod:`edgedet.data.mosaic`)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgedet.metadata import PAD_VALUE
from edgedet.runtimes.preprocess import letterbox

# Boxes narrower than this (network-input pixels) after cropping are dropped.
MIN_KEPT_SIDE = 2.0


@dataclass(frozen=True)
class AugmentConfig:
    """Scale range follows the official EfficientDet recipe (0.1-2.0).

    mosaic_probability: share of inputs made of four images (0: none).
    hsv_gains: the largest relative change of hue, saturation and value (0: no colour jitter).
    """

    scale_min: float = 0.1
    scale_max: float = 2.0
    flip_probability: float = 0.5
    mosaic_probability: float = 0.0
    hsv_gains: tuple[float, float, float] = (0.0, 0.0, 0.0)


def hflip(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image left-right, and its boxes with it."""
    w = image.shape[1]
    flipped = boxes.copy()
    flipped[:, 0], flipped[:, 2] = w - boxes[:, 2], w - boxes[:, 0]
    return image[:, ::-1], flipped


def scale_and_crop(image: np.ndarray, boxes: np.ndarray, size: int | tuple[int, int],
                   scale: float, rng: np.random.Generator,
                   pad_value: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Place ``image`` at ``scale`` x its letterbox size, cropping a random window when it
    then exceeds the input (``size``: a square side or (width, height)). Returns the input,
    the moved boxes (unclipped, in input pixels) and the (width, height) of the image area
    in the input."""
    width, height = (size, size) if isinstance(size, int) else size
    h, w = image.shape[:2]
    if scale <= 1.0:
        # Shrink with the letterbox itself, then paste top-left onto a padded canvas.
        inner_w, inner_h = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
        small, info = letterbox(image, (inner_w, inner_h), pad_value)
        canvas = np.full((height, width, image.shape[2]), pad_value, dtype=image.dtype)
        canvas[:inner_h, :inner_w] = small
        factors = np.array([info.scale_x, info.scale_y] * 2, dtype=np.float32)
        return canvas, boxes * factors, _visible(info)
    # Zoom in: cut the window that fills the input at scale x the letterbox's factor, then
    # letterbox it. The image's limiting side spans its input side; integer products keep a
    # square input's window exactly longest / scale.
    if w * height >= h * width:
        window_w, window_h = w / scale, (w * height / width) / scale
    else:
        window_w, window_h = (h * width / height) / scale, h / scale
    cw, ch = min(w, window_w), min(h, window_h)
    x0 = int(rng.uniform(0, w - cw + 1e-6))
    y0 = int(rng.uniform(0, h - ch + 1e-6))
    crop = image[y0:y0 + int(round(ch)), x0:x0 + int(round(cw))]
    out, info = letterbox(crop, (width, height), pad_value)
    shifted = boxes - np.array([x0, y0, x0, y0], dtype=np.float32)
    factors = np.array([info.scale_x, info.scale_y] * 2, dtype=np.float32)
    return out, shifted * factors, _visible(info)


def _visible(info) -> tuple[float, float]:
    return info.width * info.scale_x, info.height * info.scale_y


def clip_and_filter(boxes: np.ndarray, class_ids: np.ndarray, limit_x: float,
                    limit_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Clip boxes to the visible image area and drop those that became slivers."""
    boxes = boxes.copy()
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, limit_x)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, limit_y)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= MIN_KEPT_SIDE) & ((boxes[:, 3] - boxes[:, 1]) >= MIN_KEPT_SIDE)
    return boxes[keep], class_ids[keep]


def augment(image: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray,
            size: int | tuple[int, int],
            config: AugmentConfig, rng: np.random.Generator,
            pad_value: int = PAD_VALUE,
            scale_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flip, colour-jitter, scale-jitter + crop and letterbox one image; returns (input,
    boxes, class ids). The padding stays ``pad_value``, as the runtime's letterbox has it.
    ``scale_factor`` multiplies the drawn scale (a mosaic tile uses it to keep objects at
    the size they have in a whole input)."""
    boxes = boxes.astype(np.float32).reshape(-1, 4)
    if rng.random() < config.flip_probability:
        image, boxes = hflip(image, boxes)
    image = jitter_colour(image, config.hsv_gains, rng)
    scale = float(rng.uniform(config.scale_min, config.scale_max)) * scale_factor
    out, moved, (limit_x, limit_y) = scale_and_crop(image, boxes, size, scale, rng, pad_value)
    boxes, class_ids = clip_and_filter(moved, class_ids, limit_x, limit_y)
    return out, boxes, class_ids


def jitter_colour(image: np.ndarray, gains: tuple[float, float, float],
                  rng: np.random.Generator) -> np.ndarray:
    """Scale hue, saturation and value of an RGB uint8 image by random factors in
    ``1 +- gain`` (hue wraps around). Boxes are unaffected."""
    if not any(gains):
        return image
    factors = 1.0 + rng.uniform(-1.0, 1.0, 3) * np.asarray(gains)
    hue, sat, val = cv2.split(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2HSV))
    ramp = np.arange(256, dtype=np.float64)
    # Lookup tables: one pass per channel instead of float maths on every pixel.
    hue_lut = ((ramp * factors[0]) % 180).astype(np.uint8)  # OpenCV's 8-bit hue is 0..179
    sat_lut = np.clip(ramp * factors[1], 0, 255).astype(np.uint8)
    val_lut = np.clip(ramp * factors[2], 0, 255).astype(np.uint8)
    hsv = cv2.merge((cv2.LUT(hue, hue_lut), cv2.LUT(sat, sat_lut), cv2.LUT(val, val_lut)))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
