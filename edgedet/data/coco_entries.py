"""Checks on single COCO JSON entries: each bad entry is skipped and counted in the load's
:class:`~edgedet.data.cleaning.FixReport` with its id and field, never a traceback."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

from edgedet.data.cleaning import FixReport


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _hashable_id(entry: dict, key: str = "id") -> bool:
    return isinstance(entry.get(key), (int, str)) and not isinstance(entry.get(key), bool)


def category_names(categories: list, report: FixReport, source: Path) -> dict[Any, str]:
    """``{category id: raw name}`` of the well-formed categories, in id order."""
    names: dict[Any, str] = {}
    for cat in categories if isinstance(categories, list) else []:
        if not isinstance(cat, dict) or not _hashable_id(cat):
            report.add(source, "category entries without an id skipped", example=repr(cat)[:60])
        elif not isinstance(cat.get("name"), str) or not cat["name"].strip():
            report.add(source, "categories without a name skipped (their boxes are dropped)",
                       example=f"category id {cat['id']!r}: name {cat.get('name')!r}")
        else:
            names[cat["id"]] = cat["name"]
    # Id order decides the default class order; integer ids first, should strings be mixed in.
    return dict(sorted(names.items(), key=lambda kv: (isinstance(kv[0], str), kv[0])))


def _size(img: dict, key: str, report: FixReport, source: Path) -> int:
    """The image's declared width/height, or 0 (read from the file) if it is not a number."""
    value = img.get(key)
    if value is None:
        return 0
    if _is_number(value) and value > 0:
        return int(value)
    report.add(source, f"image(s) with a bad {key}, size read from the file instead",
               example=f"image id {img['id']!r}: {key} {value!r}")
    return 0


def good_images(images: list, report: FixReport, source: Path) -> list[tuple[Any, str, int, int]]:
    """``(id, file_name, width, height)`` of each usable image entry (size 0 = unknown)."""
    found = []
    for img in images if isinstance(images, list) else []:
        if not isinstance(img, dict) or not _hashable_id(img):
            report.add(source, "image entries without an id skipped", example=repr(img)[:60])
            continue
        name = img.get("file_name")
        if not isinstance(name, str) or not name.strip():
            report.add(source, "image entries without a file_name skipped",
                       example=f"image id {img['id']!r}: file_name {name!r}")
            continue
        found.append((img["id"], name, _size(img, "width", report, source),
                      _size(img, "height", report, source)))
    return found


def outside(dataset_dir: Path, image_dir: Path, file_name: str) -> bool:
    """True when ``file_name`` is absolute or climbs (``../..``) out of ``dataset_dir``."""
    if Path(file_name).is_absolute():
        return True
    return dataset_dir.resolve() not in (image_dir / file_name).resolve().parents


def bbox_problem(bbox: Any) -> Optional[str]:
    """Why ``bbox`` is not a usable COCO ``[x, y, width, height]``; None when it is."""
    if not isinstance(bbox, list) or len(bbox) != 4:
        return f"bbox must be 4 numbers [x, y, width, height], got {bbox!r}"[:120]
    if not all(_is_number(v) for v in bbox):
        return f"bbox must hold finite numbers, got {bbox!r}"[:120]
    if bbox[2] < 0 or bbox[3] < 0:
        return f"bbox has a negative {'width' if bbox[2] < 0 else 'height'}: {bbox!r}"
    return None
