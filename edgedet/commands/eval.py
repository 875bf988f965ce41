"""edgedet eval: COCO mAP of any model file (checkpoint or export) on a dataset split."""
from __future__ import annotations

import argparse
from pathlib import Path

from edgedet.commands._detector_flags import add_agnostic_argument
from edgedet.data.formats import NAMES as DATASET_FORMATS

HELP = "measure mAP@[.5:.95], mAP@.5 and per-class AP of a model file on a dataset split"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="checkpoint (.pt) or exported model file")
    p.add_argument("--data", required=True, help="dataset folder (or COCO json / YOLO data.yaml)")
    p.add_argument("--format", choices=DATASET_FORMATS, help="dataset format (default: detect)")
    p.add_argument("--split", default="val", help="split to evaluate (default val)")
    p.add_argument("--out", help="detections JSON to write "
                   "(default: <model>_<suffix>_<split>_detections.json beside the model)")
    p.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    add_agnostic_argument(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from edgedet.data import load_dataset
    from edgedet.evaluation import (EVAL_MAX_RESULTS, EVAL_SCORE_THRESHOLD, evaluate,
                                    format_report, save_detections)
    from edgedet.runtimes import Detector

    detector = Detector(args.model, score_threshold=EVAL_SCORE_THRESHOLD,
                        max_results=EVAL_MAX_RESULTS, num_threads=args.threads,
                        class_agnostic_nms=args.agnostic_nms)
    dataset = load_dataset(args.data, args.format, args.split)
    result = evaluate(detector, dataset, progress=not args.no_progress)
    model = Path(args.model)
    kind = model.suffix.lstrip(".") or "model"
    out = Path(args.out) if args.out else model.with_name(f"{model.stem}_{kind}_{args.split}_detections.json")
    save_detections(out, result, dataset)
    print(f"{model} on {dataset.root} [{args.split}]")
    print(format_report(result))
    print(f"detections: {out}")
    return 0
