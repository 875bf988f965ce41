"""timm EfficientNet-B0..B2 classifier -> the backbone of a fresh D0..D2.

No timm file is stored here: effdet keeps timm's trunk layout under ``backbone.``, so the effdet
fixtures' backbone part, plus a classifier head, is a timm classifier state dict.
"""
from __future__ import annotations

import pytest
import torch

from edgedet.checkpoint import load_checkpoint
from edgedet.cli import main
from edgedet.errors import ModelLoadError
from edgedet.pretrained.importer import effdet_model, read_state_dict, timm_backbone_model
from effdet_fixtures import manifest_state_dict, require_effdet_dir


def _as_timm_classifier(effdet_state: dict) -> dict:
    trunk = {k[len("backbone."):]: v for k, v in effdet_state.items() if k.startswith("backbone.")}
    width = [v for k, v in trunk.items() if k.endswith("conv_pwl.weight")][-1].shape[0]  # last block
    trunk.update({"conv_head.weight": torch.randn(1280, width, 1, 1), "bn2.weight": torch.ones(1280),
                  "bn2.bias": torch.zeros(1280), "bn2.running_mean": torch.zeros(1280),
                  "bn2.running_var": torch.ones(1280), "bn2.num_batches_tracked": torch.tensor(0),
                  "classifier.weight": torch.randn(1000, 1280), "classifier.bias": torch.zeros(1000)})
    return trunk


def test_timm_b0_fills_the_backbone_exactly(tmp_path, capsys):
    effdet_state = read_state_dict(require_effdet_dir() / "efficientdet_d0.state_dict.pt")
    reference, _, _ = effdet_model(effdet_state)
    src = tmp_path / "efficientnet_b0.pth"
    torch.save(_as_timm_classifier(effdet_state), src)
    out = tmp_path / "d0_from_timm.pt"
    assert main(["import", str(src), "--out", str(out), "--names", "cat,dog"]) == 0
    assert "EfficientNet-B0, the D0 backbone" in capsys.readouterr().out
    model, meta = load_checkpoint(out)
    assert meta.model == "d0" and meta.class_names == ["cat", "dog"]
    assert meta.variant.padding == "symmetric" and meta.variant.backbone_bn_eps == 1e-5
    ours, theirs = model.state_dict(), reference.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours if k.startswith("backbone."))
    assert not torch.equal(ours["fpn.layers.0.td6.conv.pointwise.weight"],
                           theirs["fpn.layers.0.td6.conv.pointwise.weight"])  # fresh BiFPN
    x = torch.rand(1, 3, 128, 128) * 255
    with torch.no_grad():
        for a, b in zip(model.backbone(x), reference.backbone(x)):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("manifest, model_name", [("tf_efficientdet_d1", "d1"), ("tf_efficientdet_d2", "d2")])
def test_timm_b1_b2_layouts_map(manifest, model_name):
    state, _ = manifest_state_dict(manifest)
    model, info, variant = timm_backbone_model(_as_timm_classifier(state), 4, variant="tf")
    assert info.model == model_name and variant.padding == "tf_same"


def test_timm_missing_block_is_named():
    state, _ = manifest_state_dict("efficientdet_d0")
    timm = _as_timm_classifier(state)
    del timm["blocks.5.3.conv_dw.weight"]
    with pytest.raises(ModelLoadError, match=r"1 missing: backbone\.stages\.5\.3\.depthwise\.0\.weight"):
        timm_backbone_model(timm, 2)
