"""The command-line flags for a ``Detector``, defined once for the commands that open one."""
from __future__ import annotations

import argparse
from typing import Optional

from edgedet.errors import InvalidInputError
from edgedet.runtimes.formats import REGISTRY


def add_model_argument(p: argparse.ArgumentParser) -> None:
    suffixes = ", ".join(row.suffix for row in REGISTRY.values())
    p.add_argument("--model", required=True, help=f"model file ({suffixes})")


def add_detector_arguments(p: argparse.ArgumentParser, per: str, classes: bool) -> None:
    """``--score``, ``--iou``, ``--max-results``, (``--classes``), ``--threads``; ``per`` is
    what one detect() call sees ("image", "frame")."""
    p.add_argument("--score", type=float, default=0.3, help="score threshold (default 0.3)")
    p.add_argument("--iou", type=float, default=0.5, help="NMS IoU threshold (default 0.5)")
    p.add_argument("--max-results", type=int, default=100, help=f"max detections per {per}")
    if classes:
        p.add_argument("--classes", help="only report these class names, comma-separated")
    p.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")


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
                              categories=parse_classes(getattr(args, "classes", None)))
    return Detector(args.model, options=options)
