"""Malformed dataset entries are skipped and named in the load's warning, never a traceback."""
from __future__ import annotations

import json
import re
import warnings

import cv2
import numpy as np
import pytest

from edgedet.data import load_dataset
from edgedet.data.cleaning import DatasetWarning

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

GOOD_ANNOTATION = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]}


def _coco(tmp_path, images=None, annotations=(), categories=None):
    root = tmp_path / "coco"
    (root / "images" / "train").mkdir(parents=True)
    (root / "annotations").mkdir()
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(root / "images" / "train" / name), np.full((80, 100, 3), 50, np.uint8))
    (root / "images" / "train" / "empty.jpg").write_bytes(b"")
    doc = {"images": images or [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80},
                                {"id": 2, "file_name": "b.jpg", "width": 100, "height": 80}],
           "categories": categories or [{"id": 1, "name": "cell"}],
           "annotations": [GOOD_ANNOTATION, *annotations]}
    (root / "annotations" / "instances_train.json").write_text(json.dumps(doc))
    return root


def _load(root, fmt=None, split="train"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset(root, fmt, split)
    messages = [str(w.message) for w in caught if issubclass(w.category, DatasetWarning)]
    assert len(messages) == 1, messages
    return ds, messages[0]


def _image2(**fields):
    return [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}, {"id": 2, **fields}]


@pytest.mark.parametrize("case, kwargs, message, samples", [
    ("bbox null", {"annotations": [{"id": 7, "image_id": 2, "category_id": 1, "bbox": None}]},
     "annotation id 7: bbox must be 4 numbers", 2),
    ("string in bbox", {"annotations": [{"id": 8, "image_id": 2, "category_id": 1, "bbox": [1, "a", 3, 4]}]},
     r"annotation id 8: bbox must hold finite numbers, got \[1, 'a', 3, 4\]", 2),
    ("negative width", {"annotations": [{"id": 9, "image_id": 2, "category_id": 1, "bbox": [50, 10, -20, 20]}]},
     "annotation id 9: bbox has a negative width", 2),
    ("no file_name", {"images": _image2(width=100, height=80)},
     "image entries without a file_name skipped .image id 2: file_name None", 1),
    ("category without a name", {"categories": [{"id": 1, "name": "cell"}, {"id": 2}]},
     "categories without a name skipped .* .category id 2: name None", 2),
    ("width not a number", {"images": _image2(file_name="b.jpg", width="abc", height=80)},
     "bad width, size read from the file instead .image id 2: width 'abc'", 2),
    ("zero-byte image", {"images": _image2(file_name="empty.jpg", width=100, height=80)},
     r"1 sample\(s\) dropped, empty \(0-byte\) image", 1),
    ("absolute file_name", {"images": _image2(file_name="/etc/hostname", width=100, height=80)},
     "outside the dataset folder .* followed .image id 2: '/etc/hostname'", 1),
    ("file_name climbing out", {"images": _image2(file_name="../../../../../../../../etc/hostname")},
     "outside the dataset folder .* followed .image id 2: '../../", 1),
])
def test_malformed_coco_entries_are_named_and_skipped(tmp_path, case, kwargs, message, samples):
    ds, warning = _load(_coco(tmp_path, **kwargs), "coco")
    assert re.search(message, warning), warning
    assert len(ds) == samples
    assert ds.samples[0].boxes.tolist() == [[10, 10, 30, 30]]  # the good entry survives
    if case == "negative width":  # dropped, not "reordered" into another box
        assert ds.samples[1].boxes.shape == (0, 4)


def test_coco_file_name_inside_the_dataset_is_not_flagged(tmp_path):
    root = _coco(tmp_path, images=_image2(file_name="../train/b.jpg", width=100, height=80))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)
        assert len(load_dataset(root, "coco", "train")) == 2


def test_coco_top_level_not_an_object(tmp_path):
    root = _coco(tmp_path)
    (root / "annotations" / "instances_train.json").write_text("42")
    with pytest.raises(Exception, match="not a COCO instances file"):
        load_dataset(root, "coco", "train")


def _voc(tmp_path):
    root = tmp_path / "voc"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "Annotations").mkdir()
    (root / "ImageSets" / "Main").mkdir(parents=True)
    for name in ("a", "b"):
        cv2.imwrite(str(root / "JPEGImages" / f"{name}.jpg"), np.full((80, 100, 3), 50, np.uint8))
        (root / "Annotations" / f"{name}.xml").write_text(
            f"<annotation><filename>{name}.jpg</filename><size><width>100</width><height>80</height>"
            "</size><object><name>cell</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax>"
            "<ymax>20</ymax></bndbox></object></annotation>")
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\nb\n")
    return root


@pytest.mark.parametrize("broken", ["b.xml", "orphan.xml"])  # in the split / in no split
def test_malformed_voc_xml_is_reported_not_fatal(tmp_path, broken):
    root = _voc(tmp_path)
    (root / "Annotations" / broken).write_text("<annotation><object>")
    ds, warning = _load(root, "voc")
    assert f"{broken}: 1 unreadable annotation file(s) skipped" in warning
    assert len(ds) == (1 if broken == "b.xml" else 2) and ds.class_names == ["cell"]


def test_yolo_unreadable_label_and_infinite_class(tmp_path):
    root = tmp_path / "yolo"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    for name in ("p", "q"):
        cv2.imwrite(str(root / "images" / "train" / f"{name}.png"), np.full((100, 200, 3), 50, np.uint8))
    (root / "labels" / "train" / "p.txt").write_text("0 0.5 0.5 0.2 0.4\ninf 0.5 0.5 0.1 0.1\n")
    (root / "labels" / "train" / "q.txt").write_bytes(b"\xff\xfe\x00 not utf-8")
    (root / "data.yaml").write_text("names: [bird]\ntrain: images/train\n")
    ds, warning = _load(root, "yolo")
    assert "p.txt: 1 malformed line(s) dropped (line 2: 'inf 0.5 0.5 0.1 0.1')" in warning
    assert "q.txt: 1 unreadable label file(s) skipped" in warning
    assert len(ds) == 2 and len(ds.samples[0].boxes) == 1
