"""Helpers shared by the training benchmarks: run a command loudly, summarize a run's CSV."""
from __future__ import annotations

import argparse
import csv
import shlex
import subprocess
import sys
import time
from pathlib import Path

EDGEDET = [sys.executable, "-m", "edgedet"]


def run(cmd: list[str]) -> float:
    """Print ``cmd`` as a shell line, run it (failing loudly), return its wall time in seconds."""
    print("$", shlex.join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def summarize_run(run_dir: Path, wall_seconds: float) -> None:
    """Print wall time, pure training time and throughput from ``results.csv``."""
    with (run_dir / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    train_seconds = sum(float(r["epoch_seconds"]) for r in rows)
    images_per_second = sum(float(r["images_per_second"]) for r in rows) / len(rows)
    best = max(rows, key=lambda r: float(r["val_map"] or 0))
    print(f"epochs: {len(rows)}; wall time {wall_seconds / 60:.1f} min (training steps "
          f"{train_seconds / 60:.1f} min, the rest is per-epoch validation and checkpoints); "
          f"{images_per_second:.1f} training images/s")
    print(f"best epoch {best['epoch']}: val mAP@[.5:.95] {float(best['val_map']):.4f}, "
          f"mAP@.5 {float(best['val_map50']):.4f}; log {run_dir / 'results.csv'}, plot {run_dir / 'results.png'}")


def training_parser(doc: str, imgsz: int, epochs: int, out: str) -> argparse.ArgumentParser:
    """Options both benchmarks share (defaults differ per benchmark)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--imgsz", type=int, default=imgsz)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=0.08)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; 1 is fastest on a busy machine")
    p.add_argument("--workers", type=int, default=1, help="data-loading processes")
    p.add_argument("--model", default="d0", help="d0-d2 or lite0-lite2")
    p.add_argument("--pretrained-backbone", action="store_true",
                   help="start a Lite model from its ImageNet backbone (lite-weights extra)")
    p.add_argument("--out", default=out)
    return p


def train_and_eval(data: str, fmt: str, args: argparse.Namespace, train_dir: Path) -> None:
    """Train ``args.model`` with the benchmark recipe (scale jitter 0.5-1.5), evaluate best.pt
    on val."""
    seconds = run(EDGEDET + [
        "train", "--data", data, "--format", fmt, "--model", args.model, "--imgsz", str(args.imgsz),
        "--epochs", str(args.epochs), "--batch", str(args.batch), "--lr", str(args.lr),
        "--scale", "0.5", "1.5", "--workers", str(args.workers), "--threads", str(args.threads),
        "--out", str(train_dir), "--force",
    ] + (["--pretrained-backbone"] if args.pretrained_backbone else []))
    run(EDGEDET + ["eval", "--model", str(train_dir / "best.pt"), "--data", data, "--format", fmt,
                   "--split", "val", "--threads", str(args.threads), "--no-progress"])
    summarize_run(train_dir, seconds)
