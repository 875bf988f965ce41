"""Checks made before the first training step, so a run fails in seconds, not after an epoch."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from edgedet.errors import InvalidInputError, require

# Hidden temporaries that edgedet.fileio writes beside the run's files; a kill while one was
# being written leaves it behind (".last.x1y2.partial.pt").
_RUN_FILE_STEMS = ("last", "best", "results")


def prepare_run_folder(out: Path, clean: bool) -> list[Path]:
    """Make sure ``out`` is (or can become) a writable folder; with ``clean``, delete the
    partial files an interrupted run left in it. Returns the paths deleted."""
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out} is an existing file, not a folder; "
                                "name a folder for the run's checkpoints and logs")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidInputError(f"cannot write to the run folder {out}: {exc.strerror or exc}") from exc
    removed = []
    if clean:
        for stem in _RUN_FILE_STEMS:
            for leftover in out.glob(f".{stem}.*.partial.*"):
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
    return removed


def require_training_packages(validation: bool, progress: bool) -> None:
    """Import now every optional package the run will need later (raises naming the extra)."""
    require("matplotlib", "train", "the training plot (results.png)")
    if validation:
        require("pycocotools", "train", "validation mAP during training")
    if progress:
        require("tqdm", "train", "the training progress bar")
