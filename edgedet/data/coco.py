"""COCO JSON reader and writer: ``annotations/instances_<split>*.json`` + an image folder."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Optional

from edgedet.data import coco_entries
from edgedet.data.cleaning import FixReport, finish_dataset, make_sample, strip_name
from edgedet.data.types import Dataset
from edgedet.data.writers import Record, write_image
from edgedet.errors import InvalidInputError
from edgedet.fileio import atomic_write_text


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
    missing = [k for k in ("images", "annotations", "categories") if not isinstance(data, dict) or k not in data]
    if missing:
        raise InvalidInputError(f"{path}: not a COCO instances file (missing {missing})")
    return data


def read_coco(root: Path, split: str, class_names: Optional[list[str]] = None) -> Dataset:
    """Read one split of a COCO-style dataset (``root`` is the folder or the JSON file).

    Malformed entries (a bbox that is not 4 finite numbers, a negative width or height, an
    image without a file_name, a category without a name, ...) are skipped and named in the
    load's one summary warning. A file_name that is absolute or climbs out of the dataset
    folder is followed (tool exports often hold absolute paths) but named in that warning,
    and the file must then be a readable image.
    """
    json_path = _find_json(root, split)
    data = _load_json(json_path)
    report = FixReport()
    cat_names = {cid: strip_name(name, report, json_path)
                 for cid, name in coco_entries.category_names(data["categories"], report, json_path).items()}
    names = list(class_names) if class_names else list(dict.fromkeys(cat_names.values()))
    index = {n: i for i, n in enumerate(names)}
    images = coco_entries.good_images(data["images"], report, json_path)
    image_ids = {image_id for image_id, *_ in images}
    per_image = defaultdict(list)
    for ann in data["annotations"] if isinstance(data["annotations"], list) else []:
        if not isinstance(ann, dict):
            report.add(json_path, "annotation entries that are not objects dropped", example=repr(ann)[:60])
            continue
        label = f"annotation id {ann.get('id')!r}"
        image_id, category_id = ann.get("image_id"), ann.get("category_id")
        if not isinstance(image_id, (int, str)) or image_id not in image_ids:
            report.add(json_path, f"annotation(s) of unknown image id dropped (e.g. {image_id!r})")
        elif ann.get("iscrowd", 0):
            report.add(json_path, "crowd annotation(s) ignored")
        elif not isinstance(category_id, (int, str)) or cat_names.get(category_id) not in index:
            report.add(json_path, f"box(es) of unknown category id {category_id!r} dropped")
        elif (problem := coco_entries.bbox_problem(ann.get("bbox"))) is not None:
            report.add(json_path, "annotation(s) with a bad bbox dropped", example=f"{label}: {problem}")
        else:
            per_image[image_id].append(ann)
    image_dir = _image_dir(root, json_path, split, images[0][1] if images else None)
    dataset_dir = json_path.parent.parent if json_path.parent.name == "annotations" else json_path.parent
    samples = []
    for image_id, file_name, width, height in images:
        if coco_entries.outside(dataset_dir, image_dir, file_name):
            report.add(json_path, f"file_name(s) outside the dataset folder {dataset_dir} followed",
                       example=f"image id {image_id!r}: {file_name!r}")
            width = height = 0  # read the header, so a file that is no image is dropped
        anns = per_image.get(image_id, [])
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]
        cids = [index[cat_names[a["category_id"]]] for a in anns]
        sample = make_sample(image_dir / file_name, boxes, cids, width, height, report, json_path)
        if sample is not None:
            samples.append(sample)
    dataset_root = root if root.is_dir() else json_path.parent
    return finish_dataset(Dataset(dataset_root.name, dataset_root, split, names, samples), report, "coco")


def write_coco(out: Path, split: str, names: list[str], records: list[Record]) -> None:
    """Write ``records`` as split ``split`` of a COCO dataset rooted at ``out``."""
    images, annotations = [], []
    for image_id, rec in enumerate(records, 1):
        h, w = rec.image.shape[:2]
        write_image(out / "images" / split / f"{rec.stem}.jpg", rec.image)
        images.append({"id": image_id, "file_name": f"{rec.stem}.jpg", "width": w, "height": h})
        for (x1, y1, x2, y2), cid in zip(rec.boxes.tolist(), rec.class_ids.tolist()):
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": cid + 1,
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
            })
    categories = [{"id": i + 1, "name": n, "supercategory": "shape"} for i, n in enumerate(names)]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    atomic_write_text(out / "annotations" / f"instances_{split}.json", json.dumps(doc))
