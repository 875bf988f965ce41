"""ONNX export: numerical parity with PyTorch, metadata inside, atomic writes."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from edgedet.checkpoint import load_checkpoint
from edgedet.converters import convert
from edgedet.errors import InvalidInputError
from edgedet.metadata import METADATA_KEY, ModelMetadata


def test_onnx_matches_pytorch_within_1e4(small_checkpoint, small_onnx):
    model, meta = load_checkpoint(small_checkpoint)
    # Non-trivial BN statistics so folding is exercised, not just identity BNs.
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    from edgedet.converters.onnx import export_onnx

    path = small_onnx.with_name("bn_stats.onnx")
    export_onnx(model, meta, path)
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 256, 256)).astype(np.float32)
    with torch.no_grad():
        ref = [t.numpy() for t in model(torch.from_numpy(x))]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"images": x})
    for r, g in zip(ref, got):
        assert g.shape == r.shape
        assert np.abs(g - r).max() < 1e-4


def test_onnx_graph_is_static_opset17_with_metadata(small_onnx):
    graph = onnx.load(str(small_onnx))
    assert graph.opset_import[0].version == 17
    dims = [d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 256, 256]
    props = {p.key: p.value for p in graph.metadata_props}
    meta = ModelMetadata.from_json(props[METADATA_KEY])
    assert meta.model == "d0" and meta.input_size == 256
    assert meta.class_names == ["circle", "square", "triangle"]


def test_existing_output_not_overwritten_without_force(small_checkpoint, small_onnx, tmp_path):
    out = tmp_path / "m.onnx"
    out.write_bytes(b"keep me")
    with pytest.raises(InvalidInputError, match="--force"):
        convert(small_checkpoint, "onnx", out, overwrite=False)
    assert out.read_bytes() == b"keep me"


def test_failed_conversion_leaves_no_file(small_checkpoint, tmp_path, monkeypatch):
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(onnx, "save", broken_save)
    out = tmp_path / "sub" / "m.onnx"
    with pytest.raises(OSError, match="disk full"):
        convert(small_checkpoint, "onnx", out)
    leftovers = list(out.parent.iterdir()) if out.parent.exists() else []
    assert leftovers == []


def test_unknown_target_lists_valid_ones(small_checkpoint, tmp_path):
    with pytest.raises(InvalidInputError, match="onnx"):
        convert(small_checkpoint, "caffe", tmp_path / "x")
