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
])
def test_bad_detector_options(small_onnx, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Detector(small_onnx, **kwargs)
