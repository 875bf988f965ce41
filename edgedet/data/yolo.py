"""YOLO txt reader and writer: ``data.yaml`` (names, split folders), ``images/<split>``, ``labels/<split>``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from edgedet.data.cleaning import FixReport, finish_dataset, image_size, make_sample, strip_name
from edgedet.data.types import IMAGE_SUFFIXES, Dataset
from edgedet.data.writers import Record, write_image
from edgedet.errors import InvalidInputError
from edgedet.fileio import atomic_write_text

YAML_NAMES = ("data.yaml", "dataset.yaml", "data.yml")


def find_yaml(root: Path) -> Optional[Path]:
    """The dataset's YAML: ``root`` itself or a data.yaml-like file in it."""
    if root.suffix in (".yaml", ".yml") and root.is_file():
        return root
    for name in YAML_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def looks_like_yolo(root: Path) -> bool:
    """True when ``root`` has a data.yaml (or is one)."""
    return find_yaml(root) is not None


def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"{path}: not a readable YAML file ({exc})") from exc
    if not isinstance(data, dict) or "names" not in data:
        raise InvalidInputError(f"{path}: a YOLO data.yaml needs a 'names' list")
    return data


def _names(data: dict, report: FixReport, source: Path) -> list[str]:
    names = data["names"]
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names, key=int)]
    return [strip_name(str(n), report, source) for n in names]


def _split_images(base: Path, data: dict, split: str, yaml_path: Path) -> list[Path]:
    entry = data.get(split, f"images/{split}")
    entries = entry if isinstance(entry, list) else [entry]
    images: list[Path] = []
    for item in entries:
        path = base / str(item)
        if path.is_dir():
            images += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file() and path.suffix == ".txt":
            images += [base / line.strip() for line in path.read_text().splitlines() if line.strip()]
        else:
            raise InvalidInputError(
                f"{yaml_path}: split {split!r} points to {path}, which is neither an image "
                "folder nor a .txt list of images"
            )
    return images


def _label_path(image: Path) -> Path:
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _read_labels(label: Path, num_classes: int, report: FixReport) -> tuple[np.ndarray, np.ndarray]:
    rows, cids = [], []
    try:
        text = label.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        report.add(label, "unreadable label file(s) skipped (image kept without boxes)",
                   example=str(exc)[:80])
        text = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            cls, cx, cy, w, h = int(float(fields[0])), *map(float, fields[1:5])
        except (ValueError, OverflowError):  # "inf" as a class id overflows int()
            report.add(label, "malformed line(s) dropped", example=f"line {lineno}: {line[:40]!r}")
            continue
        if len(fields) != 5:
            report.add(label, "malformed line(s) dropped")
            continue
        if not 0 <= cls < num_classes:
            report.add(label, f"box(es) of unknown class id {cls} dropped (line {lineno})")
            continue
        rows.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        cids.append(cls)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4), np.asarray(cids, dtype=np.int64)


def read_yolo(root: Path, split: str, class_names: Optional[list[str]] = None) -> Dataset:
    """Read one split of a YOLO-format dataset (``root`` is the folder or its data.yaml)."""
    yaml_path = find_yaml(root)
    if yaml_path is None:
        raise InvalidInputError(f"{root} does not look like a YOLO dataset: no data.yaml in it")
    data = _read_yaml(yaml_path)
    report = FixReport()
    base = (yaml_path.parent / str(data.get("path", ""))).resolve() if data.get("path") else yaml_path.parent
    names = _names(data, report, yaml_path)
    if class_names and list(class_names) != names:
        raise InvalidInputError(f"{yaml_path}: class names {names} differ from the expected {list(class_names)}")
    samples = []
    for image in _split_images(base, data, split, yaml_path):
        size = image_size(image) if image.is_file() else (0, 0)
        if size is None:
            report.add(image, "unreadable image dropped")
            continue
        label = _label_path(image)
        if label.is_file():
            boxes, cids = _read_labels(label, len(names), report)
        else:
            boxes, cids = np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
        scale = np.array([size[0], size[1]] * 2, dtype=np.float64)
        sample = make_sample(image, boxes * scale, cids, size[0], size[1], report,
                             label if label.is_file() else yaml_path)
        if sample is not None:
            samples.append(sample)
    root_dir = yaml_path.parent
    return finish_dataset(Dataset(root_dir.name, root_dir, split, names, samples), report, "yolo")


def write_yolo(out: Path, split: str, names: list[str], records: list[Record]) -> None:
    """Write ``records`` as split ``split`` of a YOLO dataset rooted at ``out``."""
    for rec in records:
        h, w = rec.image.shape[:2]
        write_image(out / "images" / split / f"{rec.stem}.jpg", rec.image)
        lines = "".join(
            f"{cid} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n"
            for (x1, y1, x2, y2), cid in zip(rec.boxes.tolist(), rec.class_ids.tolist())
        )
        atomic_write_text(out / "labels" / split / f"{rec.stem}.txt", lines)
    import yaml

    doc = {"path": ".", "names": list(names)}
    doc.update({s: f"images/{s}" for s in ("train", "val") if (out / "images" / s).is_dir()})
    atomic_write_text(out / "data.yaml", yaml.safe_dump(doc, sort_keys=False))
