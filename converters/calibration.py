"""Calibration images: a folder of images or a dataset, letterboxed like the runtime does.

Every converter that needs sample inputs (int8 calibration, parity checks) gets them from
:func:`load_calibration_images` as RGB uint8 ``[S, S, 3]`` canvases, produced by the runtime's
own :class:`~edgedet.runtimes.preprocess.Preprocessor`, and turns them into its own layout.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Iterator, Optional

import cv2
import numpy as np

from edgedet.data.types import IMAGE_SUFFIXES
from edgedet.errors import InvalidInputError
from edgedet.fileio import PathLike
from edgedet.input_size import SizeLike
from edgedet.input_size import input_size as parse_input_size
from edgedet.runtimes.preprocess import Preprocessor

DEFAULT_CALIB_SIZE = 200
SYNTHETIC_COUNT = 8


def _folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _dataset_images(path: Path) -> list[Path]:
    try:
        from edgedet.data import load_dataset
    except ImportError as exc:
        raise InvalidInputError(
            f"calibration path {path} holds no images and dataset readers are unavailable ({exc})"
        ) from exc
    try:
        dataset = load_dataset(path)
    except Exception as exc:  # each reader raises its own kinds; keep the reason
        raise InvalidInputError(
            f"calibration path {path}: not an image folder and not a readable dataset ({exc})"
        ) from exc
    return [Path(sample.image_path) for sample in dataset.samples]


def calibration_paths(calib: PathLike) -> list[Path]:
    """Image files named by ``calib``: an image folder, or a dataset any reader knows."""
    path = Path(calib)
    if not path.exists():
        raise InvalidInputError(f"calibration path not found: {path}")
    paths = _folder_images(path) if path.is_dir() else []
    if not paths:
        paths = _dataset_images(path)
    if not paths:
        raise InvalidInputError(
            f"calibration path {path} has no images (looked for {', '.join(IMAGE_SUFFIXES)}, "
            "then for a dataset); point --calib at a folder of representative images"
        )
    return paths


def _spread(paths: list[Path], count: int) -> list[Path]:
    """``count`` paths spread evenly over the list (deterministic, covers the whole set)."""
    if len(paths) <= count:
        return paths
    picks = np.linspace(0, len(paths) - 1, count).round().astype(int)
    return [paths[i] for i in picks]


def load_calibration_images(calib: PathLike, input_size: SizeLike,
                            limit: int = DEFAULT_CALIB_SIZE) -> list[np.ndarray]:
    """Read up to ``limit`` images from ``calib`` and letterbox them to ``input_size``.

    Images are picked evenly over the sorted set. Returns RGB uint8 arrays of shape
    ``[height, width, 3]`` of ``input_size`` (N or WxH). Unreadable files are skipped with a warning (others take
    their place); it is an error if none can be read.
    """
    if not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"calibration size must be an integer >= 1, got {limit!r}")
    paths = calibration_paths(calib)
    prep = Preprocessor(input_size, layout="NHWC", input_dtype=np.uint8)
    picked = _spread(paths, limit)
    chosen = set(picked)
    images, unreadable = [], []
    for path in picked + [p for p in paths if p not in chosen]:  # the rest replace bad files
        if len(images) == limit:
            break
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            unreadable.append(path)
            continue
        tensor, _ = prep(frame)
        images.append(tensor[0].copy())
    if unreadable:
        warnings.warn(f"skipped {len(unreadable)} unreadable calibration image(s), e.g. {unreadable[0]}")
    if not images:
        raise InvalidInputError(
            f"calibration path {calib}: none of its {len(paths)} image file(s) could be read "
            f"(e.g. {paths[0]}); are they valid images?"
        )
    return images


def synthetic_images(input_size: SizeLike, count: int = SYNTHETIC_COUNT,
                     seed: int = 0) -> list[np.ndarray]:
    """Deterministic stand-in images (smooth colour fields with noise) of ``input_size``
    (N or WxH) for parity checks of float conversions when no calibration data was given.
    Not for int8 calibration."""
    rng = np.random.default_rng(seed)
    size = parse_input_size(input_size)
    yy, xx = np.mgrid[0:size.height, 0:size.width].astype(np.float32)
    yy, xx = yy / size.height, xx / size.width
    images = []
    for _ in range(count):
        a, b, c = rng.uniform(0, 255, size=(3, 3))
        field = np.stack([a[i] * xx + b[i] * yy + c[i] * xx * yy for i in range(3)], axis=-1)
        field += rng.normal(0, 20, size=field.shape)
        images.append(np.clip(field, 0, 255).astype(np.uint8))
    return images


def require_calibration(calib: Optional[PathLike], target: str) -> None:
    """Raise a helpful error when int8 is asked for without calibration data."""
    if calib is None:
        raise InvalidInputError(
            f"int8 {target} conversion needs calibration images: add --calib PATH (a folder of "
            "representative images or a dataset; 100-300 images is typical) "
            "and optionally --calib-size N"
        )


def nchw_float(image: np.ndarray) -> np.ndarray:
    """One RGB uint8 ``[S, S, 3]`` canvas -> a float32 ``[1, 3, S, S]`` pixel tensor."""
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)


def to_nchw_float(images: list[np.ndarray]) -> list[np.ndarray]:
    """RGB uint8 ``[S, S, 3]`` canvases -> float32 ``[1, 3, S, S]`` pixel tensors (all at
    once; converters use :class:`LazySamples` so memory does not grow with the image count)."""
    return [nchw_float(im) for im in images]


class LazySamples(Sequence):
    """``transform(image)`` for each calibration image, made when asked for and not kept.

    Quantizers iterate their calibration data (some twice); a float32 tensor per image for
    all of them would hold 3 MB per image at 512 px, four times the uint8 canvases.
    """

    def __init__(self, images: Sequence[np.ndarray], transform: Callable[[np.ndarray], object]):
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return LazySamples(self.images[index], self.transform)
        return self.transform(self.images[index])

    def __iter__(self) -> Iterator:
        for image in self.images:
            yield self.transform(image)
