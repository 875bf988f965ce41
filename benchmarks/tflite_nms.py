"""In-graph NMS TFLite files: latency against the plain file, and MediaPipe beside edgedet.

1. Single-thread latency through ai-edge-litert of the plain file and the `--nms` file
   (interpreter ``invoke()`` only, and ``Detector.detect()`` end to end), interleaved runs.
2. MediaPipe Tasks ObjectDetector's and edgedet's detections on the same image, fp32 and
   int8, drawn side by side into one PNG: edgedet, MediaPipe given edgedet's letterboxed frame
   (boxes mapped back), and MediaPipe given the raw frame (which it stretches to the square
   input when the frame is not square) (needs a Python with mediapipe: --mediapipe-python,
   $EDGEDET_MEDIAPIPE_PYTHON or ./.venv-mediapipe).

The model is either a checkpoint (--weights: int8 calibrated on --data's train split, the
picture on its first val image) or, by default, a D0 at 256 px whose heads are
fitted in ~1 minute to a few BCCD training images (tests/finetuned_fixture.py's method;
a real BCCD training run takes ~40 min here). Example:

    python benchmarks/tflite_nms.py --data /work/shared/datasets/bccd --out /tmp/nms_bench

With ``--imgsz WxH`` of the frames' aspect (384x288 for BCCD's 640x480) the raw-frame column is
the check that a camera-shaped file needs no letterbox step in MediaPipe; ``--compare-images N``
adds up the agreement over the first N val images. A third agreement gives edgedet the frame
resampled as MediaPipe resamples it (corner-aligned bilinear warp, not cv2.resize), which
separates the runtimes from the two resampling conventions.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edgedet.fileio import atomic_write_image, atomic_write_text

ROOT = Path(__file__).resolve().parents[1]


def fitted_bccd_checkpoint(data: str, out: Path, images: int, steps: int) -> tuple[Path, list[Path]]:
    """A D0 256 checkpoint with heads fitted to the first ``images`` training images of
    ``data``; returns it and the letterboxed 256x256 training images (PNG)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from finetuned_fixture import fit_heads

    from edgedet.data import load_dataset
    from edgedet.runtimes.preprocess import letterbox

    dataset = load_dataset(data, split="train")
    samples, paths = [], []
    folder = out / "fit_images"
    folder.mkdir(parents=True, exist_ok=True)
    for i, sample in enumerate(dataset.samples[:images]):
        image, placement = letterbox(cv2.imread(str(sample.image_path)), 256)
        boxes = sample.boxes * np.array([placement.scale_x, placement.scale_y] * 2, np.float32)
        samples.append((image, boxes, sample.class_ids))
        paths.append(folder / f"{i}.png")
        cv2.imwrite(str(paths[-1]), image)
    checkpoint = fit_heads(out / "d0_bccd_heads.pt", samples, dataset.class_names, dataset.name,
                           steps=steps)
    return checkpoint, paths


