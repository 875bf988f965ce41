"""Dataset readers: COCO, VOC and YOLO on small generated files, clean and broken."""
from __future__ import annotations

import json
import warnings

import cv2
import numpy as np
import pytest

from edgedet.data import DatasetWarning, detect_format, load_dataset
from edgedet.data.synth import CLASS_NAMES, generate_dataset
from edgedet.errors import InvalidInputError


@pytest.fixture(scope="module", params=["coco", "voc", "yolo"])
def synth(request, tmp_path_factory):
    fmt = request.param
    root = generate_dataset(tmp_path_factory.mktemp(fmt) / "ds", 10, format=fmt, seed=3,
                            image_size=(160, 128))
    return fmt, root


def test_same_samples_in_every_format(synth, tmp_path):
    fmt, root = synth
    reference = generate_dataset(tmp_path / "ref", 10, format="coco", seed=3, image_size=(160, 128))
    for split, count in (("train", 8), ("val", 2)):
        ds = load_dataset(root, split=split)
        ref = load_dataset(reference, "coco", split)
        assert detect_format(root) == fmt
        assert ds.class_names == CLASS_NAMES and len(ds) == count
        for a, b in zip(ds.samples, ref.samples):
            assert a.image_path.stem == b.image_path.stem
            assert (a.width, a.height) == (160, 128)
            assert a.boxes.dtype == np.float32 and a.class_ids.dtype == np.int64
            np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
            np.testing.assert_array_equal(a.class_ids, b.class_ids)


def test_synth_is_deterministic(tmp_path):
    a = load_dataset(generate_dataset(tmp_path / "a", 6, "yolo", seed=7), split="val")
    b = load_dataset(generate_dataset(tmp_path / "b", 6, "yolo", seed=7), split="val")
    c = load_dataset(generate_dataset(tmp_path / "c", 6, "yolo", seed=8), split="val")
    assert np.array_equal(cv2.imread(str(a.samples[0].image_path)), cv2.imread(str(b.samples[0].image_path)))
    np.testing.assert_array_equal(a.samples[0].boxes, b.samples[0].boxes)
    assert not np.array_equal(a.samples[0].boxes, c.samples[0].boxes) or \
        not np.array_equal(a.samples[0].class_ids, c.samples[0].class_ids)


def _write_image(path, w=100, h=80):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 50, np.uint8))


def _voc_object(name, box):
    x1, y1, x2, y2 = box
    return (f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
            f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")


def test_voc_messy_annotations(tmp_path):
    root = tmp_path / "voc"
    _write_image(root / "JPEGImages" / "a.jpg")
    objects = "".join([
        _voc_object(" cat ", (10, 10, 50, 40)),     # whitespace in the name
        _voc_object("dog", (-5, 20, 130, 70)),      # out of the image: clipped
        _voc_object("dog", (30, 30, 30, 60)),       # zero width: dropped
    ])
    (root / "Annotations").mkdir(parents=True)
    (root / "Annotations" / "a.xml").write_text(
        f"<annotation><filename>a.jpg</filename><size><width>100</width><height>80</height></size>{objects}</annotation>")
    (root / "Annotations" / "b.xml").write_text(
        f"<annotation><filename>b.jpg</filename>{_voc_object('cat', (1, 1, 9, 9))}</annotation>")
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\nb\n")
    with pytest.warns(DatasetWarning) as caught:
        ds = load_dataset(root, split="train")
    message = str(caught[0].message)
    assert "a.xml: 1 box(es) clipped to the image, 1 class name(s) stripped of whitespace, 1 degenerate box(es) dropped" in message
    assert "b.xml" in message and "image not found" in message and "b.jpg" in message
    assert ds.class_names == ["cat", "dog"] and len(ds) == 1
    np.testing.assert_allclose(ds.samples[0].boxes, [[10, 10, 50, 40], [0, 20, 100, 70]])


def test_coco_unknown_category_and_missing_image(tmp_path):
    root = tmp_path / "coco"
    _write_image(root / "images" / "train" / "x.jpg")
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": 100, "height": 80},
                   {"id": 2, "file_name": "gone.jpg", "width": 100, "height": 80}],
        "categories": [{"id": 7, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 10, 20, 20], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 99, "bbox": [10, 10, 20, 20], "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 7, "bbox": [10, 10, 20, 20], "iscrowd": 0},
        ],
    }
    (root / "annotations").mkdir()
    (root / "annotations" / "instances_train.json").write_text(json.dumps(doc))
    with pytest.warns(DatasetWarning) as caught:
        ds = load_dataset(root, "coco", "train")
    message = str(caught[0].message)
    assert "instances_train.json" in message and "unknown category id 99" in message
    assert "gone.jpg" in message
    assert len(ds) == 1 and ds.samples[0].boxes.tolist() == [[10, 10, 30, 30]]


