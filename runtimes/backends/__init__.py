"""One adapter per model format. ``open_backend`` picks it from the file's content."""
from __future__ import annotations

import inspect
from pathlib import Path

from edgedet.errors import InvalidInputError
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import REGISTRY, get_format, sniff_format


def open_backend(path: str | Path, num_threads: int = 1, backend: str | None = None,
                 **options) -> Backend:
    """Open ``path`` with the adapter for its format (or the one named by ``backend``)."""
    found = REGISTRY[sniff_format(path)]
    row = found if backend is None else get_format(backend, "backend")
    adapter = row.load_backend()
    if row is not found:
        raise InvalidInputError(
            f"{path} is a{'n' if found.name[0] in 'aeio' else ''} {found.title} file, but "
            f"backend={backend!r} reads {row.title} files; leave backend unset to pick "
            "the backend from the file")
    accepted = [p for p in inspect.signature(adapter).parameters if p not in ("path", "num_threads")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {', '.join(unknown)} for the {row.name} backend; it accepts "
            f"{', '.join(accepted) or 'no extra options'}")
    return adapter(path, num_threads=num_threads, **options)


__all__ = ["Backend", "open_backend"]
