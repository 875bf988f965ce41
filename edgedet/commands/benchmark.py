"""edgedet benchmark: single-thread latency, size and mAP of model files, side by side."""
from __future__ import annotations

import argparse
from pathlib import Path

from edgedet.commands._detector_flags import add_agnostic_argument
from edgedet.commands._sizes import add_imgsz_argument
from edgedet.data.formats import NAMES as DATASET_FORMATS
from edgedet.runtimes.formats import FORMATS, PRECISIONS

HELP = "measure latency (and mAP) of model files side by side"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="*", type=Path, metavar="MODEL", help="model files to measure")
    p.add_argument("--weights", type=Path, help="checkpoint to convert and measure")
    p.add_argument("--formats", default="onnx", help=f"with --weights: {','.join(FORMATS)}")
    p.add_argument("--precisions", default="fp32", help=f"with --weights: {','.join(PRECISIONS)}")
    p.add_argument("--calib", type=Path, help="calibration images/dataset for int8 (default: --data)")
    p.add_argument("--calib-size", type=int, default=200, help="most calibration images (default 200)")
    add_imgsz_argument(p, "with --weights: convert at this size, e.g. 320x192 for 16:9 frames "
                          "(default: the checkpoint's)")
    p.add_argument("--no-report", action="store_true", help="skip the parity report of each conversion")
    p.add_argument("--out", type=Path, help="folder for converted files and reports")
    p.add_argument("--data", type=Path, help="labelled dataset: adds mAP columns")
    p.add_argument("--format", dest="data_format",
                   help=f"dataset format: {', '.join(DATASET_FORMATS)} (default: detect)")
    p.add_argument("--split", default="val", help="dataset split for mAP (default val)")
    p.add_argument("--runs", type=int, default=50, help="timed runs per model (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    add_agnostic_argument(p)
    p.add_argument("--image", type=Path, help="frame to time on (default: a dataset image or a 1280x720 synthetic frame)")
    p.add_argument("--json", type=Path, help="write the results as JSON")
    p.add_argument("--md", type=Path, help="write the table as markdown")
    p.add_argument("--plot", type=Path, help="write a PNG (latency and mAP per file)")
    p.add_argument("--force", action="store_true", help="overwrite existing --json/--md/--plot files")


def _split(text: str) -> list[str]:
    return [t.strip().lower() for t in text.split(",") if t.strip()]


def run(args: argparse.Namespace) -> int:
    from edgedet.benchmarking.report import save_plot, to_json, to_markdown, to_table
    from edgedet.benchmarking.runner import BenchmarkPlan, run_benchmark
    from edgedet.fileio import atomic_write_text, refuse_existing

    for option, path in (("--json", args.json), ("--md", args.md), ("--plot", args.plot)):
        if path:  # before minutes of measuring, not after
            refuse_existing(path, getattr(args, "force", False), f"--force to overwrite it ({option})")
    plan = BenchmarkPlan(
        models=list(args.models), weights=args.weights, formats=_split(args.formats),
        precisions=_split(args.precisions), calib=args.calib or args.data,
        calib_size=args.calib_size, input_size=args.imgsz, parity_report=not args.no_report, out_dir=args.out,
        data=args.data, data_format=args.data_format, split=args.split, runs=args.runs,
        warmup=args.warmup, threads=args.threads, image=args.image,
        class_agnostic_nms=args.agnostic_nms,
        show_report=lambda report: print(report.format()),
    )
    rows = run_benchmark(plan)
    from edgedet.benchmarking.machine import cpu_name

    print(f"CPU: {cpu_name()}; threads: {args.threads}; {args.runs} runs after {args.warmup} warm-up; "
          "stage columns are medians in ms")
    print(to_table(rows))
    if args.json:
        atomic_write_text(args.json, to_json(rows))
    if args.md:
        atomic_write_text(args.md, to_markdown(rows) + "\n")
    if args.plot:
        save_plot(rows, args.plot, title=f"edgedet benchmark ({args.threads} thread)")
    for path in (args.json, args.md, args.plot):
        if path:
            print(f"wrote {path}")
    return 0 if all(r.ok for r in rows) else 1
