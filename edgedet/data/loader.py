"""``load_dataset``: one entry point over the COCO, VOC and YOLO readers, with auto-detection."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from edgedet.data.coco import looks_like_coco, read_coco
from edgedet.data.types import FORMATS, Dataset
from edgedet.data.voc import looks_like_voc, read_voc
from edgedet.data.yolo import looks_like_yolo, read_yolo
from edgedet.errors import InvalidInputError
from edgedet.fileio import PathLike

_READERS: dict[str, tuple[Callable[[Path], bool], Callable[..., Dataset]]] = {
    "coco": (looks_like_coco, read_coco),
    "voc": (looks_like_voc, read_voc),
    "yolo": (looks_like_yolo, read_yolo),
}

_LAYOUTS = {
    "coco": "annotations/instances_<split>.json + an image folder",
    "voc": "Annotations/*.xml, JPEGImages/, ImageSets/Main/<split>.txt",
    "yolo": "data.yaml with names, images/<split>/, labels/<split>/",
}


def detect_format(path: PathLike) -> str:
    """Name the format of a dataset folder, or raise saying which layouts were looked for."""
    root = Path(path)
    found = [fmt for fmt, (looks, _) in _READERS.items() if looks(root)]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidInputError(f"{root} matches several formats ({', '.join(found)}); pass --format")
    expected = "; ".join(f"{fmt}: {layout}" for fmt, layout in _LAYOUTS.items())
    raise InvalidInputError(f"cannot tell the format of {root}; expected one of: {expected}")


def load_dataset(path: PathLike, format: Optional[str] = None, split: str = "train",
                 class_names: Optional[list[str]] = None) -> Dataset:
    """Read split ``split`` of the dataset at ``path`` into a :class:`Dataset`.

    Args:
        path: dataset folder (or, for COCO, the JSON file; for YOLO, the data.yaml).
        format: "coco", "voc" or "yolo"; detected from the files when None.
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
    fmt = detect_format(root) if format is None else str(format).lower()
    if fmt not in _READERS:
        raise InvalidInputError(f"unknown dataset format {format!r}: expected one of {', '.join(FORMATS)}")
    looks, read = _READERS[fmt]
    if not looks(root):
        raise InvalidInputError(
            f"{root} does not look like a {fmt} dataset (expected {_LAYOUTS[fmt]})"
        )
    try:
        return read(root, split, class_names)
    except PermissionError as exc:
        raise InvalidInputError(f"{root}: cannot read dataset files ({exc})") from exc
