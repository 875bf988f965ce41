"""Reproduce the README's results table.

Latency rows: random-weight D0, D1, D2 at their native sizes, each converted to every
format x precision (int8 calibrated on real BCCD images). Accuracy rows: the BCCD-trained D0
(pass its checkpoint, made by benchmarks/train_bccd.py) with mAP on the BCCD val split.
Everything single-thread, measured in this one run. Prints markdown; writes JSON and a PNG.

    python benchmarks/readme_table.py --out /tmp/readme_table \
        [--bccd-weights runs/bccd/best.pt] [--models d0,d1,d2] [--runs 30]
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from edgedet.benchmarking.report import save_plot, to_json, to_markdown
from edgedet.benchmarking.runner import BenchmarkPlan, run_benchmark
from edgedet.checkpoint import init_checkpoint
from edgedet.benchmarking.machine import cpu_name
from edgedet.fileio import atomic_write_text

BCCD = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "bccd"
BCCD_CLASSES = ["RBC", "WBC", "Platelets"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/edgedet_readme_table"))
    p.add_argument("--models", default="d0,d1,d2")
    p.add_argument("--formats", default="onnx,openvino,tflite")
    p.add_argument("--precisions", default="fp32,int8")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--calib-data", type=Path, default=BCCD)
    p.add_argument("--calib-size", type=int, default=32, help="calibration images per int8 file")
    p.add_argument("--bccd-weights", type=Path, help="BCCD-trained D0 checkpoint (adds mAP rows)")
    args = p.parse_args()
    formats, precisions = args.formats.split(","), args.precisions.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sections = []
    all_rows = []
    for name in args.models.split(","):
        weights = args.out / f"{name}_random.pt"
        init_checkpoint(weights, name, BCCD_CLASSES, seed=0)
        print(f"== {name}: random weights, latency only", file=sys.stderr)
        rows = run_benchmark(BenchmarkPlan(weights=weights, formats=["torch", *formats],
                                           precisions=precisions, calib=args.calib_data,
                                           calib_size=args.calib_size, parity_report=False,
                                           out_dir=args.out / name, runs=args.runs))
        sections.append((f"{name.upper()} (random weights, latency only)", rows))
        all_rows += rows
    if args.bccd_weights:
        print("== BCCD-trained D0: latency and mAP on BCCD val", file=sys.stderr)
        rows = run_benchmark(BenchmarkPlan(weights=args.bccd_weights, formats=["torch", *formats],
                                           precisions=precisions, calib=args.calib_data,
                                           calib_size=args.calib_size, parity_report=False,
                                           out_dir=args.out / "bccd", data=args.calib_data,
                                           data_format="voc", split="val", runs=args.runs))
        sections.append(("D0 trained on BCCD (mAP on BCCD val, 87 images)", rows))
        all_rows += rows
    header = (f"Measured {datetime.date.today()} on {cpu_name()}, 1 thread, median of "
              f"{args.runs} detect() calls after warm-up (stage columns are medians in ms) on a "
              f"1280x720 frame for random weights and the first BCCD val image (640x480) "
              f"for the trained model; "
              f"total wall time {(time.perf_counter() - start) / 60:.1f} min.\n"
              f"Command: `python {' '.join(sys.argv)}`")
    body = "\n\n".join(f"**{title}**\n\n{to_markdown(rows)}" for title, rows in sections)
    text = f"{header}\n\n{body}\n"
    atomic_write_text(args.out / "table.md", text)
    atomic_write_text(args.out / "table.json", to_json(all_rows))
    save_plot(all_rows, args.out / "latency.png", title="edgedet single-thread latency")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
