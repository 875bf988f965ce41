"""Shared helpers for the conversion tests: calibration images and converted-file caching.

Conversions take 10-60 s each, so every (target, precision) file is made once per session
by :func:`converted` and shared by all tests that need it.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgedet.runtimes.formats import CONVERSIONS, SUFFIXES

CALIB_COUNT = 6
ALL_FORMATS = list(CONVERSIONS)


def write_calibration_folder(folder: Path, count: int = CALIB_COUNT) -> Path:
    """Images of coloured shapes on gradients, of assorted sizes, as PNG and JPEG files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(count):
        h, w = 160 + 24 * i, 300 - 20 * i
        yy, xx = np.mgrid[0:h, 0:w]
        base = rng.uniform(0, 255, 3)
        # Video-range pixels (16-235): converters must not take the input range from the
        # calibration images (the TFLite input must still map 0-255 exactly).
        image = np.clip(base + 0.5 * xx[..., None] - 0.3 * yy[..., None], 16, 235).astype(np.uint8)
        for _ in range(4):
            colour = tuple(int(c) for c in rng.integers(16, 236, 3))
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(image, centre, int(rng.integers(8, 60)), colour, -1)
        cv2.imwrite(str(folder / f"img{i}.{'png' if i % 2 else 'jpg'}"), image)
    return folder


class ConvertedCache:
    """Converts a checkpoint to each (target, precision) at most once; keeps the reports."""

    def __init__(self, checkpoint: Path, calib: Path, out_dir: Path):
        self.checkpoint, self.calib, self.out_dir = checkpoint, calib, out_dir
        self.files: dict[tuple[str, str], Path] = {}
        self.reports: dict = {}

    def get(self, target: str, precision: str) -> Path:
        key = (target, precision)
        if key not in self.files:
            from edgedet.converters import convert_with_report

            out = self.out_dir / f"{target}_{precision}{SUFFIXES[target]}"
            path, report = convert_with_report(self.checkpoint, target, out, precision=precision,
                                               calib=self.calib, calib_size=CALIB_COUNT)
            self.files[key], self.reports[key] = path, report
        return self.files[key]


_shared: dict[Path, ConvertedCache] = {}


def shared_cache(tmp_path_factory, checkpoint: Path) -> ConvertedCache:
    """One cache per checkpoint for the whole session, whichever test module asks first."""
    if checkpoint not in _shared:
        calib = write_calibration_folder(tmp_path_factory.mktemp("calib"))
        _shared[checkpoint] = ConvertedCache(checkpoint, calib, tmp_path_factory.mktemp("converted"))
    return _shared[checkpoint]


def reference_on_calibration(cache: ConvertedCache) -> tuple[list, list]:
    """The cache's calibration images and the PyTorch model's outputs on them."""
    from edgedet.checkpoint import load_checkpoint
    from edgedet.converters.calibration import load_calibration_images
    from edgedet.converters.parity import reference_outputs

    model, meta = load_checkpoint(cache.checkpoint)
    images = load_calibration_images(cache.calib, meta.input_size)
    return images, reference_outputs(model, images)


def run_backend(path: Path, images: list, **options) -> list:
    """Float (class logits, boxes) of a converted file on each RGB canvas, one thread."""
    from edgedet.runtimes.backends import open_backend
    from edgedet.runtimes.preprocess import Preprocessor

    backend = open_backend(path, num_threads=1, **options)
    meta = backend.metadata
    prep = Preprocessor(meta.input_size, meta.layout, input_dtype=backend.input_dtype,
                        quantization=meta.input_quantization)
    # copies: OpenVINO's outputs are views that the next infer overwrites
    return [tuple(np.array(a) for a in backend.infer_float(prep(image, rgb=True)[0]))
            for image in images]
