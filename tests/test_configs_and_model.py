"""Scaling table and network: sizes, shapes, parameter counts against the paper."""
import pytest
import torch

from edgedet import configs
from edgedet.anchors import AnchorSpec
from edgedet.errors import InvalidInputError
from edgedet.model import build_model, count_parameters

# EfficientDet paper, Table 2 (millions of parameters, 90 COCO classes).
PAPER_PARAMS = {"d0": 3.9e6, "d1": 6.6e6, "d2": 8.1e6}


def test_scaling_table_matches_paper_table_1():
    expected = {  # name: (input, backbone, bifpn width, bifpn layers, head layers)
        "d0": (512, "efficientnet_b0", 64, 3, 3),
        "d1": (640, "efficientnet_b1", 88, 4, 3),
        "d2": (768, "efficientnet_b2", 112, 5, 3),
        "d3": (896, "efficientnet_b3", 160, 6, 4),
        "d4": (1024, "efficientnet_b4", 224, 7, 4),
        "d5": (1152, "efficientnet_b5", 288, 7, 4),
        "d6": (1280, "efficientnet_b6", 384, 8, 5),
        "d7": (1536, "efficientnet_b6", 384, 8, 5),
    }
    for name, (size, backbone, width, layers, head) in expected.items():
        cfg = configs.get_config(name)
        assert (cfg.input_size, cfg.backbone, cfg.fpn_channels, cfg.fpn_layers, cfg.head_layers) == (
            size, backbone, width, layers, head), name


@pytest.mark.parametrize("name", ["d0", "d1", "d2"])
def test_parameter_count_within_2_percent_of_paper(name):
    params = count_parameters(build_model(name, 90))
    assert abs(params - PAPER_PARAMS[name]) / PAPER_PARAMS[name] < 0.02, params


def test_forward_shapes_match_anchor_count():
    model = build_model("d0", 5).eval()
    with torch.no_grad():
        cls_logits, boxes = model(torch.rand(2, 3, 256, 256) * 255)
    n = AnchorSpec(256).num_anchors
    assert cls_logits.shape == (2, n, 5)
    assert boxes.shape == (2, n, 4)


def test_every_max_pool_call_site_has_its_own_module():
    model = build_model("d0", 3)
    pools = [m for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == len({id(p) for p in pools})
    # 2 for P6/P7 + 4 bottom-up nodes per BiFPN layer
    assert len(pools) == 2 + 4 * configs.get_config("d0").fpn_layers


def test_squeeze_excite_exports_global_average_pool(small_onnx):
    import onnx

    ops = {node.op_type for node in onnx.load(str(small_onnx)).graph.node}
    assert "GlobalAveragePool" in ops
    assert "ReduceMean" not in ops
    assert "BatchNormalization" not in ops  # folded


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_bad_num_classes(bad):
    with pytest.raises(InvalidInputError, match="num_classes"):
        build_model("d0", bad)


def test_unknown_model_name_lists_valid_ones():
    with pytest.raises(InvalidInputError, match="d0, d1, d2"):
        configs.get_config("d9")


@pytest.mark.parametrize("bad", [0, 100, 300, 129])
def test_image_size_must_be_multiple_of_32(bad):
    with pytest.raises(InvalidInputError, match="multiple of 32"):
        configs.check_image_size(bad)


def test_each_lite_row_is_a_model_with_its_weights_package_in_the_extra():
    """A Lite row is the one place a Lite model is added: the scaling table, the training list
    and the pretrained-weights lookup read it; pyproject's extra must list its package."""
    import tomllib
    from pathlib import Path

    from edgedet import configs

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    listed = {spec.split(">")[0].split("=")[0].strip()
              for spec in extras["project"]["optional-dependencies"]["lite-weights"]}
    for row in configs.LITE_ROWS:
        cfg, base = configs.get_config(row.name), configs.get_config(row.base)
        assert cfg.is_lite and cfg.input_size == row.input_size
        assert (cfg.fpn_channels, cfg.fpn_layers, cfg.head_layers) == (
            base.fpn_channels, base.fpn_layers, base.head_layers)
        assert configs.BACKBONE_SCALING[cfg.backbone] == (row.width_mult, row.depth_mult)
        assert row.name in configs.SUPPORTED_FOR_TRAINING
        assert row.weights_module.replace("_", "-") in listed
    assert listed == {row.weights_module.replace("_", "-") for row in configs.LITE_ROWS}
