"""One adapter per model format. ``open_backend`` picks it from the file's content."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Sequence

from edgedet.errors import InvalidInputError, with_article
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import REGISTRY, get_format, sniff_format
from edgedet.runtimes.options import refuse_unknown


def open_backend(path: str | Path, num_threads: int = 1, backend: str | None = None,
                 caller_options: Sequence[str] = (), **options) -> Backend:
    """Open ``path`` with the adapter for its format (or the one named by ``backend``).

    ``options`` are the adapter's own keyword arguments; ``caller_options`` names what the
    caller (``Detector``) took itself, so that a misspelt name is reported with all of them.
    """
    found = REGISTRY[sniff_format(path)]
    row = found if backend is None else get_format(backend, "backend")
    adapter = row.load_backend()
    if row is not found:
        raise InvalidInputError(
            f"{path} is {with_article(found.title)} file, but "
            f"backend={backend!r} reads {row.title} files; leave backend unset to pick "
            "the backend from the file")
    accepted = [p for p in inspect.signature(adapter).parameters if p not in ("path", "num_threads")]
    takes = f"it accepts {', '.join(accepted) or 'no extra options'}"
    if caller_options:
        takes = f"Detector takes {', '.join(caller_options)}, and the {row.name} backend {takes[3:]}"
    refuse_unknown(options, [*caller_options, *accepted], f"the {row.name} backend", takes)
    return adapter(path, num_threads=num_threads, **options)


__all__ = ["Backend", "open_backend"]
