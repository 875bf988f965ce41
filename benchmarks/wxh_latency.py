"""Square against camera-shaped (WxH) inputs: detect() latency on a 1280x720 frame.

For each model, one random-weight 90-class checkpoint (the weights do not change the cost) is
converted at its square size and at the 16:9 size whose letterbox pads least (Lite0 320 ->
320x192, D0 512 -> 512x288), int8 calibrated on BCCD images, in every format; then all files
are timed in ONE interleaved pass (single thread, median of --runs detect() calls on the same
synthetic 1280x720 frame). Prints a table (square ms, WxH ms, ratio, padding share of the
input) and writes it with the JSON rows to --out.

    /usr/bin/time -f "%e s %M KB" python benchmarks/wxh_latency.py --out /tmp/wxh_latency
    python benchmarks/wxh_latency.py --out /tmp/wxh_latency --reuse   # time again, no conversion
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

from edgedet import configs
from edgedet.benchmarking.latency import measure_latency
from edgedet.benchmarking.machine import cpu_name
from edgedet.benchmarking.report import to_json
from edgedet.benchmarking.runner import BenchmarkPlan, benchmark_frame, convert_all
from edgedet.checkpoint import init_checkpoint
from edgedet.fileio import atomic_write_text
from edgedet.input_size import InputSize, camera_size, padding_share

BCCD = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "bccd"
FRAME_WIDTH, FRAME_HEIGHT = 1280, 720
NUM_CLASSES = 90


def table(rows, sizes: dict[str, tuple[InputSize, InputSize]]) -> str:
    """Markdown: one row per model x format x precision, square against WxH detect() medians."""
    median = {}
    for r in rows:
        median[(r.model, r.format, r.precision, r.input_size)] = (
            r.latency["total_ms"].median if r.ok else None)
    lines = ["| model | format | precision | square | ms | WxH | ms | WxH / square | padding square -> WxH |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (model, fmt, precision, size) in sorted(median):
        square, wxh = sizes[model]
        if size != str(square):
            continue
        a, b = median[(model, fmt, precision, str(square))], median.get((model, fmt, precision, str(wxh)))
        cell = lambda v: "failed" if v is None else f"{v:.2f}"  # noqa: E731
        ratio = f"{b / a:.2f}" if a and b else ""
        pads = (f"{padding_share(FRAME_WIDTH, FRAME_HEIGHT, square):.0%} -> "
                f"{padding_share(FRAME_WIDTH, FRAME_HEIGHT, wxh):.0%}")
        lines.append(f"| {model} | {fmt} | {precision} | {square} | {cell(a)} | {wxh} | {cell(b)} "
                     f"| {ratio} | {pads} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/edgedet_wxh_latency"))
    p.add_argument("--models", default="lite0,d0")
    p.add_argument("--formats", default="onnx,openvino,tflite")
    p.add_argument("--precisions", default="int8")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--calib-data", type=Path, default=BCCD)
    p.add_argument("--calib-size", type=int, default=200, help="calibration images per int8 file")
    p.add_argument("--reuse", action="store_true",
                   help="keep the checkpoints and files already in --out (convert once, time later)")
    args = p.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths, failed, sizes = [], [], {}
    for name in models:
        side = configs.get_config(name).input_size
        square = InputSize(side, side)
        sizes[name] = (square, camera_size(FRAME_WIDTH, FRAME_HEIGHT, square.width))
        weights = args.out / f"{name}_random.pt"
        if not (args.reuse and weights.is_file()):
            init_checkpoint(weights, name, [f"class{i}" for i in range(NUM_CLASSES)], seed=0)
        for size in sizes[name]:
            print(f"== converting {name} at {size}", file=sys.stderr, flush=True)
            plan = BenchmarkPlan(weights=weights, formats=args.formats.split(","),
                                 precisions=args.precisions.split(","), calib=args.calib_data,
                                 calib_size=args.calib_size, parity_report=False,
                                 out_dir=args.out / name, runs=args.runs, input_size=size,
                                 reuse=args.reuse)
            paths += convert_all(plan, failed)
    converted = time.perf_counter()
    print(f"== timing {len(paths)} files, interleaved", file=sys.stderr, flush=True)
    rows = measure_latency(paths, benchmark_frame(plan), runs=args.runs, warmup=5, threads=1)
    rows += failed
    header = (f"Measured {datetime.date.today()} on {cpu_name()}, 1 thread, median of {args.runs} "
              f"detect() calls per file, interleaved, on a synthetic {FRAME_WIDTH}x{FRAME_HEIGHT} "
              f"frame; {NUM_CLASSES} classes; int8 calibrated on {args.calib_size} images. "
              f"Conversions {(converted - start) / 60:.1f} min, timing "
              f"{(time.perf_counter() - converted) / 60:.1f} min; load average "
              f"{os.getloadavg()[0]:.1f} at the end.\nCommand: `python {' '.join(sys.argv)}`")
    text = f"{header}\n\n{table(rows, sizes)}\n"
    atomic_write_text(args.out / "table.md", text)
    atomic_write_text(args.out / "table.json", to_json(rows))
    print(text)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
