"""Shared fixtures: a small random-weight D0 checkpoint and its ONNX export (made once)."""
from __future__ import annotations

from pathlib import Path

import pytest

CLASS_NAMES = ["circle", "square", "triangle"]
SMALL_SIZE = 256


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> Path:
    from edgedet.checkpoint import init_checkpoint

    path = tmp_path_factory.mktemp("models") / "d0_small.pt"
    init_checkpoint(path, "d0", CLASS_NAMES, input_size=SMALL_SIZE, seed=0)
    return path


@pytest.fixture(scope="session")
def small_onnx(small_checkpoint: Path) -> Path:
    from edgedet.converters import convert

    # report=False: the parity check against PyTorch took 20-50 s here and tests do not need it.
    return convert(small_checkpoint, "onnx", small_checkpoint.with_suffix(".onnx"), report=False)
