"""Parity statistics gathered image by image equal the all-at-once formulas; lazy samples."""
from __future__ import annotations

import numpy as np
import pytest

from edgedet.converters.calibration import LazySamples, nchw_float, to_nchw_float
from edgedet.converters.parity import ParityAccumulator, compare, sqnr_db
from edgedet.metadata import make_metadata

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def _outputs(rng, n, classes, scale=1.0):
    return [(rng.normal(-3, 2, (n, classes)).astype(np.float32) * scale,
             rng.normal(0, 1, (n, 4)).astype(np.float32)) for _ in range(3)]


def test_streaming_statistics_equal_stacked_ones():
    meta = make_metadata("d0", ["a", "b"], 128)
    n = meta.anchors.num_anchors
    rng = np.random.default_rng(0)
    ref = _outputs(rng, n, 2)
    new = [(c + rng.normal(0, 0.05, c.shape).astype(np.float32), b + 0.01) for c, b in ref]
    report = compare(ref, new, meta, file="x", target="onnx", precision="int8", runtime="r",
                     image_source="calibration")
    stacked = [np.stack([o[i] for o in ref]) for i in (0, 1)], [np.stack([o[i] for o in new]) for i in (0, 1)]
    assert report.images == 3
    assert abs(report.cls_sqnr_db - sqnr_db(stacked[0][0], stacked[1][0])) < 1e-9
    assert abs(report.box_sqnr_db - sqnr_db(stacked[0][1], stacked[1][1])) < 1e-9
    assert report.cls_max_abs_diff == float(np.max(np.abs(stacked[0][0] - stacked[1][0])))
    assert report.reference_detections > 0 and report.matched_detections > 0


def test_identical_outputs_are_infinite_sqnr():
    meta = make_metadata("d0", ["a"], 128)
    acc = ParityAccumulator(meta)
    out = _outputs(np.random.default_rng(1), meta.anchors.num_anchors, 1)[0]
    acc.add(out, out)
    assert acc.sqnr_db(0) == float("inf") and acc.max_abs == [0.0, 0.0]


def test_lazy_samples_make_each_item_on_demand():
    images = [np.full((4, 4, 3), i, np.uint8) for i in range(5)]
    made = []

    def transform(im):
        made.append(1)
        return nchw_float(im)

    lazy = LazySamples(images, transform)
    assert len(lazy) == 5 and not made
    assert all(np.array_equal(a, b) for a, b in zip(lazy, to_nchw_float(images)))
    assert len(made) == 5  # one per image, none kept
    assert len(lazy[1:3]) == 2 and float(lazy[4][0, 0, 0, 0]) == 4.0
