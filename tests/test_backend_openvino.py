"""OpenVINO backend: thread/precision options, metadata, broken IRs."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from convert_fixtures import shared_cache
from edgedet import Detector
from edgedet.errors import InvalidInputError, ModelLoadError

pytest.importorskip("openvino")


@pytest.fixture(scope="module")
def ir(tmp_path_factory, small_checkpoint):
    return shared_cache(tmp_path_factory, small_checkpoint).get("openvino", "fp32")


def test_info_reports_threads_and_chosen_precision(ir):
    forced = Detector(ir, inference_precision="f32")
    assert forced.info["backend"] == "openvino"
    assert forced.info["threads"] == 1
    assert forced.info["inference_precision"] == "f32"
    default = Detector(ir)
    # the CPU's own default: bf16 where the CPU supports it, f32 elsewhere
    assert default.info["inference_precision"] in ("bf16", "f32", "f16")
    assert forced.backend.compiled.get_property("INFERENCE_NUM_THREADS") == 1
    assert str(forced.backend.compiled.get_property("PERFORMANCE_HINT")).endswith("LATENCY")


def test_num_threads_is_passed_through(ir):
    det = Detector(ir, num_threads=2, inference_precision="f32")
    assert det.backend.compiled.get_property("INFERENCE_NUM_THREADS") == 2


def test_unknown_inference_precision_is_rejected(ir):
    with pytest.raises(InvalidInputError, match="inference_precision must be one of"):
        Detector(ir, inference_precision="int4")


def test_default_and_forced_precision_agree_on_outputs(ir):
    frame = np.random.default_rng(1).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    a = Detector(ir, inference_precision="f32")
    b = Detector(ir)
    tensor, _ = a.preprocess(frame)
    cls_a, box_a = a.backend.infer(tensor.copy())
    cls_b, box_b = b.backend.infer(tensor.copy())
    assert np.abs(cls_a - cls_b).max() < 0.1 and np.abs(box_a - box_b).max() < 0.1


def test_missing_bin_is_a_clear_error(ir, tmp_path):
    lonely = tmp_path / "model.xml"
    shutil.copy(ir, lonely)
    with pytest.raises(ModelLoadError, match="weights file .*model.bin is missing"):
        Detector(lonely)


def test_truncated_xml_is_a_clear_error(ir, tmp_path):
    xml = tmp_path / "model.xml"
    xml.write_bytes(ir.read_bytes()[:2000])
    shutil.copy(ir.with_suffix(".bin"), tmp_path / "model.bin")
    with pytest.raises(ModelLoadError, match="not a valid OpenVINO IR"):
        Detector(xml)


def test_ir_without_edgedet_metadata(ir, tmp_path):
    import openvino as ov

    model = ov.Core().read_model(str(ir))
    plain = ov.Model(model.outputs, model.get_parameters(), "plain")
    ov.save_model(plain, str(tmp_path / "plain.xml"), compress_to_fp16=False)
    with pytest.raises(ModelLoadError, match="without edgedet metadata.*edgedet convert"):
        Detector(tmp_path / "plain.xml")
