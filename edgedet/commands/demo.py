"""edgedet demo: live boxes from a camera, video file or image folder; any model format."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator, Optional

from edgedet.commands._detector_flags import add_detector_arguments, add_model_argument, open_detector
from edgedet.commands._sizes import parse_size
from edgedet.errors import InvalidInputError
from edgedet.input_size import (ALIGNED_MULTIPLE, InputSize, aligned_camera_size, camera_size,
                                input_size, padding_share)

HELP = "run a model on a camera, video or image folder: live window and/or annotated video + JSONL"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("--source", default="0",
                   help="camera index (0), video file, image folder, /dev/videoN, stream URL, "
                        "or 'picamera' (default 0)")
    add_detector_arguments(p, per="frame", classes=True)
    p.add_argument("--size", help="capture size WxH, e.g. 640x480 (cameras ask the driver; "
                                   "files are resized)")
    p.add_argument("--every", type=int, default=1,
                   help="files: process every N-th frame (default 1); cameras always take the newest")
    p.add_argument("--headless", action="store_true",
                   help="no window (automatic when there is no display)")
    p.add_argument("--save", help="write the annotated video here (.mp4)")
    p.add_argument("--jsonl", help="write per-frame detections here, one JSON object per line")
    p.add_argument("--max-frames", type=int, help="stop after this many processed frames")
    p.add_argument("--force", action="store_true", help="overwrite existing --save/--jsonl files")


def _check_outputs(args: argparse.Namespace) -> None:
    outputs = [Path(o).resolve() for o in (args.save, args.jsonl) if o]
    if len(outputs) == 2 and outputs[0] == outputs[1]:
        raise InvalidInputError("--save and --jsonl name the same file")
    source = Path(args.source)
    if source.exists() and source.resolve() in outputs:
        raise InvalidInputError(f"refusing to overwrite the source {args.source} with an output")
    for option, path in (("--save", args.save), ("--jsonl", args.jsonl)):
        if path and Path(path).exists() and not getattr(args, "force", False):
            raise InvalidInputError(f"{option} {path} already exists; pass --force to overwrite it")
    if args.max_frames is not None and args.max_frames < 1:
        raise InvalidInputError(f"--max-frames must be >= 1, got {args.max_frames}")


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """Treat SIGTERM (``kill``, systemd stop) like Ctrl-C, so the outputs are finished."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# Below this share of padding a model of the frame's shape is not worth a second file.
_PADDING_WORTH_A_NOTE = 0.10


def aspect_note(frame_size: Optional[tuple[int, int]], model_size: InputSize) -> Optional[str]:
    """A note when frames letterbox into the model with much padding, naming the --imgsz whose
    shape fits them; None when they fit well enough or their size is not known in advance."""
    if frame_size is None:
        return None
    width, height = frame_size
    wasted = padding_share(width, height, model_size)
    fitting = camera_size(width, height, model_size.width)
    if wasted < _PADDING_WORTH_A_NOTE or fitting == model_size:
        return None
    note = (f"note: frames are {width}x{height} but the model's input is "
            f"{model_size.width}x{model_size.height}: "
            f"{wasted:.0%} of it is letterbox padding; a file converted with `edgedet convert "
            f"--imgsz {fitting}` pads {padding_share(width, height, fitting):.0%} and needs "
            f"{fitting.area / model_size.area:.0%} of the compute")
    fitting_aligned = fitting.width % ALIGNED_MULTIPLE == 0 == fitting.height % ALIGNED_MULTIPLE
    aligned = None if fitting_aligned else aligned_camera_size(width, height, model_size.width)
    if aligned is not None and aligned != model_size:
        note += (f"; sides that are multiples of {ALIGNED_MULTIPLE} kept accuracy best in our "
                 f"measurements: --imgsz {aligned} pads "
                 f"{padding_share(width, height, aligned):.0%} and needs "
                 f"{aligned.area / model_size.area:.0%} of the compute")
    return note


def run(args: argparse.Namespace) -> int:
    import cv2

    from edgedet.apps.demo import run_demo
    from edgedet.apps.display import open_window
    from edgedet.apps.sinks import JsonlSink, VideoSink
    from edgedet.apps.sources import open_source

    size = None if args.size is None else parse_size(args.size, minimum=16)
    _check_outputs(args)
    # The model first: a bad model file or a missing runtime fails before the camera opens.
    detector = open_detector(args)
    # OpenCV's own thread pool (resize in preprocessing) follows the same budget.
    cv2.setNumThreads(args.threads)
    info = detector.info
    print(f"model: {args.model} ({info['model']} {input_size(info['input_size'])}px, {info['precision']}, "
          f"{info['backend']}, {args.threads} thread(s))")

    source = open_source(args.source, every=args.every, size=size)
    window = None
    sinks: list = []
    try:
        if source.live and args.every != 1:
            print("note: --every applies to files; a camera always gives its newest frame",
                  file=sys.stderr)
        print(f"source: {source.description}")
        note = aspect_note(getattr(source, "frame_size", None), detector.metadata.input_size)
        if note:
            print(note, file=sys.stderr)
        if not args.headless:
            window, reason = open_window(f"edgedet demo - {Path(args.model).name}")
            if window is None:
                print(f"running headless: {reason}", file=sys.stderr)
        if args.save:
            sinks.append(VideoSink(args.save, fps=source.fps))
        if args.jsonl:
            sinks.append(JsonlSink(args.jsonl))
    except BaseException:
        for opened in [source, *sinks, window]:
            if opened is not None:
                opened.close()
        raise
    if window is None and not sinks:
        print("note: nothing is shown or saved; add --save out.mp4 and/or --jsonl dets.jsonl",
              file=sys.stderr)
    if window is not None:
        print("press q or Esc in the window to quit")

    with _sigterm_as_ctrl_c():
        result = run_demo(source, detector, sinks, window=window,
                          draw=window is not None or bool(args.save), max_frames=args.max_frames)
    print(result.summary())
    for sink in sinks:
        written = getattr(sink, "frames_written", getattr(sink, "lines_written", 0))
        print(f"saved {sink.path} ({written} frames)" if written else
              f"nothing written to {sink.path}: no frame was processed")
    return 130 if result.interrupted else 0
