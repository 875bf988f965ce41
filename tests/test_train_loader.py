"""The persistent training DataLoader: a sample depends only on (seed, epoch, index)."""
from __future__ import annotations

import pytest
import torch

from edgedet.data.synth import generate_dataset
from edgedet.train import TrainConfig
from edgedet.train.trainer import Trainer

SMALL = dict(model="d0", imgsz=128, batch=2, threads=1, progress=False, val_split=None)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 7, "voc", seed=3,
                            image_size=(160, 128))


def _epochs(trainer: Trainer, epochs: int) -> list[list[tuple[torch.Tensor, ...]]]:
    return [list(trainer._loader(epoch)) for epoch in range(epochs)]


def test_batches_are_the_same_for_any_worker_count_and_change_per_epoch(shapes, tmp_path):
    runs = {w: _epochs(Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / f"w{w}"),
                                           workers=w, **SMALL)), 3)
            for w in (0, 2)}
    assert len(runs[0][0]) >= 2
    for epoch in range(3):
        for a, b in zip(runs[0][epoch], runs[2][epoch]):
            for x, y in zip(a, b):
                torch.testing.assert_close(x, y, rtol=0, atol=0)
    # Persistent workers must see each epoch: the same index looks different next epoch.
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "direct"), workers=0, **SMALL))
    first, second = trainer.data[(0, 1)][0], trainer.data[(1, 1)][0]
    assert not torch.equal(first, second)
    trainer.sampler.set_epoch(2)
    keys = list(trainer.sampler)
    assert all(epoch == 2 for epoch, _ in keys)
    torch.testing.assert_close(runs[2][2][0][0][0], trainer.data[keys[0]][0], rtol=0, atol=0)
