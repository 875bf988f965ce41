"""A progress bar with ETA: tqdm when installed (the train extra), plain lines otherwise,
so torch-free installs (a Raspberry Pi) still show progress."""
from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: Optional[int] = None, desc: str = "",
             enabled: bool = True) -> Iterator[T]:
    """Iterate ``items`` showing a bar with rate and ETA on stderr."""
    if not enabled:
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield from _plain(items, total, desc)
        return
    yield from tqdm(items, total=total, desc=desc, leave=False, dynamic_ncols=True)


def _plain(items: Iterable[T], total: Optional[int], desc: str) -> Iterator[T]:
    start = last = time.perf_counter()
    for i, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if now - last > 2.0 or (total and i == total):
            last = now
            eta = (now - start) / i * (total - i) if total else 0.0
            print(f"{desc} {i}/{total or '?'}  eta {eta:.0f}s", file=sys.stderr, flush=True)
