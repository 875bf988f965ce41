"""effdet checkpoints -> edgedet: exact outputs per variant, complete D1/D2 maps, clear errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from edgedet.anchors import AnchorSpec, generate_anchors
from edgedet.checkpoint import load_checkpoint, read_checkpoint
from edgedet.cli import main
from edgedet.errors import InvalidInputError, ModelLoadError
from edgedet.metadata import ModelMetadata, make_metadata
from edgedet.model.apply_variant import SameConv2d, SameMaxPool2d, same_pads
from edgedet.pretrained.importer import effdet_model, import_weights
from effdet_fixtures import manifest_state_dict, require_effdet_dir

TOLERANCE = 1e-4


def _effdet_outputs(name: str):
    """effdet's own outputs for the fixture input: per level, class [H*W*A, C] and box [.., 4]."""
    io = torch.load(require_effdet_dir() / f"{name}.io.pt", weights_only=True)
    mean = torch.tensor(io["mean"]).view(1, 3, 1, 1) * 255
    std = torch.tensor(io["std"]).view(1, 3, 1, 1) * 255
    pixels = io["input_normalized"] * std + mean  # edgedet normalizes inside the graph
    # effdet level output [1, A*K, H, W], channel = anchor * K + k -> edgedet [H*W*A, K]
    cls = [t.permute(0, 2, 3, 1).reshape(-1, 90) for t in io["class_out"]]
    box = [t.permute(0, 2, 3, 1).reshape(-1, 4) for t in io["box_out"]]
    return pixels, cls, box


def _split_levels(output: torch.Tensor, sizes: list[tuple[int, int]], anchors: int) -> list[torch.Tensor]:
    counts = [rows * cols * anchors for rows, cols in sizes]
    return list(torch.split(output[0], counts))


