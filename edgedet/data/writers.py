"""Write labelled images in each format's usual layout (used by the synthetic generator)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import cv2
import numpy as np

from edgedet.fileio import atomic_write_bytes, atomic_write_text


@dataclass
class Record:
    """One image to write: BGR pixels and its boxes (x1, y1, x2, y2 pixels) and class ids."""

    stem: str
    image: np.ndarray
    boxes: np.ndarray
    class_ids: np.ndarray


def _write_image(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise OSError(f"could not encode {path}")
    atomic_write_bytes(path, data.tobytes())


def _coco(out: Path, split: str, names: list[str], records: list[Record]) -> None:
    images, annotations = [], []
    for image_id, rec in enumerate(records, 1):
        h, w = rec.image.shape[:2]
        _write_image(out / "images" / split / f"{rec.stem}.jpg", rec.image)
        images.append({"id": image_id, "file_name": f"{rec.stem}.jpg", "width": w, "height": h})
        for (x1, y1, x2, y2), cid in zip(rec.boxes.tolist(), rec.class_ids.tolist()):
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": cid + 1,
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
            })
    categories = [{"id": i + 1, "name": n, "supercategory": "shape"} for i, n in enumerate(names)]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    atomic_write_text(out / "annotations" / f"instances_{split}.json", json.dumps(doc))


def _voc_xml(rec: Record, names: list[str]) -> str:
    h, w = rec.image.shape[:2]
    objects = "".join(
        f"<object><name>{escape(names[cid])}</name><difficult>0</difficult><bndbox>"
        f"<xmin>{x1:.1f}</xmin><ymin>{y1:.1f}</ymin><xmax>{x2:.1f}</xmax><ymax>{y2:.1f}</ymax>"
        "</bndbox></object>"
        for (x1, y1, x2, y2), cid in zip(rec.boxes.tolist(), rec.class_ids.tolist())
    )
    return (f"<annotation><filename>{rec.stem}.jpg</filename><size><width>{w}</width>"
            f"<height>{h}</height><depth>3</depth></size>{objects}</annotation>\n")


def _voc(out: Path, split: str, names: list[str], records: list[Record]) -> None:
    for rec in records:
        _write_image(out / "JPEGImages" / f"{rec.stem}.jpg", rec.image)
        atomic_write_text(out / "Annotations" / f"{rec.stem}.xml", _voc_xml(rec, names))
    atomic_write_text(out / "ImageSets" / "Main" / f"{split}.txt",
                      "".join(f"{r.stem}\n" for r in records))
    atomic_write_text(out / "labels.txt", "".join(f"{n}\n" for n in names))


def _yolo(out: Path, split: str, names: list[str], records: list[Record]) -> None:
    for rec in records:
        h, w = rec.image.shape[:2]
        _write_image(out / "images" / split / f"{rec.stem}.jpg", rec.image)
        lines = "".join(
            f"{cid} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n"
            for (x1, y1, x2, y2), cid in zip(rec.boxes.tolist(), rec.class_ids.tolist())
        )
        atomic_write_text(out / "labels" / split / f"{rec.stem}.txt", lines)
    import yaml

    doc = {"path": ".", "names": list(names)}
    doc.update({s: f"images/{s}" for s in ("train", "val") if (out / "images" / s).is_dir()})
    atomic_write_text(out / "data.yaml", yaml.safe_dump(doc, sort_keys=False))


WRITERS = {"coco": _coco, "voc": _voc, "yolo": _yolo}


def write_split(out: Path, fmt: str, split: str, names: list[str], records: list[Record]) -> None:
    """Write ``records`` as split ``split`` of a ``fmt`` dataset rooted at ``out``."""
    WRITERS[fmt](Path(out), split, names, records)
