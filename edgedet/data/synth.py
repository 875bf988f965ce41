"""Synthetic detection data: coloured shapes on textured backgrounds, written as any format."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgedet.data.formats import dataset_format
from edgedet.data.writers import Record
from edgedet.errors import InvalidInputError
from edgedet.fileio import PathLike

CLASS_NAMES = ["ellipse", "rectangle", "triangle", "cross"]
# Objects never touch: a shape drawn over another changes its outline (a triangle over a
# rectangle leaves neither shape), so overlap made labels ambiguous rather than the task harder.
MIN_GAP_PX = 4


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Smooth colour blobs + fine grain + a few lines: enough texture to not be trivial."""
    coarse = rng.integers(0, 256, size=(rng.integers(2, 6), rng.integers(2, 6), 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, rng.uniform(4, 20), size=image.shape)
    image = np.clip(image.astype(np.float32) + grain, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(0, 6)):
        p1 = tuple(int(v) for v in rng.integers(0, [width, height]))
        p2 = tuple(int(v) for v in rng.integers(0, [width, height]))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.line(image, p1, p2, color, int(rng.integers(1, 4)), cv2.LINE_AA)
    return image


def _draw(image: np.ndarray, cls: int, box: np.ndarray, color: tuple, rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    name = CLASS_NAMES[cls]
    if name == "ellipse":
        cv2.ellipse(image, (round(cx), round(cy)), (round(w / 2), round(h / 2)), 0, 0, 360, color, -1, cv2.LINE_AA)
    elif name == "rectangle":
        cv2.rectangle(image, (round(x1), round(y1)), (round(x2), round(y2)), color, -1)
    elif name == "triangle":
        apex_up = rng.random() < 0.5
        pts = [(cx, y1), (x1, y2), (x2, y2)] if apex_up else [(cx, y2), (x1, y1), (x2, y1)]
        cv2.fillPoly(image, [np.round(np.array(pts)).astype(np.int32)], color, cv2.LINE_AA)
    else:  # cross: two bars a third of the box thick
        tw, th = w / 3, h / 3
        cv2.rectangle(image, (round(cx - tw / 2), round(y1)), (round(cx + tw / 2), round(y2)), color, -1)
        cv2.rectangle(image, (round(x1), round(cy - th / 2)), (round(x2), round(cy + th / 2)), color, -1)


def _contrasting_color(rng: np.random.Generator, background: np.ndarray) -> tuple[int, int, int]:
    mean = background.reshape(-1, 3).mean(axis=0)
    for _ in range(20):
        color = rng.integers(0, 256, 3)
        if np.abs(color - mean).sum() > 150:
            break
    return tuple(int(c) for c in color)


def _touches(box: np.ndarray, others: np.ndarray, gap: float) -> bool:
    """Whether ``box`` comes within ``gap`` pixels of any of ``others`` (x1, y1, x2, y2)."""
    apart_x = (box[0] >= others[:, 2] + gap) | (others[:, 0] >= box[2] + gap)
    apart_y = (box[1] >= others[:, 3] + gap) | (others[:, 1] >= box[3] + gap)
    return bool((~(apart_x | apart_y)).any())


def make_image(rng: np.random.Generator, width: int, height: int,
               max_objects: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic BGR image with its boxes (x1, y1, x2, y2) and class ids."""
    image = _background(rng, width, height)
    boxes: list[np.ndarray] = []
    classes: list[int] = []
    short = min(width, height)
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(10):
            size = short * rng.uniform(0.1, 0.5)
            aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0)))
            w, h = min(size * np.sqrt(aspect), width - 2), min(size / np.sqrt(aspect), height - 2)
            x1, y1 = rng.uniform(0, width - w), rng.uniform(0, height - h)
            box = np.array([x1, y1, x1 + w, y1 + h], dtype=np.float32)
            if not boxes or not _touches(box, np.stack(boxes), MIN_GAP_PX):
                break
        else:
            continue
        cls = int(rng.integers(len(CLASS_NAMES)))
        region = image[int(y1):int(y1 + h) + 1, int(x1):int(x1 + w) + 1]
        _draw(image, cls, box, _contrasting_color(rng, region), rng)
        boxes.append(np.round(box))
        classes.append(cls)
    return image, np.array(boxes, dtype=np.float32).reshape(-1, 4), np.array(classes, dtype=np.int64)


def generate_dataset(out_dir: PathLike, num_images: int, format: str = "coco", seed: int = 0,
                     image_size: tuple[int, int] = (320, 256), val_fraction: float = 0.2,
                     overwrite: bool = False) -> Path:
    """Write ``num_images`` synthetic images as train/val splits of a ``format`` dataset.

    Four shape classes (:data:`CLASS_NAMES`) at varied scale, aspect and colour, apart from each other, on
    textured backgrounds. The same ``seed`` gives the same files. The last ``val_fraction``
    of the images form the val split. Returns ``out_dir``; load it with
    ``load_dataset(out_dir, split="val")``.
    """
    out = Path(out_dir)
    writer = dataset_format(format).write
    if not isinstance(num_images, int) or num_images < 2:
        raise InvalidInputError(f"need at least 2 images (one per split), got {num_images!r}")
    if not 0.0 < val_fraction < 1.0:
        raise InvalidInputError(f"val_fraction must be between 0 and 1, got {val_fraction!r}")
    width, height = (int(v) for v in image_size)
    if width < 32 or height < 32:
        raise InvalidInputError(f"image_size must be at least 32x32, got {image_size!r}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InvalidInputError(f"{out} exists and is not empty; choose another folder or pass --force")
    num_val = min(num_images - 1, max(1, round(num_images * val_fraction)))
    records = []
    for i in range(num_images):
        rng = np.random.default_rng([seed, i])
        records.append(Record(f"synth_{i:06d}", *make_image(rng, width, height)))
    writer(out, "train", CLASS_NAMES, records[: num_images - num_val])
    writer(out, "val", CLASS_NAMES, records[num_images - num_val:])
    return out
