"""The imported TF-padding D0 (512 px) converts to every format: fp32 equals PyTorch, int8 runs.

Slow (a D0 at 512 per format, 30-130 s each on a shared 2-core CPU), so it converts each file
once, compares on one image and calibrates int8 on two.
"""
from __future__ import annotations

import numpy as np
import pytest

from convert_fixtures import run_backend, write_calibration_folder
from edgedet.checkpoint import load_checkpoint
from edgedet.converters import convert
from edgedet.converters.calibration import load_calibration_images
from edgedet.converters.parity import reference_outputs, sqnr_db
from edgedet.runtimes.backends import open_backend
from edgedet.runtimes.formats import SUFFIXES
from effdet_fixtures import require_effdet_dir

FP32_TOLERANCE = 1e-3
INT8_MIN_SQNR_DB = 20.0
CALIB = 2


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from edgedet.pretrained.importer import import_weights

    folder = tmp_path_factory.mktemp("imported")
    path = folder / "tf_d0.pt"
    import_weights(require_effdet_dir() / "tf_efficientdet_d0.state_dict.pt", path)
    calib = write_calibration_folder(folder / "calib", CALIB)
    model, meta = load_checkpoint(path)
    assert meta.input_size == 512 and meta.variant.padding == "tf_same"
    images = load_calibration_images(calib, meta.input_size)
    return path, calib, images, reference_outputs(model, images)


def _outputs(path, images, **options):
    # the variant record travels with the file
    assert open_backend(path, **options).metadata.variant.padding == "tf_same"
    return run_backend(path, images, **options)


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_fp32_equals_pytorch(imported, tmp_path, target):
    path, _, images, ref = imported
    out = convert(path, target, tmp_path / f"m{SUFFIXES[target]}", report=False)
    options = {"inference_precision": "f32"} if target == "openvino" else {}
    got = _outputs(out, images[:1], **options)
    (ref_cls, ref_box), (cls_logits, boxes) = ref[0], got[0]
    assert np.abs(cls_logits - ref_cls).max() < FP32_TOLERANCE
    assert np.abs(boxes - ref_box).max() < FP32_TOLERANCE


@pytest.mark.parametrize("target", ["onnx", "openvino", "tflite"])
def test_int8_converts_and_tracks_pytorch(imported, tmp_path, target):
    path, calib, images, ref = imported
    out = convert(path, target, tmp_path / f"m{SUFFIXES[target]}", precision="int8", calib=calib,
                  calib_size=CALIB, report=False)
    got = _outputs(out, images)
    for i in (0, 1):
        value = sqnr_db(np.stack([r[i] for r in ref]), np.stack([g[i] for g in got]))
        assert value >= INT8_MIN_SQNR_DB, f"{target} int8 output {i}: {value:.1f} dB"
