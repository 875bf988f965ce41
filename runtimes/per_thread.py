"""One object per calling thread, made on first use: for runtime state that is not safe to
share between threads (reused input buffers, OpenVINO infer requests, TFLite interpreters)."""
from __future__ import annotations

import threading
from typing import Callable, Generic, Optional, TypeVar

T = TypeVar("T")


class PerThread(Generic[T]):
    """Hands each thread its own ``factory()`` result; ``first`` serves the creating thread."""

    def __init__(self, factory: Callable[[], T], first: Optional[T] = None):
        self._factory = factory
        self._local = threading.local()
        if first is not None:
            self._local.value = first

    def get(self) -> T:
        """This thread's object, made now if the thread has none yet."""
        try:
            return self._local.value
        except AttributeError:
            value = self._local.value = self._factory()
            return value
