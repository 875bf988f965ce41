"""Benchmark: train D0 at 256 px on a generated shapes set; print command, wall time, mAP.

    python benchmarks/train_synthetic.py [--images 400] [--epochs 24] [--out runs/bench_synth]

Target: val mAP@.5 >= 0.8. Not a test: it takes most of an hour on a busy 2-core CPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

from _train_common import EDGEDET, run, train_and_eval, training_parser


def main() -> int:
    p = training_parser(__doc__, imgsz=256, epochs=24, out="runs/bench_synth")
    p.add_argument("--images", type=int, default=400, help="generated images, 80/20 train/val")
    args = p.parse_args()
    out = Path(args.out)
    data = out / "data"
    if not data.exists():
        run(EDGEDET + ["synth", "--out", str(data), "--images", str(args.images), "--format", "coco", "--seed", "0"])
    train_and_eval(str(data), "coco", args, out / "train")
    return 0


if __name__ == "__main__":
    sys.exit(main())
