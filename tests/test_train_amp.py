"""bf16 autocast: off on the CPU unless asked; asked for, it trains and checkpoints stay fp32."""
from __future__ import annotations

import argparse

import pytest
import torch

from edgedet.checkpoint import read_checkpoint
from edgedet.commands import train as train_command
from edgedet.data.synth import generate_dataset
from edgedet.train import TrainConfig
from edgedet.train.trainer import Trainer

SMALL = dict(model="d0", imgsz=128, batch=2, workers=0, threads=1, progress=False,
             scale_min=1.0, scale_max=1.0, flip=0.0, val_split=None)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 5, "coco", seed=1,
                            image_size=(160, 128))


def test_amp_is_off_on_cpu_unless_asked(shapes, tmp_path):
    assert Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "a"), **SMALL)).amp is False
    assert Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "b"), amp=True, **SMALL)).amp is True
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    base = ["--data", "x"]
    assert parser.parse_args(base).amp is None
    assert parser.parse_args(base + ["--amp"]).amp is True
    assert parser.parse_args(base + ["--no-amp"]).amp is False


def test_amp_run_trains_and_saves_fp32(shapes, tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "run"), lr=0.05, epochs=10,
                                  warmup_epochs=0.5, amp=True, **SMALL))
    batch = trainer.collate([trainer.data[i] for i in range(2)])
    trainer.net.train()
    autocast_seen = []
    hook = trainer.model.register_forward_hook(
        lambda module, args, out: autocast_seen.append(out[0].dtype))
    losses = [trainer._step(*batch)[0] for _ in range(20)]
    hook.remove()
    assert autocast_seen[0] == torch.bfloat16  # the forward really ran in bf16
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-5:]) / 5 < 0.7 * losses[0], losses
    trainer._save_last(0)
    state = read_checkpoint(tmp_path / "run" / "last.pt")
    for key in ("model", "ema"):
        dtypes = {v.dtype for v in state[key].values() if v.dtype.is_floating_point}
        assert dtypes == {torch.float32}, (key, dtypes)
