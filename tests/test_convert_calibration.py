"""Calibration inputs: image folders and datasets, letterboxed like the runtime does."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from convert_fixtures import write_calibration_folder
from edgedet.converters.calibration import calibration_paths, load_calibration_images
from edgedet.runtimes.preprocess import letterbox

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def test_folder_images_are_letterboxed_rgb(tmp_path):
    folder = write_calibration_folder(tmp_path / "imgs", count=3)
    (folder / "notes.txt").write_text("ignored")
    images = load_calibration_images(folder, 128)
    assert len(images) == 3
    first = sorted(folder.glob("img*"))[0]
    expected, _ = letterbox(cv2.imread(str(first))[:, :, ::-1].copy(), 128)
    np.testing.assert_array_equal(images[0], expected)
    assert all(im.shape == (128, 128, 3) and im.dtype == np.uint8 for im in images)


def test_limit_spreads_over_the_whole_set(tmp_path):
    folder = write_calibration_folder(tmp_path / "imgs", count=6)
    picked = load_calibration_images(folder, 64, limit=2)
    every = load_calibration_images(folder, 64)
    assert len(picked) == 2
    np.testing.assert_array_equal(picked[0], every[0])
    np.testing.assert_array_equal(picked[1], every[-1])
    with pytest.raises(Exception, match="calibration size must be an integer >= 1"):
        load_calibration_images(folder, 64, limit=0)


def test_dataset_folder_is_read_through_the_dataset_readers(tmp_path):
    data = pytest.importorskip("edgedet.data.synth")
    root = data.generate_dataset(tmp_path / "ds", 5, format="coco", image_size=(96, 64))
    paths = calibration_paths(root)
    assert paths and all(p.exists() for p in paths)
    images = load_calibration_images(root, 64)
    assert len(images) == len(paths)
