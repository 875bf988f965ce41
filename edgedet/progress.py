"""A progress bar with ETA: tqdm when installed (the train extra), plain lines otherwise,
so torch-free installs (a Raspberry Pi) still show progress."""
from __future__ import annotations

import time
from typing import Iterable, Iterator, Optional, Protocol, TypeVar

from edgedet.thirdparty_output import user_stream

T = TypeVar("T")
PLAIN_LINE_EVERY_S = 2.0  # the plain (tqdm-less) bars print a line this often


def progress(items: Iterable[T], total: Optional[int] = None, desc: str = "",
             enabled: bool = True, **tqdm_options) -> Iterator[T]:
    """Iterate ``items`` showing a bar with rate and ETA on stderr (``tqdm_options`` such as
    ``delay`` or ``position`` go to tqdm when it is installed)."""
    if not enabled:
        yield from items
        return
    yield from progress_bar(items, total, desc, **tqdm_options)


def progress_bar(items: Iterable[T], total: Optional[int] = None, desc: str = "",
                 **tqdm_options) -> Iterable[T]:
    """The bar itself, to iterate and to give fields with ``set_postfix(name=value)``: tqdm's
    when installed (``leave=False`` unless given), else plain lines."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(items, total, desc)
    tqdm_options.setdefault("leave", False)
    return tqdm(items, total=total, desc=desc, dynamic_ncols=True, file=user_stream(),
                **tqdm_options)


class _PlainBar:
    """A line every two seconds (and at the end) with count, ETA and the postfix fields."""

    def __init__(self, items: Iterable[T], total: Optional[int], desc: str):
        self.items, self.total, self.desc, self.postfix = items, total, desc, ""

    def set_postfix(self, **fields: object) -> None:
        self.postfix = "  " + ", ".join(f"{k}={v}" for k, v in fields.items())

    def __iter__(self) -> Iterator[T]:
        total = self.total
        start = last = time.perf_counter()
        for i, item in enumerate(self.items, 1):
            yield item
            now = time.perf_counter()
            if now - last > PLAIN_LINE_EVERY_S or (total and i == total):
                last = now
                eta = (now - start) / i * (total - i) if total else 0.0
                print(f"{self.desc} {i}/{total or '?'}  eta {eta:.0f}s{self.postfix}",
                      file=user_stream(), flush=True)


class ByteBar(Protocol):
    """What :func:`byte_progress` returns."""

    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def byte_progress(total: Optional[int], desc: str, initial: int = 0) -> ByteBar:
    """A bar counted in bytes (a download), fed with ``update(n)`` and ended with ``close()``:
    tqdm's when installed, else a plain line every two seconds."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBytes(total, desc, initial)
    return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True,
                unit_divisor=1024, dynamic_ncols=True, file=user_stream(), leave=False)


class _PlainBytes:
    def __init__(self, total: Optional[int], desc: str, initial: int):
        self.total, self.desc, self.n = total, desc, initial
        self.start = self.last = time.perf_counter()
        self.initial = initial

    def update(self, n: int) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self.last > PLAIN_LINE_EVERY_S:
            self.last = now
            rate = (self.n - self.initial) / max(now - self.start, 1e-9)
            of = f"/{self.total / 2**20:.1f}" if self.total else ""
            print(f"{self.desc} {self.n / 2**20:.1f}{of} MiB  {rate / 2**20:.1f} MiB/s",
                  file=user_stream(), flush=True)

    def close(self) -> None:
        pass


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
