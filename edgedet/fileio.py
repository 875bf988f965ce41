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


@contextlib.contextmanager
def atomic_path(target: PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    If the body raises, the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise InvalidInputError(f"{target} already exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(target: PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


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
