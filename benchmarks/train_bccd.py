"""Benchmark: train D0 (or --model) on BCCD (train split), evaluate on val; per-class AP, time, images/s.

    python benchmarks/train_bccd.py [--data ../shared/datasets/bccd] [--imgsz 256] [--epochs 20] [--model d0]
        [--threads 1] [--workers 1] [--pretrained-backbone]

The trained checkpoint lands in --out (default runs/bench_bccd, ignored by git); rerun to recreate it.
"""
from __future__ import annotations

import sys
from pathlib import Path

from _train_common import train_and_eval, training_parser


def main() -> int:
    p = training_parser(__doc__, imgsz=256, epochs=20, out="runs/bench_bccd")
    p.add_argument("--data", default="../shared/datasets/bccd")
    args = p.parse_args()
    train_and_eval(args.data, "voc", args, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
