"""The dataset formats edgedet reads and writes: one row per format.

A row names the format, says how its layout is recognised, reads a split, writes one, and
describes the layout for error messages. ``load_dataset``, the synthetic generator and every
CLI ``--format`` choice loop over :data:`REGISTRY`; adding a format is its module plus a row.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from edgedet.data import coco, voc, yolo
from edgedet.data.types import Dataset
from edgedet.data.writers import Record
from edgedet.errors import InvalidInputError


@dataclass(frozen=True)
class DatasetFormat:
    """One dataset layout: how to recognise, read and write it."""

    name: str
    layout: str  # what the files look like, in words, for error messages
    looks_like: Callable[[Path], bool]
    read: Callable[[Path, str, Optional[list[str]]], Dataset]
    write: Callable[[Path, str, list[str], list[Record]], None]


REGISTRY: dict[str, DatasetFormat] = {row.name: row for row in (
    DatasetFormat("coco", "annotations/instances_<split>.json + an image folder",
                  coco.looks_like_coco, coco.read_coco, coco.write_coco),
    DatasetFormat("voc", "Annotations/*.xml, JPEGImages/, ImageSets/Main/<split>.txt",
                  voc.looks_like_voc, voc.read_voc, voc.write_voc),
    DatasetFormat("yolo", "data.yaml with names, images/<split>/, labels/<split>/",
                  yolo.looks_like_yolo, yolo.read_yolo, yolo.write_yolo),
)}
NAMES: tuple[str, ...] = tuple(REGISTRY)


def dataset_format(name: object) -> DatasetFormat:
    """The row for ``name`` (any case), or an error listing the known formats."""
    row = REGISTRY.get(str(name).lower())
    if row is None:
        raise InvalidInputError(f"unknown dataset format {name!r}: expected one of {', '.join(NAMES)}")
    return row


def layouts() -> str:
    """Every format's layout in one line, for "cannot tell the format" messages."""
    return "; ".join(f"{row.name}: {row.layout}" for row in REGISTRY.values())


def write_split(out: Path, fmt: str, split: str, names: list[str], records: list[Record]) -> None:
    """Write ``records`` as split ``split`` of a ``fmt`` dataset rooted at ``out``."""
    dataset_format(fmt).write(Path(out), split, names, records)
