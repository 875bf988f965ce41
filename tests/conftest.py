"""Shared fixtures: a small random-weight D0 checkpoint and its ONNX export (made once)."""
from __future__ import annotations

from pathlib import Path

import pytest

CLASS_NAMES = ["circle", "square", "triangle"]
SMALL_SIZE = 256
# Fixtures that make models (and so take seconds to minutes): the fast tier uses none.
MODEL_FIXTURES = {"small_checkpoint", "small_onnx"}


def pytest_collection_modifyitems(items) -> None:
    """Keep ``-m fast`` fast: a fast-marked test may not ask for a model-making fixture."""
    for item in items:
        used = MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("fast") and used:
            raise pytest.UsageError(f"{item.nodeid} is marked fast but uses {sorted(used)}")


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
