"""A run fails before its first step when it cannot finish, and loses nothing when stopped."""
from __future__ import annotations

import csv
import sys

import pytest

from edgedet.checkpoint import read_checkpoint
from edgedet.data.synth import generate_dataset
from edgedet.errors import InvalidInputError, MissingDependencyError
from edgedet.train import TrainConfig, train
from edgedet.train.trainer import Trainer

SMALL = dict(model="d0", imgsz=128, batch=2, workers=0, threads=1, progress=False,
             scale_min=0.8, scale_max=1.2)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("shapes") / "ds", 7, "voc", seed=4,
                            image_size=(160, 128))


@pytest.fixture
def no_training_step(monkeypatch):
    def fail(*args):
        raise AssertionError("a training step ran before the check")

    monkeypatch.setattr(Trainer, "_step", fail)


def test_out_that_is_a_file_fails_before_training(shapes, tmp_path, no_training_step):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    with pytest.raises(InvalidInputError, match=f"--out {existing} is an existing file"):
        Trainer(TrainConfig(data=str(shapes), out=str(existing), **SMALL))
    with pytest.raises(InvalidInputError, match="cannot write to the run folder"):
        Trainer(TrainConfig(data=str(shapes), out=str(existing / "run"), **SMALL))
    assert existing.read_text() == "keep me"


def test_missing_pycocotools_fails_before_training(shapes, tmp_path, monkeypatch, no_training_step):
    monkeypatch.setitem(sys.modules, "pycocotools", None)  # import now raises ImportError
    with pytest.raises(MissingDependencyError, match="pycocotools"):
        Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "a"), **SMALL))
    # Without validation the run does not need it.
    Trainer(TrainConfig(data=str(shapes), out=str(tmp_path / "b"), **{**SMALL, "val_split": None}))


def test_partial_files_of_a_killed_run_are_removed(shapes, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / ".last.k2j4.partial.pt", out / ".best.x9.partial.pt", out / ".results.ab.partial.csv"]
    for p in stale:
        p.write_bytes(b"half a file")
    unrelated = out / ".notes.partial.pt"
    unrelated.write_bytes(b"not ours")
    Trainer(TrainConfig(data=str(shapes), out=str(out), **{**SMALL, "val_split": None}))
    assert not any(p.exists() for p in stale) and unrelated.exists()


class Killed(Exception):
    """Stands for SIGKILL: nothing after it runs, no handler saves anything."""


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Killed])
def test_stopping_during_validation_loses_no_epoch(shapes, tmp_path, monkeypatch, stop):
    out = tmp_path / "run"
    original = Trainer._validate
    calls = []

    def stop_in_first_validation(self):
        calls.append(1)
        if len(calls) == 1:
            raise stop()
        return original(self)

    monkeypatch.setattr(Trainer, "_validate", stop_in_first_validation)
    with pytest.raises(stop):
        train(data=str(shapes), out=str(out), epochs=2, **SMALL)
    assert read_checkpoint(out / "last.pt")["epoch"] == 1
    assert not (out / "results.csv").exists()

    train(data=str(shapes), out=str(out), epochs=2, resume=True, **SMALL)
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]  # epoch 1 logged; integers, not "1.0"
    assert all(r["val_map"] != "" for r in rows)  # both epochs validated
    assert read_checkpoint(out / "best.pt")["epoch"] in (1, 2)
    # last.pt is written before validation, so it carries epoch 2's stats; a later resume
    # finds epoch 2 in results.csv and does not log it twice.
    assert read_checkpoint(out / "last.pt")["unlogged_epoch"]["epoch"] == 2
    train(data=str(shapes), out=str(out), epochs=2, resume=True, **SMALL)
    assert len((out / "results.csv").read_text().splitlines()) == 3


def test_epoch_column_stays_integer_after_a_plain_resume(shapes, tmp_path):
    out = tmp_path / "run"
    config = dict(data=str(shapes), out=str(out), **{**SMALL, "val_split": None})
    train(epochs=1, **config)
    train(epochs=2, resume=True, **config)
    lines = (out / "results.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2"]
