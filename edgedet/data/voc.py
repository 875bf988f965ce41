"""Pascal VOC reader and writer: ``Annotations/*.xml``, ``JPEGImages/``, ``ImageSets/Main/<split>.txt``."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape

from edgedet.data.cleaning import FixReport, finish_dataset, make_sample, strip_name
from edgedet.data.types import IMAGE_SUFFIXES, Dataset
from edgedet.data.writers import Record, write_image
from edgedet.errors import InvalidInputError
from edgedet.fileio import atomic_write_text

CLASS_LIST_FILES = ("labels.txt", "classes.txt")


def looks_like_voc(root: Path) -> bool:
    """True for a folder with ``Annotations/`` and ``JPEGImages/``."""
    return (root / "Annotations").is_dir() and (root / "JPEGImages").is_dir()


def _parse_all(xml_paths: list[Path], report: FixReport) -> dict[Path, ET.Element]:
    """Parsed annotations by path; an unreadable one is reported (once) and left out."""
    parsed = {}
    for xml_path in xml_paths:
        try:
            parsed[xml_path] = ET.parse(xml_path).getroot()
        except (ET.ParseError, OSError) as exc:
            report.add(xml_path, "unreadable annotation file(s) skipped", example=str(exc)[:80])
    return parsed


def _objects(root_el: ET.Element, xml_path: Path, report: FixReport):
    """Yield (class name, [x1, y1, x2, y2]) of each well-formed <object>."""
    for obj in root_el.iter("object"):
        name = obj.findtext("name")
        box = obj.find("bndbox")
        try:
            coords = [float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
        except (AttributeError, TypeError, ValueError):
            report.add(xml_path, "object(s) without a numeric <bndbox> dropped")
            continue
        if name is None or not name.strip():
            report.add(xml_path, "object(s) without a <name> dropped")
            continue
        yield strip_name(name, report, xml_path), coords


def _class_names(root: Path, annotations: dict[Path, ET.Element]) -> list[str]:
    for fname in CLASS_LIST_FILES:
        if (root / fname).is_file():
            names = [n.strip() for n in (root / fname).read_text().splitlines() if n.strip()]
            if names:
                return names
    # No class list: every name used anywhere in the dataset, so all splits agree.
    scratch = FixReport()
    return sorted({name for xml, el in annotations.items() for name, _ in _objects(el, xml, scratch)})


def _image_path(root: Path, root_el: ET.Element, image_id: str) -> Path:
    images = root / "JPEGImages"
    filename = (root_el.findtext("filename") or "").strip()
    if filename and (images / filename).is_file():
        return images / filename
    for suffix in IMAGE_SUFFIXES:
        if (images / (image_id + suffix)).is_file():
            return images / (image_id + suffix)
    return images / (filename or image_id + ".jpg")


def _int_or_zero(text: Optional[str]) -> int:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return 0


def read_voc(root: Path, split: str, class_names: Optional[list[str]] = None) -> Dataset:
    """Read one split of a Pascal VOC folder."""
    if not looks_like_voc(root):
        raise InvalidInputError(
            f"{root} does not look like a Pascal VOC dataset: expected Annotations/ and "
            "JPEGImages/ folders in it"
        )
    split_file = root / "ImageSets" / "Main" / f"{split}.txt"
    if not split_file.is_file():
        have = sorted(p.stem for p in (root / "ImageSets" / "Main").glob("*.txt"))
        raise InvalidInputError(
            f"{root}: no split {split!r} (expected {split_file}); splits present: {have or 'none'}"
        )
    ids = [line.split()[0] for line in split_file.read_text().splitlines() if line.strip()]
    report = FixReport()
    listed = [root / "Annotations" / f"{image_id}.xml" for image_id in ids]
    # Without a class list every XML is read (class names come from all of them); a broken
    # one is reported and skipped, whether or not it is in this split.
    parsed = _parse_all(sorted((root / "Annotations").glob("*.xml")) if not class_names else
                        [p for p in listed if p.is_file()], report)
    names = list(class_names) if class_names else _class_names(root, parsed)
    index = {n: i for i, n in enumerate(names)}
    samples = []
    for image_id in ids:
        xml_path = root / "Annotations" / f"{image_id}.xml"
        if not xml_path.is_file():
            report.add(split_file, f"listed image(s) without an annotation dropped: {xml_path.name}")
            continue
        el = parsed.get(xml_path)
        if el is None:
            continue  # reported when parsed
        boxes, cids = [], []
        for name, coords in _objects(el, xml_path, report):
            if name not in index:
                report.add(xml_path, f"box(es) of unknown class {name!r} dropped")
                continue
            boxes.append(coords)
            cids.append(index[name])
        size = el.find("size")
        width = _int_or_zero(size.findtext("width")) if size is not None else 0
        height = _int_or_zero(size.findtext("height")) if size is not None else 0
        sample = make_sample(_image_path(root, el, image_id), boxes, cids, width, height,
                             report, xml_path)
        if sample is not None:
            samples.append(sample)
    return finish_dataset(Dataset(root.name, root, split, names, samples), report, "voc")


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


def write_voc(out: Path, split: str, names: list[str], records: list[Record]) -> None:
    """Write ``records`` as split ``split`` of a VOC dataset rooted at ``out``."""
    for rec in records:
        write_image(out / "JPEGImages" / f"{rec.stem}.jpg", rec.image)
        atomic_write_text(out / "Annotations" / f"{rec.stem}.xml", _voc_xml(rec, names))
    atomic_write_text(out / "ImageSets" / "Main" / f"{split}.txt",
                      "".join(f"{r.stem}\n" for r in records))
    atomic_write_text(out / "labels.txt", "".join(f"{n}\n" for n in names))
