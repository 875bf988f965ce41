"""COCO JSON reader: ``annotations/instances_<split>*.json`` + an image folder."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Optional

from edgedet.data.report import FixReport, finish_dataset, make_sample, strip_name
from edgedet.data.types import Dataset
from edgedet.errors import InvalidInputError


def annotation_files(root: Path) -> list[Path]:
    """``instances_*.json`` files in ``root/annotations`` or ``root``."""
    return sorted(root.glob("annotations/instances_*.json")) + sorted(root.glob("instances_*.json"))


def looks_like_coco(root: Path) -> bool:
    """True for a JSON file or a folder holding ``instances_*.json``."""
    return root.suffix == ".json" or bool(annotation_files(root))


def _find_json(root: Path, split: str) -> Path:
    if root.suffix == ".json":
        return root
    found = [p for p in annotation_files(root) if p.stem[len("instances_"):].startswith(split)]
    if not found:
        have = [p.name for p in annotation_files(root)]
        raise InvalidInputError(
            f"{root}: no COCO annotations for split {split!r} (expected "
            f"annotations/instances_{split}.json); found: {have or 'none'}"
        )
    return found[0]


def _image_dir(root: Path, json_path: Path, split: str, first_file: Optional[str]) -> Path:
    base = json_path.parent.parent if json_path.parent.name == "annotations" else json_path.parent
    stem = json_path.stem[len("instances_"):]
    candidates = [base / "images" / stem, base / "images" / split, base / stem, base / split,
                  base / "images", base, root if root.is_dir() else base]
    for cand in candidates:
        if first_file is None or (cand / first_file).is_file():
            return cand
    return candidates[0]


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: not a readable COCO JSON file ({exc})") from exc
    missing = [k for k in ("images", "annotations", "categories") if k not in data]
    if not isinstance(data, dict) or missing:
        raise InvalidInputError(f"{path}: not a COCO instances file (missing {missing})")
    return data


def read_coco(root: Path, split: str, class_names: Optional[list[str]] = None) -> Dataset:
    """Read one split of a COCO-style dataset (``root`` is the folder or the JSON file)."""
    json_path = _find_json(root, split)
    data = _load_json(json_path)
    report = FixReport()
    categories = sorted(data["categories"], key=lambda c: c["id"])
    cat_names = {c["id"]: strip_name(c["name"], report, json_path) for c in categories}
    names = list(class_names) if class_names else list(dict.fromkeys(cat_names.values()))
    index = {n: i for i, n in enumerate(names)}
    per_image = defaultdict(list)
    image_ids = {img["id"] for img in data["images"]}
    for ann in data["annotations"]:
        if ann.get("image_id") not in image_ids:
            report.add(json_path, f"annotation(s) of unknown image id dropped (e.g. {ann.get('image_id')!r})")
        elif ann.get("iscrowd", 0):
            report.add(json_path, "crowd annotation(s) ignored")
        elif cat_names.get(ann.get("category_id")) not in index:
            report.add(json_path, f"box(es) of unknown category id {ann.get('category_id')!r} dropped")
        elif not isinstance(ann.get("bbox"), list) or len(ann["bbox"]) != 4:
            report.add(json_path, "annotation(s) without a 4-number bbox dropped")
        else:
            per_image[ann["image_id"]].append(ann)
    images = data["images"]
    image_dir = _image_dir(root, json_path, split, images[0]["file_name"] if images else None)
    samples = []
    for img in images:
        anns = per_image.get(img["id"], [])
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]
        cids = [index[cat_names[a["category_id"]]] for a in anns]
        sample = make_sample(image_dir / img["file_name"], boxes, cids, int(img.get("width") or 0),
                             int(img.get("height") or 0), report, json_path)
        if sample is not None:
            samples.append(sample)
    dataset_root = root if root.is_dir() else json_path.parent
    return finish_dataset(Dataset(dataset_root.name, dataset_root, split, names, samples), report, "coco")