def model_latency(path: Path, runs: int) -> list[float]:
    """Milliseconds per ``invoke()`` of ``path`` (one thread), after two warm-up runs."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    interpreter.set_tensor(detail["index"], rng.integers(0, 255, detail["shape"]).astype(detail["dtype"]))
    times = []
    for i in range(runs + 2):
        t0 = time.perf_counter()
        interpreter.invoke()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def detect_latency(path: Path, frame: np.ndarray, runs: int) -> list[float]:
    from edgedet import Detector

    detector = Detector(path, score_threshold=0.3)
    detector.detect(frame)
    times = []
    for _ in range(runs):
        detector.detect(frame)
        times.append(detector.timings["total_ms"])
    return times


def mediapipe_detections(python: str, model: Path, image: Path, score: float) -> list[dict]:
    result = subprocess.run([python, str(ROOT / "tests" / "mediapipe_detect.py"), str(model),
                             str(score), "100", str(image)], capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"MediaPipe failed on {model}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["detections"][0]


def draw(image: np.ndarray, boxes, labels, scores, title: str) -> np.ndarray:
    """``image``, enlarged to ~768 px when smaller, with the boxes, labels and scores drawn."""
    scale = max(1, round(768 / max(image.shape[:2])))
    canvas = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    for box, label, score in zip(boxes, labels, scores):
        x1, y1, x2, y2 = (int(round(v * scale)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 200, 0), 1)
        cv2.putText(canvas, f"{label} {score:.2f}", (x1 + 2, max(10, y1 + 11)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 255), 1, cv2.LINE_AA)
    bar = np.full((22, canvas.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, canvas])


def agreement(ours: list[dict], theirs: list[dict]) -> dict:
    """How many of ``ours`` have a same-label box in ``theirs`` with IoU >= 0.9 (greedy, by
    score), and the largest score difference among those pairs."""
    from edgedet.anchors import box_iou

    if not ours or not theirs:
        return {"ours": len(ours), "theirs": len(theirs), "matched_iou_0.9": 0, "max_score_diff": None}
    iou = box_iou(np.array([o["box"] for o in ours], np.float32), np.array([t["box"] for t in theirs], np.float32))
    taken, diffs = set(), []
    for i, o in enumerate(ours):
        for j in np.argsort(-iou[i]):
            if iou[i, j] < 0.9:
                break
            if j not in taken and theirs[j]["label"] == o["label"]:
                taken.add(int(j))
                diffs.append(abs(o["score"] - theirs[j]["score"]))
                break
    return {"ours": len(ours), "theirs": len(theirs), "matched_iou_0.9": len(diffs),
            "max_score_diff": round(max(diffs), 4) if diffs else None}


def mediapipe_resampling(frame: np.ndarray, size) -> np.ndarray:
    """``frame`` stretched onto the model input as MediaPipe's CPU ImageToTensor does it: a
    bilinear warp whose matrix maps the frame's corners onto the input's corners, so output
    pixel x samples the frame at x * W / w. cv2.resize (edgedet, training) samples at
    (x + 0.5) * W / w - 0.5 instead: a third of a frame pixel apart at 640 -> 384."""
    height, width = frame.shape[:2]
    matrix = np.float32([[size.width / width, 0, 0], [0, size.height / height, 0]])
    return cv2.warpAffine(frame, matrix, (size.width, size.height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def as_dicts(found, back: np.ndarray) -> list[dict]:
    return [{"box": [round(float(v), 1) for v in np.asarray(b) / back], "label": found.class_names[c],
             "score": round(float(s), 4)} for b, c, s in zip(found.boxes, found.class_ids, found.scores)]


def compare_on_image(detector, args, model: Path, image: Path, size, out: Path):
    """Detections on ``image``, each a list of {box, label, score} in its pixels: edgedet's;
    MediaPipe's on edgedet's letterboxed frame (boxes mapped back) and on the raw frame; and
    edgedet's on the frame resampled the way MediaPipe does it (:func:`mediapipe_resampling`)."""
    from edgedet.runtimes.preprocess import letterbox

    frame = cv2.imread(str(image))
    boxed, placement = letterbox(frame, size)
    boxed_path = out / "letterboxed_input.png"
    cv2.imwrite(str(boxed_path), boxed)
    back = np.array([placement.scale_x, placement.scale_y] * 2, np.float32)
    mine = as_dicts(detector.detect(frame), np.ones(4, np.float32))
    raw = mediapipe_detections(args.mediapipe_python, model, image, args.score)
    lettered = [{**t, "box": [round(float(v), 1) for v in np.array(t["box"]) / back]}
                for t in mediapipe_detections(args.mediapipe_python, model, boxed_path, args.score)]
    stretch = np.float32([size.width / frame.shape[1], size.height / frame.shape[0]] * 2)
    resampled = as_dicts(detector.detect(mediapipe_resampling(frame, size)), stretch)
    return mine, lettered, raw, resampled


