"""Training a Lite model, from scratch or from the ImageNet backbone (--pretrained-backbone)."""
from __future__ import annotations

import pytest
import torch

from edgedet.checkpoint import read_checkpoint
from edgedet.data.synth import generate_dataset
from edgedet.errors import InvalidInputError, MissingDependencyError
from edgedet.model import lite_weights
from edgedet.train import TrainConfig
from edgedet.train.trainer import Trainer

SMALL = dict(model="lite0", imgsz=128, batch=2, workers=0, threads=1, progress=False,
             scale_min=0.8, scale_max=1.2, val_split=None, epochs=1)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 5, "coco", seed=1,
                            image_size=(160, 128))


def test_pretrained_backbone_is_loaded_before_training(shapes, tmp_path):
    try:
        path = lite_weights.installed_weights_path("lite0")
    except MissingDependencyError as exc:
        pytest.skip(f"lite0 weights not installed: {exc}")
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "run"),
                                  pretrained_backbone="auto", **SMALL))
    assert trainer.cfg.pretrained_backbone == str(path)
    stem = lite_weights.read_state_dict(path)["_conv_stem.weight"]
    assert torch.equal(trainer.model.backbone.stem[0].weight.detach(), stem)
    trainer.fit()
    state = read_checkpoint(tmp_path / "run" / "last.pt")
    assert state["metadata"]["model"] == "lite0" and state["metadata"]["input_size"] == 128
    assert state["train_config"]["pretrained_backbone"] == str(path)


def test_train_command_takes_pretrained_backbone_path(shapes, tmp_path, capsys):
    from edgedet.cli import main

    try:
        path = lite_weights.installed_weights_path("lite0")
    except MissingDependencyError as exc:
        pytest.skip(f"lite0 weights not installed: {exc}")
    out = tmp_path / "exp"
    args = ["train", "--data", str(shapes), "--model", "lite0", "--imgsz", "128", "--epochs", "1",
            "--batch", "2", "--workers", "0", "--threads", "1", "--val-split", "none",
            "--out", str(out), "--pretrained-backbone", str(path)]
    assert main(args) == 0
    assert read_checkpoint(out / "best.pt")["metadata"]["model"] == "lite0"
    assert main(args[:-1] + [str(tmp_path / "nope.pth")]) == 2
    assert "nope.pth not found" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs,message", [
    ({"model": "d0", "pretrained_backbone": "auto"}, "needs a Lite model"),
    ({"model": "lite0", "pretrained_backbone": "/no/such/file.pth"}, "file.pth not found"),
    ({"model": "lite0", "imgsz": 300}, "multiple of 32"),
])
def test_bad_lite_options_fail_before_reading_data(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        TrainConfig.from_kwargs(data="/no/such/dataset", **kwargs)