@pytest.fixture(scope="module", params=["tf_efficientdet_d0", "efficientdet_d0"])
def imported(request, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp("import") / f"{name}.pt"
    assert main(["import", str(require_effdet_dir() / f"{name}.state_dict.pt"), "--out", str(out)]) == 0
    return name, out


def test_imported_model_reproduces_effdet_every_level(imported):
    name, path = imported
    model, meta = load_checkpoint(path)
    pixels, ref_cls, ref_box = _effdet_outputs(name)
    with torch.no_grad():
        cls, box = model(pixels)
    sizes = AnchorSpec(image_size=pixels.shape[-1]).feature_sizes()
    for level, (c, b, rc, rb) in enumerate(zip(_split_levels(cls, sizes, 9), _split_levels(box, sizes, 9),
                                               ref_cls, ref_box)):
        assert (c - rc).abs().max().item() < TOLERANCE, f"{name} P{level + 3} class"
        assert (b - rb).abs().max().item() < TOLERANCE, f"{name} P{level + 3} box"
    # the reference is not trivially small
    assert max(t.abs().max().item() for t in ref_cls) > 1.0


def test_metadata_records_variant_and_coco_layout(imported):
    name, path = imported
    meta = ModelMetadata.from_dict(read_checkpoint(path)["metadata"])
    expected = "tf_same" if name.startswith("tf_") else "symmetric"
    assert meta.variant.padding == expected
    assert meta.variant.backbone_bn_eps == (1e-3 if name.startswith("tf_") else 1e-5)
    assert meta.input_size == 512 and meta.model == "d0"
    assert meta.class_names[0] == "person" and meta.class_names[89] == "toothbrush"
    assert meta.class_names[11].startswith("unused") and len(meta.class_names) == 90
    assert meta.anchors.aspect_shapes() == [(1.0, 1.0), (1.4, 0.7), (0.7, 1.4)]


@pytest.mark.parametrize("name, wrong", [("tf_efficientdet_d0", "pytorch"), ("efficientdet_d0", "tf")])
def test_the_other_variant_does_not_reproduce(name, wrong):
    """The variant matters: forcing the wrong one moves the outputs far beyond the tolerance."""
    from edgedet.pretrained.importer import read_state_dict

    state = read_state_dict(require_effdet_dir() / f"{name}.state_dict.pt")
    model, _, _ = effdet_model(state, name, variant=wrong)
    pixels, ref_cls, ref_box = _effdet_outputs(name)
    with torch.no_grad():
        cls, box = model(pixels)
    # random heads keep logits near the prior bias, so the gap is modest but far from 1e-4
    gap = max((cls[0] - torch.cat(ref_cls)).abs().max().item(), (box[0] - torch.cat(ref_box)).abs().max().item())
    assert gap > 5 * TOLERANCE


@pytest.mark.parametrize("name, model_name", [
    ("tf_efficientdet_d0", "d0"), ("tf_efficientdet_d1", "d1"), ("tf_efficientdet_d2", "d2"),
    ("efficientdet_d0", "d0"), ("efficientdet_d1", "d1"),
])
def test_manifest_maps_completely(name, model_name):
    """Every key of the effdet manifest lands on an edgedet key of equal shape, and every
    edgedet key is filled (the mapping is strict: it raises otherwise)."""
    state, config = manifest_state_dict(name)
    model, info, variant = effdet_model(state, name)
    assert info.model == model_name
    assert variant.padding == ("tf_same" if config["pad_type"] == "same" else "symmetric")
    assert info.num_classes == config["num_classes"]


def test_effdet_anchor_layout():
    """effdet's per-location order: octave scale, then (x, y) aspect multipliers as listed."""
    aspects = ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))
    anchors = generate_anchors(AnchorSpec(image_size=256, aspect_multipliers=aspects))
    rows, start = [], 0
    for level in range(3, 8):
        stride = 2 ** level
        for y in range(256 // stride):
            for x in range(256 // stride):
                for octave in range(3):
                    for ax, ay in aspects:
                        base = 4.0 * stride * 2 ** (octave / 3)
                        cx, cy = (x + 0.5) * stride, (y + 0.5) * stride
                        rows.append((cx - base * ax / 2, cy - base * ay / 2, cx + base * ax / 2, cy + base * ay / 2))
    np.testing.assert_allclose(anchors, np.array(rows, np.float32), atol=1e-3)


def test_default_metadata_is_unchanged():
    """Models trained by edgedet keep today's records: no anchor multipliers key, default variant."""
    meta = make_metadata("d0", ["a"], 256)
    assert "aspect_multipliers" not in meta.to_dict()["anchors"]
    assert meta.variant.is_default
    legacy = meta.to_dict()
    del legacy["variant"]  # a file written before variants existed
    assert ModelMetadata.from_dict(legacy).variant.is_default


@pytest.mark.parametrize("size", [7, 8, 9, 16, 33])
def test_same_padding_modules_match_explicit_padding(size):
    x = torch.randn(1, 4, size, size + 1)
    pool = SameMaxPool2d(3, 2)
    t, b = same_pads(size, 3, 2)
    l, r = same_pads(size + 1, 3, 2)
    assert torch.equal(pool(x - 10), F.max_pool2d(F.pad(x - 10, (l, r, t, b), value=-math.inf), 3, 2))
    conv = SameConv2d(4, 6, 5, 2, bias=False)
    t, b = same_pads(size, 5, 2)
    l, r = same_pads(size + 1, 5, 2)
    expected = F.conv2d(F.pad(x, (l, r, t, b)), conv.weight, None, 2)
    torch.testing.assert_close(conv(x), expected)


# -- bad input ------------------------------------------------------------------------------
def _fixture_state(name="tf_efficientdet_d0"):
    from edgedet.pretrained.importer import read_state_dict

    return read_state_dict(require_effdet_dir() / f"{name}.state_dict.pt")


def _import_error(tmp_path, state, **kwargs) -> str:
    src = tmp_path / "weights.pth"
    torch.save(state, src)
    with pytest.raises((ModelLoadError, InvalidInputError)) as err:
        import_weights(src, tmp_path / "out.pt", **kwargs)
    assert not (tmp_path / "out.pt").exists()
    return str(err.value)


def test_missing_keys_are_named(tmp_path):
    state = _fixture_state()
    del state["backbone.blocks.2.1.conv_dw.weight"], state["box_net.bn_rep.1.3.bn.running_var"]
    msg = _import_error(tmp_path, state)
    assert "2 missing" in msg and "backbone.stages.2.1.depthwise.0.weight" in msg
    assert "box_net.norms.3.1.running_var" in msg and "looks like an effdet EfficientDet" in msg


def test_unexpected_keys_are_named(tmp_path):
    state = _fixture_state()
    state["fpn.cell.0.fnode.9.extra.weight"] = torch.zeros(3)
    state["backbone.blocks.6.1.conv_pw.weight"] = torch.zeros(1920, 320, 1, 1)
    msg = _import_error(tmp_path, state)
    assert "unexpected" in msg and "fpn.cell.0.fnode.9.extra.weight" in msg
    assert "backbone.blocks.6.1.conv_pw.weight" in msg


def test_misshaped_keys_are_named(tmp_path):
    state = _fixture_state("efficientdet_d0")
    state["fpn.cell.0.fnode.3.combine.resample.0.conv.conv.weight"] = torch.zeros(64, 48, 1, 1)
    msg = _import_error(tmp_path, state)
    assert "1 mis-shaped" in msg and "[64, 48, 1, 1]" in msg and "[64, 40, 1, 1]" in msg
    assert "PyTorch-trained" in msg and "D0" in msg


def test_unknown_model_size_says_what_it_looks_like(tmp_path):
    state = {k: v for k, v in _fixture_state().items() if not k.startswith("fpn.cell.2.")}
    msg = _import_error(tmp_path, state)
    assert "2 BiFPN cells" in msg and "matches no D0-D7" in msg


@pytest.mark.parametrize("payload, message", [
    ({"foo.weight": torch.zeros(2)}, "neither an effdet EfficientDet nor a timm EfficientNet"),
    ([torch.zeros(2)], "not a state dict"),
    ({"a": 1}, "not tensors"),
])
def test_files_that_are_not_effdet(tmp_path, payload, message):
    assert message in _import_error(tmp_path, payload)


def test_other_files(tmp_path, small_checkpoint):
    text = tmp_path / "notes.pth"
    text.write_text("hello")
    with pytest.raises(ModelLoadError, match="not a PyTorch weights file"):
        import_weights(text, tmp_path / "o.pt")
    with pytest.raises(InvalidInputError, match="already an edgedet checkpoint"):
        import_weights(small_checkpoint, tmp_path / "o.pt")
    with pytest.raises(InvalidInputError, match="weights file not found"):
        import_weights(tmp_path / "nope.pth", tmp_path / "o.pt")


def test_non_coco_class_count_needs_names(tmp_path):
    state = _fixture_state()
    state["class_net.predict.conv_pw.weight"] = state["class_net.predict.conv_pw.weight"][:27]
    state["class_net.predict.conv_pw.bias"] = state["class_net.predict.conv_pw.bias"][:27]
    assert "give their names" in _import_error(tmp_path, state)
    src = tmp_path / "weights.pth"
    meta, _ = import_weights(src, tmp_path / "three.pt", class_names=["a", "b", "c"])
    assert meta.class_names == ["a", "b", "c"]


def test_cli_refuses_to_overwrite(tmp_path, capsys):
    src = require_effdet_dir() / "efficientdet_d0.state_dict.pt"
    out = tmp_path / "d0.pt"
    out.write_text("keep me")
    assert main(["import", str(src), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "keep me"


@pytest.mark.parametrize("variant, message", [
    ({"padding": "valid"}, "padding must be one of"),
    ({"backbone_bn_eps": -1}, "backbone_bn_eps must be in"),
    ({"padding": "tf_same", "dilation": 2}, "unknown field(s) ['dilation']"),
    ("tf_same", "must be a mapping"),
])
def test_bad_variant_records_are_named(variant, message):
    record = make_metadata("d0", ["a"], 256).to_dict()
    record["variant"] = variant
    with pytest.raises(ModelLoadError) as err:
        ModelMetadata.from_dict(record, source="m.onnx")
    assert message in str(err.value) and "m.onnx" in str(err.value)
