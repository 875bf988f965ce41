"""Pre- and post-processing cost against inference, for D0, D1 and D2 at their native sizes.

Post-processing is timed on the worst case the issue names: head outputs in which every
(anchor, class) pair clears the score threshold, as from a random-weight model without the
focal-loss prior (logits ~ N(2, 1), box codes ~ N(0, 0.5)), with 3 and with 90 classes.
Preprocessing is timed on a 1280x720 BGR frame into a float NCHW input (ONNX/OpenVINO) and an
int8 NHWC input (full-int8 TFLite). Shares are taken against the fastest inference median of
that model in a readme_table.py JSON (the most demanding comparison).

    python benchmarks/stage_shares.py --table /tmp/readme_table/table.json [--runs 50]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from edgedet import configs
from edgedet.anchors import AnchorSpec, generate_anchors
from edgedet.runtimes.postprocess import Postprocessor
from edgedet.runtimes.preprocess import Preprocessor

INT8_PIXELS = {"scale": 1.0, "zero_point": -128}


def median_ms(call, runs: int) -> float:
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def fastest_inference(table: list[dict], model: str) -> tuple[float, str] | None:
    """(inference median ms, file name) of the fastest random-weight file of ``model``."""
    rows = [r for r in table if r.get("model") == model and not r.get("error")
            and "random" in Path(r["path"]).name and "inference_ms" in r.get("latency", {})]
    if not rows:
        return None
    best = min(rows, key=lambda r: r["latency"]["inference_ms"]["median"])
    return best["latency"]["inference_ms"]["median"], Path(best["path"]).name


def share(ms: float, reference: tuple[float, str] | None) -> str:
    return f"{100 * ms / reference[0]:.1f}%" if reference else "n/a"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", type=Path, help="table.json written by benchmarks/readme_table.py")
    p.add_argument("--models", default="d0,d1,d2")
    p.add_argument("--runs", type=int, default=50)
    args = p.parse_args()
    table = json.loads(args.table.read_text()) if args.table else []
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    lines = ["| model | anchors | fastest inference ms (file) | stage | ms (median) | share of inference |",
             "|---|---|---|---|---|---|"]
    for name in args.models.split(","):
        size = configs.get_config(name).input_size
        anchors = generate_anchors(AnchorSpec(image_size=size))
        n = anchors.shape[0]
        reference = fastest_inference(table, configs.get_config(name).name)
        ref_text = f"{reference[0]:.1f} ({reference[1]})" if reference else "n/a"
        stages = []
        for classes in (3, 90):
            logits = rng.normal(2.0, 1.0, (n, classes)).astype(np.float32)
            codes = rng.normal(0.0, 0.5, (n, 4)).astype(np.float32)
            post = Postprocessor(anchors)
            assert len(post(logits, codes).scores) == post.max_results  # everything passes
            stages.append((f"postprocess, every anchor passes, {classes} classes",
                           median_ms(lambda: post(logits, codes), args.runs)))
        for label, layout, dtype, quant in (("float NCHW", "NCHW", np.float32, None),
                                            ("int8 NHWC", "NHWC", np.int8, INT8_PIXELS)):
            prep = Preprocessor(size, layout, input_dtype=dtype, quantization=quant)
            stages.append((f"preprocess 1280x720 -> {label}",
                           median_ms(lambda: prep(frame), args.runs)))
        for stage, ms in stages:
            lines.append(f"| {name.upper()} {size} | {n} | {ref_text} | {stage} | {ms:.2f} | "
                         f"{share(ms, reference)} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
