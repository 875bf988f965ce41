"""Peak memory and wall time of `edgedet convert`, one process per target x precision.

Each conversion runs as its own `python -m edgedet convert` under `/usr/bin/time -f "%e %M"`
(wall seconds, peak RSS of the process), with its parity report unless --no-report, so the
numbers are what a user's command costs. Run an older checkout's converter with
``--edgedet-root`` (its code is put first on PYTHONPATH) for a before/after table. Example
(an imported 90-class D0 at 512, 200 calibration images)::

    edgedet import ../shared/fixtures/effdet/tf_efficientdet_d0.state_dict.pt --out /tmp/cm/d0_coco.pt
    python benchmarks/convert_memory.py --weights /tmp/cm/d0_coco.pt \\
        --calib ../shared/datasets/bccd/JPEGImages --calib-size 200 --out /tmp/cm/after
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SUFFIX = {"onnx": ".onnx", "openvino": ".xml", "tflite": ".tflite"}
ALL = ["onnx:fp32", "onnx:int8", "openvino:fp32", "openvino:fp16", "openvino:int8",
       "tflite:fp32", "tflite:int8"]


def measure(weights: Path, target: str, precision: str, out: Path, calib: str, calib_size: int,
            root: Path | None, report: bool) -> dict:
    """Run one conversion; returns wall seconds, peak RSS (MB), exit code and report lines."""
    path = out / f"{weights.stem}_{precision}{SUFFIX[target]}"
    cmd = [sys.executable, "-m", "edgedet", "convert", "--weights", str(weights), "--target", target,
           "--precision", precision, "--out", str(path), "--calib", calib,
           "--calib-size", str(calib_size), "--force"] + ([] if report else ["--no-report"])
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = f"{root}{os.pathsep}{env.get('PYTHONPATH', '')}"
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        done = subprocess.run(["/usr/bin/time", "-o", timing.name, "-f", "%e %M"] + cmd, env=env,
                              cwd=root or Path.cwd(), capture_output=True, text=True)
        fields = timing.read().split()
    seconds, kb = (float(fields[-2]), int(fields[-1])) if len(fields) >= 2 else (float("nan"), 0)
    lines = [ln.strip() for ln in (done.stdout + done.stderr).splitlines()
             if ln.strip().startswith(("SQNR", "detections"))]
    if done.returncode != 0:
        lines.append((done.stderr.strip().splitlines() or ["(no message)"])[-1])
    return {"target": target, "precision": precision, "seconds": seconds, "peak_mb": kb / 1024,
            "rc": done.returncode, "report": lines}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--calib", required=True, help="calibration image folder or dataset")
    p.add_argument("--calib-size", type=int, default=200)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--only", nargs="+", default=ALL, metavar="TARGET:PRECISION")
    p.add_argument("--edgedet-root", type=Path, help="run this checkout's edgedet instead")
    p.add_argument("--no-report", action="store_true", help="skip the parity reports")
    args = p.parse_args()

    from edgedet.benchmarking.machine import cpu_name

    args.out.mkdir(parents=True, exist_ok=True)
    root = args.edgedet_root.resolve() if args.edgedet_root else None
    print(f"{cpu_name()}; edgedet from {root or 'this environment'}; {args.weights}, "
          f"{args.calib_size} calibration images, parity report {'off' if args.no_report else 'on'}",
          flush=True)
    rows = []
    for item in args.only:
        target, precision = item.split(":")
        row = measure(args.weights.resolve(), target, precision, args.out.resolve(),
                      str(Path(args.calib).resolve()), args.calib_size, root, not args.no_report)
        rows.append(row)
        print(f"{target} {precision}: {row['seconds']:.0f} s, peak RSS {row['peak_mb']:.0f} MB, "
              f"exit {row['rc']}", flush=True)
        for line in row["report"]:
            print(f"    {line}", flush=True)
    print("\n| target | precision | wall s | peak RSS MB | exit |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['target']} | {r['precision']} | {r['seconds']:.0f} | {r['peak_mb']:.0f} | {r['rc']} |")
    return 0 if all(r["rc"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
