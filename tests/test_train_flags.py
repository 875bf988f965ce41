"""`edgedet train` flags are views of TrainConfig: same defaults, every flag reaches its field."""
import argparse
import dataclasses

import pytest

from edgedet.commands import train as train_command
from edgedet.train import TrainConfig

pytestmark = pytest.mark.fast


def _parse(argv: list[str]) -> TrainConfig:
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    return train_command.config_from_args(parser.parse_args(argv))


def test_no_flags_give_the_config_defaults():
    assert _parse(["--data", "ds"]) == TrainConfig(data="ds")


def test_each_flag_fills_its_field():
    config = _parse(["--data", "ds", "--epochs", "3", "--batch", "4", "--force", "--split", "a",
                     "--val-split", "none", "--scale", "0.5", "1.5", "--flip", "0", "--lr", "0.01",
                     "--imgsz", "320x192", "--freeze-backbone", "--no-amp", "--threads", "2",
                     "--mosaic", "0.5", "--no-mosaic-epochs", "3", "--hsv-h", "0.015",
                     "--hsv-s", "0.5", "--hsv-v", "0.3", "--auto-anchors"])
    assert _parse(["--data", "ds", "--freeze-backbone-epochs", "3"]).freeze_backbone_epochs == 3
    expected = TrainConfig(data="ds", epochs=3, batch=4, exist_ok=True, train_split="a",
                           val_split=None, scale_min=0.5, scale_max=1.5, flip=0.0, lr=0.01,
                           imgsz="320x192", freeze_backbone=True, amp=False, threads=2,
                           mosaic=0.5, no_mosaic_epochs=3, hsv_h=0.015, hsv_s=0.5, hsv_v=0.3,
                           auto_anchors=True)
    assert config == expected


def test_every_flag_names_a_config_field():
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert {flag.field for flag in train_command.FLAGS} <= fields