def test_yolo_unknown_class_and_bad_lines(tmp_path):
    root = tmp_path / "yolo"
    _write_image(root / "images" / "val" / "p.png", 200, 100)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "val" / "p.txt").write_text("0 0.5 0.5 0.2 0.4\n5 0.5 0.5 0.1 0.1\nnot a line\n")
    (root / "data.yaml").write_text("names: {0: ' bird', 1: plane}\nval: images/val\n")
    with pytest.warns(DatasetWarning) as caught:
        ds = load_dataset(root, split="val")
    message = str(caught[0].message)
    assert "p.txt" in message and "unknown class id 5" in message and "malformed" in message
    assert ds.class_names == ["bird", "plane"]
    np.testing.assert_allclose(ds.samples[0].boxes, [[80, 30, 120, 70]], atol=1e-4)


def test_clean_dataset_loads_without_warning(tmp_path):
    root = generate_dataset(tmp_path / "ok", 4, "voc")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)
        load_dataset(root, split="train")


@pytest.mark.parametrize("fmt,split,expected", [
    ("voc", "train", "does not look like a voc dataset"),       # format does not match files
    ("coco", "test", "no COCO annotations for split 'test'"),   # missing split
    ("yolo", "train", "does not look like a yolo dataset"),
    ("pascal", "train", "unknown dataset format 'pascal'"),
])
def test_bad_format_or_split(tmp_path, fmt, split, expected):
    root = generate_dataset(tmp_path / "c", 4, "coco")
    with pytest.raises(InvalidInputError, match=expected):
        load_dataset(root, fmt, split)


def test_missing_path_and_undetectable_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="dataset not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="cannot tell the format"):
        load_dataset(tmp_path / "empty")


def test_empty_split_is_an_error(tmp_path):
    root = generate_dataset(tmp_path / "v", 4, "voc")
    (root / "ImageSets" / "Main" / "test.txt").write_text("")
    with pytest.raises(InvalidInputError, match="split 'test' .* has no usable images"):
        load_dataset(root, split="test")


def test_synth_command(tmp_path, capsys):
    from edgedet.cli import main

    out = tmp_path / "s"
    assert main(["synth", "--out", str(out), "--images", "5", "--format", "yolo", "--size", "96x64"]) == 0
    assert "train: 4 images" in capsys.readouterr().out
    assert load_dataset(out, split="val").samples[0].width == 96
    assert main(["synth", "--out", str(out), "--images", "5"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_every_registered_format_round_trips_and_every_cli_choice_is_the_registry(tmp_path):
    """Each row of the dataset-format registry writes what it recognises and reads back; the
    commands' --format choices are the registry's names (nothing typed twice)."""
    from edgedet.cli import build_parser
    from edgedet.data import detect_format, load_dataset
    from edgedet.data.formats import NAMES, REGISTRY
    from edgedet.data.synth import generate_dataset

    for name, row in REGISTRY.items():
        root = generate_dataset(tmp_path / name, 4, format=name, seed=1)
        assert detect_format(root) == name and row.looks_like(root)
        assert len(load_dataset(root, name, "train")) + len(load_dataset(root, name, "val")) == 4
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    for command in ("train", "eval", "synth"):
        fmt = next(a for a in sub[command]._actions if a.dest == "format")
        assert tuple(fmt.choices) == NAMES, command
