"""A progress bar with ETA: tqdm when installed (the train extra), plain lines otherwise,
so torch-free installs (a Raspberry Pi) still show progress."""
from __future__ import annotations

import time
from typing import Iterable, Iterator, Optional, TypeVar

from edgedet.thirdparty_output import user_stream

T = TypeVar("T")


def progress(items: Iterable[T], total: Optional[int] = None, desc: str = "",
             enabled: bool = True, **tqdm_options) -> Iterator[T]:
    """Iterate ``items`` showing a bar with rate and ETA on stderr (``tqdm_options`` such as
    ``delay`` or ``position`` go to tqdm when it is installed)."""
    if not enabled:
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield from _plain(items, total, desc)
        return
    tqdm_options.setdefault("leave", False)
    yield from tqdm(items, total=total, desc=desc, dynamic_ncols=True, file=user_stream(),
                    **tqdm_options)


def _plain(items: Iterable[T], total: Optional[int], desc: str) -> Iterator[T]:
    start = last = time.perf_counter()
    for i, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if now - last > 2.0 or (total and i == total):
            last = now
            eta = (now - start) / i * (total - i) if total else 0.0
            print(f"{desc} {i}/{total or '?'}  eta {eta:.0f}s", file=user_stream(), flush=True)


class ProgressList(list):
    """A list that shows a progress bar each time it is iterated: for handing calibration
    samples to a library that loops over them itself (the bar is ours, with our ETA)."""

    def __init__(self, items: Iterable[T], desc: str):
        super().__init__(items)
        self.desc = desc

    def __iter__(self) -> Iterator[T]:
        # delay: a library that first just counts the items (list(samples)) shows no bar;
        # position 0: the library's own (captured) bar must not push ours down a line.
        return progress(super().__iter__(), total=len(self), desc=self.desc, delay=0.5, position=0)
