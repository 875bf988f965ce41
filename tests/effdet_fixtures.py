"""Where the effdet checkpoint-format fixtures live, and helpers to read them.

The shared fixtures sit beside the repository (``<repo>/../shared/fixtures/effdet``) in the
main checkout; worktrees elsewhere find them through ``EDGEDET_FIXTURES`` or ``/work/shared``.
Tests that need them skip, saying where they looked, when none is found.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[1]


def _candidates() -> list[Path]:
    found = []
    if os.environ.get("EDGEDET_FIXTURES"):
        found.append(Path(os.environ["EDGEDET_FIXTURES"]) / "effdet")
    found += [REPO.parent / "shared" / "fixtures" / "effdet", Path("/work/shared/fixtures/effdet")]
    return found


def effdet_dir() -> Optional[Path]:
    return next((p for p in _candidates() if (p / "tf_efficientdet_d0.state_dict.pt").is_file()), None)


def require_effdet_dir() -> Path:
    path = effdet_dir()
    if path is None:
        pytest.skip("effdet fixtures not found (looked in "
                    + ", ".join(str(p) for p in _candidates()) + "; set EDGEDET_FIXTURES)")
    return path


def manifest_state_dict(name: str):
    """A state dict of zeros with the key names and shapes of an effdet manifest."""
    import torch

    data = json.loads((require_effdet_dir() / f"{name}.keys.json").read_text())
    return {k: torch.zeros(shape) for k, shape in data["state_dict"].items()}, data["config"]
