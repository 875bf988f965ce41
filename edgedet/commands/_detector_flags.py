"""The command-line flags for a ``Detector``, defined once for the commands that open one."""
from __future__ import annotations

import argparse
from typing import Optional

from edgedet.errors import InvalidInputError
from edgedet.runtimes.formats import REGISTRY
from edgedet.runtimes.options import DetectorOptions


def add_model_argument(p: argparse.ArgumentParser) -> None:
    suffixes = ", ".join(row.suffix for row in REGISTRY.values())
    p.add_argument("--model", required=True, help=f"model file ({suffixes})")


def add_detector_arguments(p: argparse.ArgumentParser, per: str, classes: bool) -> None:
    """``--score``, ``--iou``, ``--max-results``, (``--classes``), ``--threads``,
    ``--agnostic-nms``, defaults from ``DetectorOptions``; ``per`` is what one detect() call
    sees ("image", "frame")."""
    default = DetectorOptions()
    p.add_argument("--score", type=float, default=default.score_threshold,
                   help=f"score threshold (default {default.score_threshold})")
    p.add_argument("--iou", type=float, default=default.iou_threshold,
                   help=f"NMS IoU threshold (default {default.iou_threshold})")
    p.add_argument("--max-results", type=int, default=default.max_results,
                   help=f"max detections per {per} (default {default.max_results})")
    if classes:
        p.add_argument("--classes", help="only report these class names, comma-separated")
    p.add_argument("--threads", type=int, default=default.num_threads,
                   help=f"inference threads (default {default.num_threads})")
    add_agnostic_argument(p)


def add_agnostic_argument(p: argparse.ArgumentParser) -> None:
    """``--agnostic-nms``: one NMS over all classes (one label per object)."""
    p.add_argument("--agnostic-nms", action="store_true",
                   help="NMS across classes: an overlapping box of another class is dropped "
                        "too, so each object keeps one label (default: NMS per class)")


def parse_classes(text: Optional[str]) -> Optional[list]:
    """``"car,person"`` -> ``["car", "person"]``; ``None`` means every class."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidInputError(f"--classes needs at least one class name, got {text!r}")
    return names


def open_detector(args: argparse.Namespace):
    """The ``Detector`` that the flags above (and ``--model``) describe."""
    from edgedet.runtimes import Detector, DetectorOptions

    options = DetectorOptions(score_threshold=args.score, iou_threshold=args.iou,
                              max_results=args.max_results, num_threads=args.threads,
                              categories=parse_classes(getattr(args, "classes", None)),
                              class_agnostic_nms=args.agnostic_nms)
    return Detector(args.model, options=options)
