"""Pascal VOC reader: ``Annotations/*.xml``, ``JPEGImages/``, ``ImageSets/Main/<split>.txt``."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

from edgedet.data.report import FixReport, finish_dataset, make_sample, strip_name
from edgedet.data.types import IMAGE_SUFFIXES, Dataset
from edgedet.errors import InvalidInputError

CLASS_LIST_FILES = ("labels.txt", "classes.txt")


def looks_like_voc(root: Path) -> bool:
    """True for a folder with ``Annotations/`` and ``JPEGImages/``."""
    return (root / "Annotations").is_dir() and (root / "JPEGImages").is_dir()


def _parse(xml_path: Path) -> ET.Element:
    try:
        return ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise InvalidInputError(f"{xml_path}: not a readable VOC annotation ({exc})") from exc


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


def _class_names(root: Path, annotations: list[Path]) -> list[str]:
    for fname in CLASS_LIST_FILES:
        if (root / fname).is_file():
            names = [n.strip() for n in (root / fname).read_text().splitlines() if n.strip()]
            if names:
                return names
    # No class list: every name used anywhere in the dataset, so all splits agree.
    scratch = FixReport()
    return sorted({name for xml in annotations for name, _ in _objects(_parse(xml), xml, scratch)})


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
    all_xml = sorted((root / "Annotations").glob("*.xml"))
    names = list(class_names) if class_names else _class_names(root, all_xml)
    index = {n: i for i, n in enumerate(names)}
    samples = []
    for image_id in ids:
        xml_path = root / "Annotations" / f"{image_id}.xml"
        if not xml_path.is_file():
            report.add(split_file, f"listed image(s) without an annotation dropped: {xml_path.name}")
            continue
        el = _parse(xml_path)
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
