"""Every bad input named in the foundation issue gets a clear, specific error."""
import numpy as np
import onnx
import pytest

from edgedet import Detector
from edgedet.errors import InvalidInputError, ModelLoadError
from edgedet.metadata import ModelMetadata


@pytest.fixture(scope="module")
def detector(small_onnx):
    return Detector(small_onnx)


@pytest.mark.parametrize(
    "frame, message",
    [
        (np.zeros((64, 64), np.uint8), "HxWx3"),
        (np.zeros((64, 64, 4), np.uint8), r"HxWx3, got \(64, 64, 4\)"),
        (np.zeros((64, 64, 3), np.float32), "uint8.*float32"),
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((0, 64, 3), np.uint8), "empty"),
        ([[1, 2, 3]], "numpy array"),
        (None, "numpy array"),
    ],
)
def test_bad_frames(detector, frame, message):
    with pytest.raises(InvalidInputError, match=message):
        detector.detect(frame)


def test_missing_model_path(tmp_path):
    with pytest.raises(InvalidInputError, match="not found.*nope.onnx"):
        Detector(tmp_path / "nope.onnx")


def test_directory_instead_of_model(tmp_path):
    with pytest.raises(InvalidInputError, match="directory"):
        Detector(tmp_path)


def test_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("hello, I am a text file")
    with pytest.raises(ModelLoadError, match="not a model file.*suffix says onnx"):
        Detector(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    with pytest.raises(ModelLoadError, match="empty"):
        Detector(path)


def test_truncated_onnx(small_onnx, tmp_path):
    path = tmp_path / "cut.onnx"
    path.write_bytes(small_onnx.read_bytes()[: small_onnx.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match="not a valid ONNX model"):
        Detector(path)


def test_truncated_checkpoint(small_checkpoint, tmp_path):
    path = tmp_path / "cut.pt"
    path.write_bytes(small_checkpoint.read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="truncated"):
        Detector(path)


def test_onnx_without_edgedet_metadata_says_how_to_make_one(small_onnx, tmp_path):
    graph = onnx.load(str(small_onnx))
    del graph.metadata_props[:]
    path = tmp_path / "foreign.onnx"
    onnx.save(graph, str(path))
    with pytest.raises(ModelLoadError, match="without edgedet metadata.*edgedet convert"):
        Detector(path)


def test_metadata_from_a_newer_format_version():
    with pytest.raises(ModelLoadError, match="newer"):
        ModelMetadata.from_dict({"format_version": 99, "model": "d0"}, "x.onnx")


def test_torch_file_that_is_not_an_edgedet_checkpoint(tmp_path):
    import torch

    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ModelLoadError, match="not an edgedet checkpoint"):
        Detector(path)


@pytest.mark.parametrize("kwargs, message", [
    ({"score_threshold": 1.5}, "score_threshold"),
    ({"iou_threshold": -0.1}, "iou_threshold"),
    ({"max_results": 0}, "max_results"),
    ({"num_threads": 0}, "num_threads"),
    ({"categories": ["dog"]}, "unknown categories.*dog"),
    # Each of these was accepted and misbehaved later (duplicates reported every box twice,
    # 0 and -5 crashed the first detect(), True counted as 1.0).
    ({"categories": ["square", "square"]}, r"categories lists \['square'\] more than once"),
    ({"categories": "square"}, "categories must be a list of class names"),
    ({"categories": []}, "categories is empty"),
    ({"categories": ["square", 3]}, "categories must be class names"),
    ({"pre_nms_top_k": 0}, "pre_nms_top_k must be an integer >= 1, got 0"),
    ({"pre_nms_top_k": -5}, "pre_nms_top_k must be an integer >= 1, got -5"),
    ({"pre_nms_top_k": 10.0}, "pre_nms_top_k must be an integer"),
    ({"score_threshold": True}, "score_threshold must be a number in .*got True"),
    ({"iou_threshold": float("nan")}, "iou_threshold must be a number"),
    ({"max_results": True}, "max_results must be an integer >= 1, got True"),
    ({"num_threads": 2.0}, "num_threads must be an integer"),
    ({"inference_precision": "f32"}, "unknown option.*inference_precision for the onnx backend"),
    ({"backend": "openvino"}, r"is an ONNX model \(.onnx\) file, but backend='openvino' reads OpenVINO IR"),
    ({"backend": "caffe"}, "unknown backend 'caffe'"),
])
def test_bad_detector_options(small_onnx, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Detector(small_onnx, **kwargs)


def test_rgb_must_be_a_bool(detector):
    with pytest.raises(InvalidInputError, match="rgb must be True or False, got 'no'"):
        detector.detect(np.zeros((32, 32, 3), np.uint8), rgb="no")


def test_numpy_numbers_are_accepted(small_onnx):
    det = Detector(small_onnx, score_threshold=np.float32(0.4), max_results=np.int64(5))
    assert det.postprocess.score_threshold == pytest.approx(0.4)
    assert det.postprocess.max_results == 5
