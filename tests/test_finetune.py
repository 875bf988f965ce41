"""Fine-tuning from an imported effdet checkpoint: what is kept, what is re-initialized, loss falls."""
from __future__ import annotations

import math

import pytest
import torch

from edgedet.checkpoint import load_checkpoint
from edgedet.data.synth import generate_dataset
from edgedet.errors import InvalidInputError
from edgedet.model.heads import CLASS_PRIOR
from edgedet.train import TrainConfig
from edgedet.train.finetune import model_from_weights
from edgedet.train.trainer import Trainer
from effdet_fixtures import require_effdet_dir

SMALL = dict(imgsz=128, batch=2, workers=0, threads=1, progress=False, scale_min=1.0,
             scale_max=1.0, flip=0.0, val_split=None)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from edgedet.pretrained.importer import import_weights

    path = tmp_path_factory.mktemp("imported") / "tf_d0.pt"
    import_weights(require_effdet_dir() / "tf_efficientdet_d0.state_dict.pt", path)
    return path


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 5, "coco", seed=1,
                            image_size=(160, 128))


def _same(a: dict, b: dict, prefix: str) -> bool:
    keys = [k for k in a if k.startswith(prefix)]
    return bool(keys) and all(torch.equal(a[k], b[k]) for k in keys)


def test_starts_from_imported_weights_with_new_class_head(imported, shapes, tmp_path, capsys):
    source = load_checkpoint(imported)[0].state_dict()
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "run"), weights=str(imported),
                                  epochs=10, lr=0.02, warmup_epochs=0.5, **SMALL))  # 20-step schedule
    said = capsys.readouterr().out
    assert "class head re-initialized" in said and "backbone, BiFPN and box head kept" in said
    assert trainer.metadata.variant.padding == "tf_same"  # the variant carries over
    assert trainer.metadata.anchors.aspect_multipliers == ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))
    state = trainer.model.state_dict()
    for part in ("backbone.", "fpn.", "box_net."):
        assert _same(state, source, part), part
    bias = state["class_net.predict.pointwise.bias"]
    assert bias.shape == (9 * len(trainer.metadata.class_names),)
    torch.testing.assert_close(bias, torch.full_like(bias, -math.log((1 - CLASS_PRIOR) / CLASS_PRIOR)))
    assert not torch.equal(state["class_net.convs.0.pointwise.weight"], source["class_net.convs.0.pointwise.weight"])

    # the loss falls on a tiny synthetic set
    batch = trainer.collate([trainer.data[i] for i in range(2)])
    trainer.net.train()
    losses = [trainer._step(*batch)[0] for _ in range(12)]
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0], losses


def test_freeze_backbone_keeps_weights_and_statistics(imported, shapes, tmp_path):
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "run"), weights=str(imported),
                                  epochs=1, lr=0.02, freeze_backbone=True, **SMALL))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    batch = trainer.collate([trainer.data[i] for i in range(2)])
    trainer.net.train()
    for _ in range(2):
        trainer._step(*batch)
    after = trainer.model.state_dict()
    assert _same(after, before, "backbone.")  # incl. BatchNorm running statistics
    assert not _same(after, before, "fpn.")


def test_backbone_frozen_for_first_epochs_then_trained(imported, shapes, tmp_path, capsys):
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "run"), weights=str(imported),
                                  epochs=2, lr=0.02, freeze_backbone_epochs=1, **SMALL))
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer._train_epoch(0)
    after_first = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert _same(after_first, start, "backbone.")  # incl. BatchNorm running statistics
    assert not _same(after_first, start, "fpn.")
    trainer._train_epoch(1)
    after_second = trainer.model.state_dict()
    changed = [k for k in after_second if k.startswith("backbone.")
               and not torch.equal(after_second[k], after_first[k])]
    assert any(k.endswith("running_mean") for k in changed) and any(k.endswith("weight") for k in changed)
    said = capsys.readouterr().out
    assert "backbone frozen until epoch 2" in said and "backbone unfrozen" in said


def test_freeze_for_whole_run_and_for_some_epochs_exclude_each_other(shapes, tmp_path):
    with pytest.raises(InvalidInputError, match="pass one of them"):
        TrainConfig(data=str(shapes), freeze_backbone=True, freeze_backbone_epochs=2)
    with pytest.raises(InvalidInputError, match="freeze_backbone_epochs must be"):
        TrainConfig(data=str(shapes), freeze_backbone_epochs=-1)


def test_coco_subset_keeps_class_head(imported, capsys):
    source, old = load_checkpoint(imported)
    model, meta = model_from_weights(imported, ["car", "person"])
    assert "class head kept and narrowed to 2" in capsys.readouterr().out
    assert meta.class_names == ["car", "person"] and model.num_classes == 2
    old_w = source.class_net.predict.pointwise.weight
    new_w = model.class_net.predict.pointwise.weight
    car, person = old.class_names.index("car"), old.class_names.index("person")
    for anchor in range(9):  # outputs are anchor-major: anchor * classes + class
        assert torch.equal(new_w[2 * anchor], old_w[90 * anchor + car])
        assert torch.equal(new_w[2 * anchor + 1], old_w[90 * anchor + person])
    x = torch.rand(1, 3, 128, 128) * 255
    with torch.no_grad():
        full, _ = source.eval()(x)
        narrow, _ = model.eval()(x)
    torch.testing.assert_close(narrow[..., 1], full[..., person])


def test_model_must_match_weights(imported, shapes, tmp_path):
    with pytest.raises(InvalidInputError, match="holds a d0"):
        TrainConfig(data=str(shapes), out=str(tmp_path / "x"), weights=str(imported), model="d1")


def test_imported_model_evaluates_as_is_on_coco_labelled_data(imported, tmp_path, capsys):
    """COCO names match effdet's 90-id layout by name, so eval needs no class remapping."""
    import json

    import cv2
    import numpy as np

    from edgedet.cli import main

    root = tmp_path / "coco"
    (root / "images" / "val").mkdir(parents=True)
    (root / "annotations").mkdir()
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for i in range(2):
        cv2.imwrite(str(root / "images" / "val" / f"{i}.jpg"), rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
        images.append({"id": i + 1, "file_name": f"{i}.jpg", "width": 128, "height": 96})
        annotations.append({"id": i + 1, "image_id": i + 1, "category_id": 1 if i == 0 else 3,
                            "bbox": [10, 10, 40, 50], "area": 2000, "iscrowd": 0})
    categories = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]
    (root / "annotations" / "instances_val.json").write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    assert main(["eval", "--model", str(imported), "--data", str(root), "--split", "val"]) == 0
    assert "mAP" in capsys.readouterr().out
