"""``load_dataset``: one entry point over the dataset formats' readers, with auto-detection."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from edgedet.data.formats import REGISTRY, dataset_format, layouts
from edgedet.data.types import Dataset
from edgedet.errors import InvalidInputError
from edgedet.fileio import PathLike


def detect_format(path: PathLike) -> str:
    """Name the format of a dataset folder, or raise saying which layouts were looked for."""
    root = Path(path)
    found = [row.name for row in REGISTRY.values() if row.looks_like(root)]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidInputError(f"{root} matches several formats ({', '.join(found)}); pass --format")
    raise InvalidInputError(f"cannot tell the format of {root}; expected one of: {layouts()}")


def load_dataset(path: PathLike, format: Optional[str] = None, split: str = "train",
                 class_names: Optional[list[str]] = None) -> Dataset:
    """Read split ``split`` of the dataset at ``path`` into a :class:`Dataset`.

    Args:
        path: dataset folder (or, for COCO, the JSON file; for YOLO, the data.yaml).
        format: a name of :data:`edgedet.data.formats.REGISTRY` ("coco", "voc", "yolo");
            detected from the files when None.
        split: "train", "val", "test" (or any split the dataset defines).
        class_names: expected class list (e.g. a model's); boxes of other classes are dropped
            and reported. By default the dataset's own list is used.

    Boxes are clipped to their image, degenerate ones dropped, class names stripped; what was
    fixed or dropped is reported per file in one :class:`DatasetWarning`. Raises
    :class:`InvalidInputError` for a missing path, a format that does not match the files or
    an empty split.
    """
    root = Path(path)
    if not root.exists():
        raise InvalidInputError(f"dataset not found: {root}")
    if not split or not isinstance(split, str):
        raise InvalidInputError(f"split must be a name such as 'train' or 'val', got {split!r}")
    row = dataset_format(detect_format(root) if format is None else format)
    if not row.looks_like(root):
        raise InvalidInputError(
            f"{root} does not look like a {row.name} dataset (expected {row.layout})"
        )
    try:
        return row.read(root, split, class_names)
    except PermissionError as exc:
        raise InvalidInputError(f"{root}: cannot read dataset files ({exc})") from exc
