"""Keep other libraries' output (MLIR stage logs, FutureWarnings, their own progress bars,
C-level prints) out of the user's terminal: it goes to a log file beside our outputs, and
``--verbose`` (or ``EDGEDET_VERBOSE=1``) shows it live instead.

While :func:`captured` is active, file descriptors 1 and 2 point at the log, so everything
written by Python or by C/C++ code lands there; our own lines (progress bars, step messages)
go to :func:`user_stream`, a copy of the terminal's stderr taken before the redirection.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import IO, Iterator, Optional

_state = threading.local()
_lock = threading.Lock()
_verbose = os.environ.get("EDGEDET_VERBOSE", "") not in ("", "0")


def set_verbose(verbose: bool) -> None:
    """Show third-party output live (``True``) instead of logging it."""
    global _verbose
    _verbose = bool(verbose)


def is_verbose() -> bool:
    return _verbose


def user_stream() -> IO[str]:
    """Where our own lines go: the real terminal stderr, even while output is captured."""
    return getattr(_state, "stream", None) or sys.stderr


@contextlib.contextmanager
def captured(log_path: Path, step: str) -> Iterator[None]:
    """Run the body with third-party output appended to ``log_path`` under a ``step`` header.

    Nothing is written (no file made) when the libraries printed nothing. On an exception
    after they did, the user is told where the log is (the error itself still propagates).
    Nested use inside an active capture just runs the body. Not for use from several threads.
    """
    if _verbose or getattr(_state, "stream", None) is not None:
        yield
        return
    with _lock, tempfile.TemporaryFile() as scratch:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        saved = {fd: os.dup(fd) for fd in (1, 2)}
        terminal = os.fdopen(os.dup(saved[2]), "w", buffering=1)
        _state.stream = terminal
        failed = False
        try:
            for fd in (1, 2):
                os.dup2(scratch.fileno(), fd)
            # logging's handlers write to sys.stderr, i.e. fd 2, i.e. the scratch file.
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                warnings.showwarning = _warning_to(scratch)
                yield
        except BaseException:
            failed = True
            raise
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            _flush_c_stdio()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            _state.stream = None
            if _append(scratch, Path(log_path), step) and failed:
                print(f"(output of the libraries used for {step}: {log_path})", file=terminal)
            terminal.close()


@contextlib.contextmanager
def quiet_c_stderr() -> Iterator[None]:
    """Drop what C/C++ code writes to fd 2 during the body (e.g. the TFLite runtime's
    "INFO: Created TensorFlow Lite XNNPACK delegate" on every interpreter it makes).

    For short calls only: fd 2 is the process's, so another thread's stderr output in that
    window is dropped too. Shows everything under ``--verbose`` and inside :func:`captured`
    (which already sends it to the log).
    """
    if _verbose or getattr(_state, "stream", None) is not None:
        yield
        return
    with _lock:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            _flush_c_stdio()
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _append(scratch: IO[bytes], log_path: Path, step: str) -> bool:
    """Append what ``scratch`` holds to the log under a header; False when it is empty."""
    scratch.seek(0)
    content = scratch.read()
    if not content:
        return False
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n== {time.strftime('%Y-%m-%d %H:%M:%S')} {step} ==\n".encode() + content)
    return True


def _flush_c_stdio() -> None:
    """Flush C ``stdout``/``stderr`` buffers, so a library's buffered printf lands in the log
    rather than on the terminal after the redirection ends."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle (Windows: TypeError)
        pass


def _warning_to(log: IO[bytes]):
    def show(message, category, filename, lineno, file=None, line=None):
        log.write(warnings.formatwarning(message, category, filename, lineno, line).encode())
        log.flush()
    return show


def log_path_for(out: Path) -> Path:
    """The log written beside an output file: ``model.tflite`` -> ``model.tflite.log``."""
    out = Path(out)
    return out.with_name(out.name + ".log")


def describe(step: str, log_path: Optional[Path] = None) -> str:
    """The line announcing a step whose library output is logged."""
    where = "" if _verbose or log_path is None else f" (library messages, if any: {log_path})"
    return f"{step}{where}"
