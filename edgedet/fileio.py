"""Atomic file writes: write next to the target, then rename, so no partial file is left."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Union

from edgedet.errors import InvalidInputError

PathLike = Union[str, os.PathLike]

# mkstemp creates files readable by the owner only; outputs get the usual umask-based mode.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _beside(target: Path, make):
    """``make()`` a temporary file or folder in ``target``'s folder (created if missing); an
    error that names ``target`` if the folder cannot be written."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return make()
    except OSError as exc:
        raise InvalidInputError(f"cannot write {target}: {exc.strerror or exc}") from exc


class PendingFile:
    """A hidden temporary file beside ``target`` that becomes ``target`` on :meth:`commit`
    (an atomic rename) or disappears on :meth:`discard`, so readers never see a partial file.

    The temporary name keeps ``target``'s suffix, so writers that choose a container by
    extension (``cv2.VideoWriter``, ``cv2.imwrite``) work on it.
    """

    def __init__(self, target: PathLike, overwrite: bool = True):
        self.target = Path(target)
        if self.target.exists() and not overwrite:
            raise InvalidInputError(f"{self.target} already exists; pass --force to overwrite it")
        fd, tmp = _beside(self.target, lambda: tempfile.mkstemp(
            prefix=f".{self.target.stem}.", dir=self.target.parent,
            suffix=f".partial{self.target.suffix}"))
        os.close(fd)
        self.path = Path(tmp)

    def commit(self) -> Path:
        os.chmod(self.path, 0o666 & ~_UMASK)
        os.replace(self.path, self.target)
        return self.target

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    If the body raises, the temporary file is removed and ``target`` is left untouched.
    """
    pending = PendingFile(target, overwrite)
    try:
        yield pending.path
        pending.commit()
    finally:
        pending.discard()


@contextlib.contextmanager
def staging_folder(target: PathLike) -> Iterator[Path]:
    """A hidden scratch folder beside ``target`` (on its file system, so that files made in
    it can be renamed into place), removed with whatever is still in it."""
    target = Path(target)
    folder = _beside(target, lambda: tempfile.TemporaryDirectory(
        prefix=f".{target.stem}.", suffix=".partial", dir=target.parent))
    with folder as path:
        yield Path(path)


def move_into_place(moves: list[tuple[Path, Path]]) -> None:
    """Rename each ``(staged, target)`` pair in order. If one rename fails, the targets
    already moved are removed, so a model of several files appears whole or not at all;
    list the file that readers open first (an IR's .xml) last."""
    moved: list[Path] = []
    try:
        for staged, target in moves:
            os.chmod(staged, 0o666 & ~_UMASK)
            os.replace(staged, target)
            moved.append(target)
    except BaseException:
        for target in moved:
            target.unlink(missing_ok=True)
        raise


def atomic_write_bytes(target: PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def refuse_existing(path: PathLike, overwrite: bool, option: str = "--force") -> Path:
    """Raise a clear error if ``path`` exists and ``overwrite`` is false (checked before any
    slow work, so a run is not wasted on an output it may not write)."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise InvalidInputError(f"{p} already exists; pass {option}" +
                                ("" if "overwrite" in option else " to overwrite it"))
    return p


def existing_file(path: PathLike, what: str = "file") -> Path:
    """Return ``path`` as a Path, or raise a clear error if it is not an existing file."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"{what} not found: {p}")
    if not p.is_file():
        raise InvalidInputError(f"{what} is not a file: {p}")
    return p


def atomic_write_image(target: PathLike, image) -> Path:
    """Encode ``image`` (BGR uint8) by ``target``'s suffix (.jpg when none) and write it atomically."""
    import cv2

    target = Path(target)
    ok, encoded = cv2.imencode(target.suffix or ".jpg", image)
    if not ok:
        raise InvalidInputError(f"cannot encode an image as {target.suffix or '.jpg'}: {target}")
    atomic_write_bytes(target, encoded.tobytes())
    return target
