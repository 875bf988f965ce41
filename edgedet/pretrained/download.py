"""Download a published file once into edgedet's cache, verified, resumable, atomic.

The cache is ``~/.cache/edgedet`` (``EDGEDET_CACHE`` moves it). A file is written to a hidden
temporary file beside its final name and renamed only once its hash prefix matches, so the
cache never holds a partial or corrupt download; the temporary file is removed on every
failure (Ctrl-C included). A connection that drops mid-body is resumed within the same call
with an HTTP ``Range`` request; a server that ignores the range (200, not 206) is read from
the start again. A file put at the final path by hand is used as it is, once its hash matches.

Torch-free; standard library only (urllib honours ``HTTPS_PROXY``).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from edgedet import __version__
from edgedet.errors import DownloadError
from edgedet.fileio import atomic_path
from edgedet.progress import byte_progress

CACHE_ENV = "EDGEDET_CACHE"
ATTEMPTS = 4  # requests per download: the first, then resumes after a dropped connection
RETRY_DELAY_S = 1.0
TIMEOUT_S = 30.0
_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def cache_dir() -> Path:
    """Where downloads and their imported checkpoints live: ``$EDGEDET_CACHE``, else
    ``~/.cache/edgedet``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "edgedet"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _failed(url: str, dest: Path, problem: str) -> DownloadError:
    """A DownloadError saying what went wrong, then what to download by hand and where to."""
    return DownloadError(f"{problem}. Download {url} by hand (a browser, or: curl -L -o '{dest}' "
                         f"'{url}') and put it at {dest}; edgedet uses a file found there.",
                         url, str(dest))


def _check_hash(path: Path, sha256_prefix: str, url: str, dest: Path, what: str) -> None:
    digest = sha256_of(path)[:len(sha256_prefix)]
    if digest != sha256_prefix:
        raise _failed(url, dest, f"{what}: its sha256 starts {digest}, expected {sha256_prefix}")


def fetch(url: str, dest: Path, sha256_prefix: str, progress: bool = True) -> Path:
    """``dest``, downloading it from ``url`` first unless it is already there.

    Either way its sha256 must start with ``sha256_prefix``. Raises DownloadError (naming the
    URL and ``dest``) when the server cannot be reached, answers with an error, keeps cutting
    the connection, or sends a file with another hash.
    """
    dest = Path(dest)
    if dest.is_file():
        _check_hash(dest, sha256_prefix, url, dest,
                    f"{dest} is not the published file (delete it to download it again)")
        return dest
    try:
        with atomic_path(dest) as tmp:
            _download(url, tmp, dest, progress)
            _check_hash(tmp, sha256_prefix, url, dest,
                        f"{url} arrived corrupt or changed upstream, and nothing was kept")
    except OSError as exc:  # the cache folder itself: not writable, disk full
        raise _failed(url, dest, f"cannot write {dest}: {exc.strerror or exc}") from exc
    return dest


def _download(url: str, tmp: Path, dest: Path, progress: bool) -> None:
    """Fill ``tmp`` with the body at ``url``, resuming with ``Range`` after a dropped connection."""
    received, problem = 0, ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(RETRY_DELAY_S)
        headers = {"User-Agent": f"edgedet/{__version__}"}
        if received:
            headers["Range"] = f"bytes={received}-"
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                              timeout=TIMEOUT_S)
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:  # 404, 403: asking again will not help
                raise _failed(url, dest, f"{url} answered HTTP {exc.code} {exc.reason}") from exc
            problem = f"HTTP {exc.code} {exc.reason}"
            continue
        except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
            reason = getattr(exc, "reason", exc)
            if not received:  # offline, or no such host: fail now, not after every retry
                raise _failed(url, dest, f"cannot reach {url} ({reason})") from exc
            problem = f"reconnecting failed ({reason})"
            continue
        with response:
            start, total = _body_range(response, received)
            if start != received:  # server ignored Range (or answered another one): start over
                received = 0
                if start != 0:
                    problem = f"server answered range {response.headers.get('Content-Range')}"
                    continue
            try:
                received = _read_into(response, tmp, received, total, Path(url).name, progress)
            except _Dropped as exc:
                received = tmp.stat().st_size  # what reached the file is kept and resumed
                problem = f"connection lost after {received} bytes ({exc})"
                continue
        if total is None or received >= total:
            return
        problem = f"connection closed after {received} of {total} bytes"
    raise _failed(url, dest, f"{url}: download failed after {ATTEMPTS} attempts ({problem}), and "
                             "nothing was kept")


def _body_range(response: http.client.HTTPResponse, asked: int) -> tuple[int, Optional[int]]:
    """(offset of the body's first byte, size of the whole file or None if unknown)."""
    if response.status == 206:
        m = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if not m:
            return -1, None
        return int(m.group(1)), (int(m.group(3)) if m.group(3) != "*" else None)
    length = response.headers.get("Content-Length")
    return 0, (int(length) if length and length.isdigit() else None)


class _Dropped(Exception):
    """The connection failed while the body was being read (not a local write error)."""


def _read_into(response: http.client.HTTPResponse, tmp: Path, received: int,
               total: Optional[int], name: str, progress: bool) -> int:
    """Append the body to ``tmp`` (truncated first when ``received`` is 0); bytes now held.
    Raises _Dropped when reading fails; errors writing ``tmp`` pass through as OSError."""
    bar = byte_progress(total, name, initial=received) if progress else None
    try:
        with open(tmp, "ab" if received else "wb") as f:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Dropped(f"{type(exc).__name__}: {exc}") from exc
                if not chunk:
                    return received
                f.write(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
