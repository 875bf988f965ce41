"""Cleaning real-world annotations: clip, drop, count, and report once per load."""
from __future__ import annotations

import contextlib
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from edgedet.data.types import Dataset, Sample
from edgedet.errors import InvalidInputError

# Boxes thinner than this (pixels, after clipping to the image) carry no usable signal.
MIN_BOX_SIDE = 1.0


class DatasetWarning(UserWarning):
    """Something in a dataset was fixed or dropped; the message says what and where."""


@dataclass
class FixReport:
    """Counts of fixes per source file, emitted as ONE summary warning when a load ends."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # (source, what) -> the first few entries it happened to, e.g. "annotation id 7: bbox null"
    examples: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    max_examples: int = 5

    def add(self, source: str | Path, what: str, n: int = 1, example: str | None = None) -> None:
        """Count ``n`` occurrences of ``what`` in ``source`` (zero is ignored); ``example``
        names the entry (id and field) so the first few can be shown."""
        if n:
            self.counts[str(source)][what] += n
            kept = self.examples[(str(source), what)]
            if example is not None and len(kept) < self.max_examples:
                kept.append(example)

    def summary(self, limit: int = 20) -> str:
        """Totals on the first line, then one line per file (at most ``limit``)."""
        totals: Counter = Counter()
        for per_file in self.counts.values():
            totals.update(per_file)
        lines = [", ".join(f"{n} {what}" for what, n in sorted(totals.items()))]
        for i, (source, per_file) in enumerate(sorted(self.counts.items())):
            if i == limit:
                lines.append(f"  ... and {len(self.counts) - limit} more file(s)")
                break
            lines.append(f"  {source}: " + ", ".join(
                f"{n} {w}{self._examples(source, w, n)}" for w, n in sorted(per_file.items())))
        return "\n".join(lines)

    def _examples(self, source: str, what: str, n: int) -> str:
        kept = self.examples.get((source, what))
        if not kept:
            return ""
        more = f"; and {n - len(kept)} more" if n > len(kept) else ""
        return f" ({'; '.join(kept)}{more})"

    def warn(self, dataset: str) -> None:
        """Emit the summary as one :class:`DatasetWarning`, if anything was fixed."""
        if self.counts:
            warnings.warn(f"{dataset}: fixed or dropped while loading: {self.summary()}",
                          DatasetWarning, stacklevel=3)


def clean_boxes(boxes: np.ndarray, class_ids: np.ndarray, width: int, height: int,
                report: FixReport, source: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Clip boxes to the image and drop degenerate ones, counting both in ``report``."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    class_ids = np.asarray(class_ids, dtype=np.int64).reshape(-1)
    finite = np.isfinite(boxes).all(axis=1)
    report.add(source, "non-finite box(es) dropped", int((~finite).sum()))
    boxes, class_ids = boxes[finite], class_ids[finite]
    # Corners given in the wrong order are a labelling slip, not a degenerate box.
    swapped = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    report.add(source, "box(es) with swapped corners reordered", int(swapped.sum()))
    boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                            np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)
    clipped = boxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    keep = ((clipped[:, 2] - clipped[:, 0]) >= MIN_BOX_SIDE) & \
           ((clipped[:, 3] - clipped[:, 1]) >= MIN_BOX_SIDE)
    changed = (np.abs(clipped - boxes) > 1e-3).any(axis=1) & keep
    report.add(source, "box(es) clipped to the image", int(changed.sum()))
    report.add(source, "degenerate box(es) dropped", int((~keep).sum()))
    return clipped[keep], class_ids[keep]


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) read from the image header only, or None if it is not readable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except Exception:  # PIL raises many types for truncated/unknown files
        return None


def make_sample(image_path: Path, boxes, class_ids, width: int, height: int,
                report: FixReport, source: str | Path) -> Sample | None:
    """A cleaned :class:`Sample`, or None (counted in ``report``) if its image is missing."""
    if not image_path.is_file():
        report.add(source, f"sample(s) dropped, image not found: {image_path}")
        return None
    if image_path.stat().st_size == 0:
        report.add(source, "sample(s) dropped, empty (0-byte) image", example=str(image_path))
        return None
    if width <= 0 or height <= 0:
        size = image_size(image_path)
        if size is None:
            report.add(source, f"sample(s) dropped, unreadable image: {image_path}")
            return None
        width, height = size
    boxes, class_ids = clean_boxes(boxes, class_ids, width, height, report, source)
    return Sample(image_path, boxes, class_ids, int(width), int(height))


def finish_dataset(dataset: Dataset, report: FixReport, fmt: str) -> Dataset:
    """Emit the one summary warning and refuse an empty split."""
    report.warn(f"{dataset.root} ({fmt}, split {dataset.split!r})")
    if not dataset.samples:
        raise InvalidInputError(
            f"{dataset.root}: split {dataset.split!r} of this {fmt} dataset has no usable images"
        )
    return dataset


def strip_name(name: str, report: FixReport, source: str | Path) -> str:
    """A class name without stray whitespace (counted when there was some)."""
    stripped = str(name).strip()
    if stripped != name:
        report.add(source, "class name(s) stripped of whitespace")
    return stripped


@contextlib.contextmanager
def dataset_warnings_printed(stream=None) -> Iterator[None]:
    """For the length of the body, show :class:`DatasetWarning` as plain ``warning: ...``
    lines, every time (the CLI's way); other warnings as before. Filters and
    ``warnings.showwarning`` are restored on exit."""
    import sys

    with warnings.catch_warnings():
        previous = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, DatasetWarning):
                print(f"warning: {message}", file=stream or sys.stderr)
            else:
                previous(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", DatasetWarning)
        yield
