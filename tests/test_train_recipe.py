"""The small-data recipe's training options: mosaic switches off for the last epochs, runs
without it sample exactly as before, and fitted anchors reach the checkpoint."""
from __future__ import annotations

import pytest
import torch

from edgedet.checkpoint import read_checkpoint
from edgedet.data import load_dataset
from edgedet.data.augment import AugmentConfig
from edgedet.data.synth import generate_dataset
from edgedet.errors import InvalidInputError
from edgedet.metadata import ModelMetadata, make_metadata
from edgedet.train import TrainConfig, train
from edgedet.train.anchor_fit import fit_anchors
from edgedet.train.dataset import DetectionDataset


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 6, "voc", seed=2,
                            image_size=(160, 128))


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.fast
def test_mosaic_only_before_its_last_epoch_and_plain_sampling_unchanged(shapes):
    dataset = load_dataset(shapes, split="train")
    plain = DetectionDataset(dataset, 128, AugmentConfig(0.5, 1.5), seed=3)
    mixed = DetectionDataset(dataset, 128, AugmentConfig(0.5, 1.5, mosaic_probability=1.0),
                             seed=3, mosaic_epochs=2)
    for index in range(len(dataset)):
        assert not _same(mixed[(1, index)], plain[(1, index)])  # epoch 1 < 2: a mosaic
        assert _same(mixed[(2, index)], plain[(2, index)])  # from epoch 2 on: as without mosaic


@pytest.mark.fast
@pytest.mark.parametrize("kwargs,message", [
    ({"mosaic": 1.5}, "mosaic must be in \\[0, 1\\], got 1.5"),
    ({"hsv_s": -0.1}, "hsv_s must be in \\[0, 1\\]"),
    ({"no_mosaic_epochs": -1}, "no_mosaic_epochs must be an integer >= 0"),
])
def test_bad_recipe_options(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        TrainConfig(data="x", **kwargs)


def test_recipe_run_records_fitted_anchors(shapes, tmp_path, capsys):
    out = tmp_path / "run"
    train(data=str(shapes), out=str(out), model="d0", imgsz=128, batch=2, workers=0, threads=1,
          epochs=2, no_mosaic_epochs=1, mosaic=1.0, hsv_h=0.015, hsv_s=0.5, hsv_v=0.3,
          auto_anchors=True, progress=False, val_split=None)
    printed = capsys.readouterr().out
    assert "anchors before: anchor_scale 4" in printed and "of boxes matched" in printed
    dataset = load_dataset(shapes, split="train")
    _, fitted = fit_anchors(dataset, make_metadata("d0", dataset.class_names, 128).anchors)
    state = read_checkpoint(out / "last.pt")
    assert ModelMetadata.from_dict(state["metadata"]).anchors == fitted.spec
    assert int(state["epoch"]) == 2
