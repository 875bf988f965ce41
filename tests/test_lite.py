"""EfficientDet-Lite0-2: scaling rows, sizes that are not multiples of 128, the network, metadata."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edgedet import configs
from edgedet.anchors import AnchorSpec, generate_anchors
from edgedet.metadata import make_metadata
from edgedet.model import build_model, count_parameters
from edgedet.model.layers import SqueezeExcite

# google/automl efficientdet/README.md, EfficientDet-Lite table (millions, 90 COCO classes).
AUTOML_PARAMS = {"lite0": 3.2e6, "lite1": 4.2e6, "lite2": 5.3e6}


def test_lite_rows_follow_automl_hparams():
    expected = {  # name: (input, backbone, bifpn width, bifpn layers, head layers)
        "lite0": (320, "efficientnet_lite0", 64, 3, 3),
        "lite1": (384, "efficientnet_lite1", 88, 4, 3),
        "lite2": (448, "efficientnet_lite2", 112, 5, 3),
    }
    for name, (size, backbone, width, layers, head) in expected.items():
        cfg = configs.get_config(name.upper())
        assert (cfg.input_size, cfg.backbone, cfg.fpn_channels, cfg.fpn_layers, cfg.head_layers) == (
            size, backbone, width, layers, head), name
        assert (cfg.activation, cfg.fpn_fusion, cfg.anchor_scale) == ("relu6", "sum", 3.0)
        assert cfg.is_lite and cfg.name in configs.SUPPORTED_FOR_TRAINING
    d0 = configs.get_config("d0")
    assert (d0.activation, d0.fpn_fusion, d0.anchor_scale, d0.is_lite) == (
        "silu", "fast_normalized", 4.0, False)


@pytest.mark.parametrize("name", ["lite0", "lite1", "lite2"])
def test_parameter_count_within_3_percent_of_automl(name):
    params = count_parameters(build_model(name, 90))
    assert abs(params - AUTOML_PARAMS[name]) / AUTOML_PARAMS[name] < 0.03, params


def test_lite_network_has_no_swish_squeeze_excitation_or_fusion_weights():
    model = build_model("lite0", 3)
    kinds = {type(m) for m in model.modules()}
    assert torch.nn.SiLU not in kinds and SqueezeExcite not in kinds
    assert not [n for n, _ in model.named_parameters() if n.endswith(".weights")]
    # the backbone's first/last stage repeats are not depth-scaled (Lite2: depth 1.2)
    lite2 = build_model("lite2", 3).backbone
    assert [len(s) for s in lite2.stages] == [1, 3, 3, 4, 4, 5, 1]
    assert lite2.feature_channels == [48, 120, 352]


@pytest.mark.parametrize("size", [160, 320])
def test_forward_at_sizes_not_multiple_of_128(size):
    # 160: P5 = 5, P6 = 3, P7 = 2 (odd levels upsample to one row too many, then crop)
    model = build_model("lite0", 4).eval()
    spec = AnchorSpec(size, anchor_scale=3.0)
    with torch.no_grad():
        cls_logits, boxes = model(torch.rand(1, 3, size, size) * 255)
    assert cls_logits.shape == (1, spec.num_anchors, 4) and boxes.shape == (1, spec.num_anchors, 4)
    assert spec.feature_sizes() == [(-(-size // 2**level),) * 2 for level in range(3, 8)]


def test_d0_bifpn_is_unchanged_and_odd_sizes_only_affect_lite():
    model = build_model("d0", 3).eval()
    assert sum(n.endswith(".weights") for n, _ in model.named_parameters()) == 8 * 3
    with pytest.raises(Exception):
        configs.check_image_size(336)  # a multiple of 16, not 32


def test_anchor_grid_spans_the_input_when_size_is_not_a_multiple_of_128():
    spec = AnchorSpec(320, anchor_scale=3.0)
    anchors = generate_anchors(spec)
    sizes = spec.feature_sizes()
    assert sizes == [(40, 40), (20, 20), (10, 10), (5, 5), (3, 3)]
    p7 = anchors[-9 * 3 * 3:].reshape(3, 3, 9, 4)
    centers_x = (p7[0, :, 0, 0] + p7[0, :, 0, 2]) / 2
    stride = 320 / 3
    np.testing.assert_allclose(centers_x, [stride / 2, 1.5 * stride, 2.5 * stride], rtol=1e-6)
    # the smallest P7 anchor (scale 1, ratio 1) is anchor_scale * stride wide
    square = p7[0, 0, 1]
    np.testing.assert_allclose(square[2] - square[0], 3.0 * stride, rtol=1e-6)


def test_anchors_at_multiples_of_128_keep_power_of_two_strides():
    anchors = generate_anchors(AnchorSpec(256))
    # first P3 anchor: centre (4, 4), scale 1, ratio 0.5: w = 32*sqrt(.5), h = 32/sqrt(.5)
    w, h = 32 * np.sqrt(0.5), 32 / np.sqrt(0.5)
    np.testing.assert_allclose(anchors[0], [4 - w / 2, 4 - h / 2, 4 + w / 2, 4 + h / 2], rtol=1e-6)
    last = anchors[-9:]  # P7 at 256: 2x2 cells of stride 128, last cell centre (192, 192)
    np.testing.assert_allclose((last[:, 0] + last[:, 2]) / 2, 192.0)


def test_lite_metadata_records_its_normalization_and_anchor_scale():
    meta = make_metadata("lite1", ["a"])
    assert meta.input_size == 384 and meta.model == "lite1" and meta.phi == 1
    assert meta.normalization.mean == (127.0,) * 3 and meta.normalization.std == (128.0,) * 3
    assert meta.anchors.anchor_scale == 3.0
    model = build_model("lite1", 1)
    np.testing.assert_allclose(model.pixel_mean.flatten().numpy(), meta.normalization.mean)
    np.testing.assert_allclose(1 / model.pixel_inv_std.flatten().numpy(), meta.normalization.std, rtol=1e-6)
    d0 = make_metadata("d0", ["a"])
    assert d0.anchors.anchor_scale == 4.0 and d0.normalization.mean[0] == pytest.approx(123.675)