def summed(agreements: list[dict]) -> dict:
    """Per-image agreements added up (the largest score difference over all images)."""
    diffs = [a["max_score_diff"] for a in agreements if a["max_score_diff"] is not None]
    return {"ours": sum(a["ours"] for a in agreements), "theirs": sum(a["theirs"] for a in agreements),
            "matched_iou_0.9": sum(a["matched_iou_0.9"] for a in agreements),
            "max_score_diff": max(diffs) if diffs else None}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/work/shared/datasets/bccd")
    p.add_argument("--weights", help="checkpoint to convert (default: heads fitted to --data)")
    p.add_argument("--fit-images", type=int, default=6)
    p.add_argument("--fit-steps", type=int, default=60)
    p.add_argument("--runs", type=int, default=30, help="latency runs per file (0: skip)")
    p.add_argument("--reuse", action="store_true",
                   help="reuse the checkpoint and files already in --out")
    p.add_argument("--score", type=float, default=0.3)
    p.add_argument("--imgsz", metavar="N|WxH",
                   help="convert for this input (e.g. 384x288 for 4:3 frames; default the checkpoint's)")
    p.add_argument("--compare-images", type=int, default=1,
                   help="with --weights: val images compared (the picture shows the first)")
    p.add_argument("--mediapipe-python", default=os.environ.get(
        "EDGEDET_MEDIAPIPE_PYTHON", str(ROOT / ".venv-mediapipe" / "bin" / "python")))
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    from edgedet.converters import convert
    from edgedet.converters.tflite_nms import NmsOptions
    from edgedet import Detector

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    calib_from = None
    if args.weights:
        # A trained model: calibrate on the training split, show the first val image.
        from edgedet.data import load_dataset

        checkpoint, calib_from = Path(args.weights), args.data
        images = [s.image_path for s in load_dataset(args.data, split="val").samples[:args.compare_images]]
    elif args.reuse and (out / "d0_bccd_heads.pt").is_file():
        checkpoint, images = out / "d0_bccd_heads.pt", sorted((out / "fit_images").glob("*.png"))
    else:
        checkpoint, images = fitted_bccd_checkpoint(args.data, out, args.fit_images, args.fit_steps)
    print(f"model ready in {time.perf_counter() - t0:.0f} s: {checkpoint}")
    files = {}
    for precision in ("fp32", "int8"):
        calib = (calib_from or images[0].parent) if precision == "int8" else None
        for nms in (False, True):
            shape = f"_{args.imgsz}" if args.imgsz else ""
            path = out / f"{checkpoint.stem}{shape}_{precision}{'_nms' if nms else ''}.tflite"
            files[(precision, nms)] = path
            if args.reuse and path.is_file():
                continue
            if path.exists():
                path.unlink()
            convert(checkpoint, "tflite", path, precision, calib=calib, report=False,
                    nms=NmsOptions(score_threshold=0.1) if nms else None, input_size=args.imgsz)

    frame = cv2.imread(str(images[0]))
    rows = []
    latency: dict = {key: {"model": [], "detect": []} for key in files}
    for _ in range(3 if args.runs else 0):  # interleaved rounds: load changes hit all alike
        for key, path in files.items():
            latency[key]["model"] += model_latency(path, args.runs // 3)
            latency[key]["detect"] += detect_latency(path, frame, args.runs // 3)
    for (precision, nms), times in latency.items() if args.runs else ():
        rows.append({"file": files[(precision, nms)].name, "precision": precision, "nms_in_graph": nms,
                     "invoke_ms_median": round(statistics.median(times["model"]), 2),
                     "detect_ms_median": round(statistics.median(times["detect"]), 2),
                     "runs": len(times["model"])})
    print("| file | precision | NMS in graph | invoke() ms (median) | detect() ms (median) | runs |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['file']} | {r['precision']} | {r['nms_in_graph']} | {r['invoke_ms_median']} "
              f"| {r['detect_ms_median']} | {r['runs']} |")

    # MediaPipe stretches every frame onto the model's input, while edgedet (and training)
    # letterbox it: the second column feeds MediaPipe edgedet's letterboxed frame and maps its
    # boxes back, which is what an app should do when the camera's aspect is not the model's.
    size = Detector(files[("fp32", True)]).metadata.input_size
    panels, side_by_side = [], {}
    for precision in ("fp32", "int8"):
        model = files[(precision, True)]
        detector = Detector(model, score_threshold=args.score)
        per_image = [compare_on_image(detector, args, model, image, size, out) for image in images]
        mine, lettered, raw, _ = per_image[0]
        columns = [(mine, f"edgedet Detector, {precision}: {len(mine)}"),
                   (lettered, f"MediaPipe, letterboxed frame, {precision}: {len(lettered)}"),
                   (raw, f"MediaPipe, raw {frame.shape[1]}x{frame.shape[0]} frame, {precision}: {len(raw)}")]
        drawn = [draw(frame, [t["box"] for t in ts], [t["label"] for t in ts], [t["score"] for t in ts], title)
                 for ts, title in columns]
        gap = np.full((drawn[0].shape[0], 6, 3), 255, np.uint8)
        panels.append(np.hstack([drawn[0], gap, drawn[1], gap, drawn[2]]))
        side_by_side[precision] = {
            "edgedet": mine, "mediapipe_letterboxed": lettered, "mediapipe_raw": raw,
            "agreement_letterboxed": summed([agreement(m, l) for m, l, _, _ in per_image]),
            "agreement_raw": summed([agreement(m, r) for m, _, r, _ in per_image]),
            # Both sides resample the frame the same way: what is left is the runtimes.
            "agreement_raw_same_resampling": summed([agreement(x, r) for _, _, r, x in per_image]),
            "images": len(per_image)}
        for name, key in (("letterboxed frame", "letterboxed"), ("raw frame", "raw"),
                          ("raw frame, edgedet given MediaPipe's resampling", "raw_same_resampling")):
            print(f"{precision}: edgedet vs MediaPipe on the {name} ({len(images)} image(s)): "
                  f"{side_by_side[precision]['agreement_' + key]}")
    atomic_write_image(out / "side_by_side.png", np.vstack(panels))
    atomic_write_text(out / "results.json", json.dumps({"latency": rows, "detections": side_by_side,
                                                  "image": str(images[0]),
                                                  "checkpoint": str(checkpoint)}, indent=1))
    print(f"wrote {out / 'side_by_side.png'} and {out / 'results.json'} "
          f"({time.perf_counter() - t0:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
