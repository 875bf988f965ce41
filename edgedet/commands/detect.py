"""edgedet detect: run a model on images; print, draw and/or emit JSON."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edgedet.commands._detector_flags import add_detector_arguments, add_model_argument, open_detector

HELP = "run a model on images: print, draw and/or emit JSON detections"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image file(s)")
    p.add_argument("--save", help="annotated output: a file for one image, a folder for several")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    add_detector_arguments(p, per="image", classes=False)
    p.add_argument("--force", action="store_true", help="overwrite existing --save files")


def _save_path(save: str, image: Path, many: bool) -> Path:
    if many or Path(save).is_dir():
        return Path(save) / f"{image.stem}_det.jpg"
    return Path(save)


def _check_saves(args: argparse.Namespace, many: bool) -> None:
    """Before any work: --save must not replace an input, two images must not share an
    output, and existing files need --force."""
    from edgedet.errors import InvalidInputError

    if not args.save:
        return
    targets = [_save_path(args.save, Path(name), many) for name in args.images]
    inputs = {Path(name).resolve() for name in args.images}
    seen: dict[Path, str] = {}
    for name, target in zip(args.images, targets):
        if target.resolve() in inputs:
            raise InvalidInputError(f"--save {target} would overwrite the input image {target}")
        if target in seen:
            raise InvalidInputError(f"{seen[target]} and {name} would both be saved as {target}")
        seen[target] = name
    existing = [str(t) for t in targets if t.exists()]
    if existing and not args.force:
        raise InvalidInputError(f"--save: {', '.join(existing[:3])} already exist(s); pass --force "
                                "to overwrite")


def run(args: argparse.Namespace) -> int:
    import cv2

    from edgedet.fileio import atomic_write_image
    many = len(args.images) > 1
    _check_saves(args, many)
    detector = open_detector(args)
    failures = 0
    for name in args.images:
        path = Path(name)
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
        if frame is None:
            reason = "not found" if not path.exists() else "not a readable image"
            print(f"edgedet detect: {path}: {reason}; skipped", file=sys.stderr)
            failures += 1
            continue
        detections = detector.detect(frame)
        t = detector.timings
        if args.json:
            print(json.dumps({"image": str(path), "width": frame.shape[1], "height": frame.shape[0],
                              "detections": detections.to_list(),
                              "timings_ms": {k: round(v, 2) for k, v in t.items()}}))
        else:
            print(f"{path}: {len(detections)} detections  (preprocess {t['preprocess_ms']:.1f} ms, "
                  f"inference {t['inference_ms']:.1f} ms, postprocess {t['postprocess_ms']:.1f} ms)")
            for d in detections:
                box = ", ".join(f"{v:.0f}" for v in d.box)
                print(f"  {d.label:<16} {d.score:.2f}  [{box}]")
        if args.save:
            out = _save_path(args.save, path, many)
            atomic_write_image(out, detections.draw(frame))
            if not args.json:
                print(f"  saved {out}")
    return 1 if failures else 0
