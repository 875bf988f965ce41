"""EfficientDet-Lite0/1/2 against D0/1/2, per format and precision, in one run.

Random-weight checkpoints at each model's native size (int8 calibrated on BCCD images) are
converted to every format x precision; then every file is timed in ONE interleaved pass
(single thread, median of --runs detect() calls on a synthetic 1280x720 frame, so the
models share whatever load the machine has). Prints a pivot table (rows: format/precision,
columns: models) and writes it with the per-stage JSON rows to --out.

    python benchmarks/lite_vs_d.py --out /tmp/lite_vs_d [--models lite0,lite1,lite2,d0,d1,d2]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

from edgedet.benchmarking.latency import measure_latency
from edgedet.benchmarking.report import to_json
from edgedet.benchmarking.runner import BenchmarkPlan, benchmark_frame, convert_all
from edgedet.checkpoint import init_checkpoint
from edgedet.benchmarking.machine import cpu_name
from edgedet.fileio import atomic_write_text

BCCD = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "bccd"
BCCD_CLASSES = ["RBC", "WBC", "Platelets"]


def pivot(rows, models: list[str]) -> str:
    """Markdown: one row per format/precision, one column per model, detect() median ms
    (inference median in brackets)."""
    cells = {}
    for r in rows:
        if r.ok:
            lat = r.latency
            cells[(r.format, r.precision, r.model)] = (
                f"{lat['total_ms'].median:.1f} ({lat['inference_ms'].median:.1f})")
        else:
            cells[(r.format, r.precision, r.model)] = "failed"
    keys = sorted({(f, p) for f, p, _ in cells}, key=lambda k: (k[0], k[1] != "fp32", k[1]))
    lines = ["| format | precision | " + " | ".join(m for m in models) + " |",
             "|---|---|" + "---|" * len(models)]
    for fmt, precision in keys:
        values = [cells.get((fmt, precision, m), "") for m in models]
        lines.append(f"| {fmt} | {precision} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/edgedet_lite_vs_d"))
    p.add_argument("--models", default="lite0,lite1,lite2,d0,d1,d2")
    p.add_argument("--formats", default="onnx,openvino,tflite")
    p.add_argument("--precisions", default="fp32,int8")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--calib-data", type=Path, default=BCCD)
    p.add_argument("--calib-size", type=int, default=32, help="calibration images per int8 file")
    args = p.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths, failed = [], []
    for name in models:
        weights = args.out / f"{name}_random.pt"
        init_checkpoint(weights, name, BCCD_CLASSES, seed=0)
        print(f"== converting {name}", file=sys.stderr, flush=True)
        plan = BenchmarkPlan(weights=weights, formats=args.formats.split(","),
                             precisions=args.precisions.split(","), calib=args.calib_data,
                             calib_size=args.calib_size, parity_report=False,
                             out_dir=args.out / name, runs=args.runs)
        paths += convert_all(plan, failed)
    converted = time.perf_counter()
    print(f"== timing {len(paths)} files, interleaved", file=sys.stderr, flush=True)
    rows = measure_latency(paths, benchmark_frame(plan), runs=args.runs, warmup=3, threads=1)
    rows += failed
    header = (f"Measured {datetime.date.today()} on {cpu_name()}, 1 thread, median of {args.runs} "
              f"detect() calls per file, interleaved, on a synthetic 1280x720 frame; cell: "
              f"detect() ms (inference ms). Conversions {(converted - start) / 60:.1f} min, "
              f"timing {(time.perf_counter() - converted) / 60:.1f} min; load average "
              f"{os.getloadavg()[0]:.1f} at the end.\nCommand: `python {' '.join(sys.argv)}`")
    text = f"{header}\n\n{pivot(rows, models)}\n"
    atomic_write_text(args.out / "table.md", text)
    atomic_write_text(args.out / "table.json", to_json(rows))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
