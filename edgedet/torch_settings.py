"""torch's process-wide settings, set for the length of one call and then put back.

torch's intra-op thread count is global to the process, and flush-denormal is a CPU flag of
the calling thread; a library call that set them and returned would change everything the
caller runs afterwards (training inherited the runtime's one thread through validation).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator, Optional

_lock = threading.Lock()
_active = 0
_saved_threads: Optional[int] = None


@contextlib.contextmanager
def torch_settings(num_threads: Optional[int] = None, flush_denormal: bool = True) -> Iterator[None]:
    """Run the body with ``num_threads`` torch threads (None: unchanged) and, optionally,
    denormals flushed to zero; both are restored on exit.

    Fresh and lightly trained weights produce denormal activations, which x86 CPUs handle
    slowly (eager conv measured ~25-50x slower on them); flushing changes values by < 1e-37.
    torch has no getter for the flag, so it is turned off again on exit (torch's default).
    Overlapping calls from several threads share one saved thread count: the first to enter
    saves it, the last to leave restores it.
    """
    import torch

    global _active, _saved_threads
    if num_threads is not None:
        with _lock:
            if _active == 0:
                _saved_threads = torch.get_num_threads()
            _active += 1
            torch.set_num_threads(num_threads)
    flushed = flush_denormal and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushed:
            torch.set_flush_denormal(False)
        if num_threads is not None:
            with _lock:
                _active -= 1
                if _active == 0:
                    torch.set_num_threads(_saved_threads)
