"""edgedet convert: checkpoint -> deployable model file, with a parity report."""
from __future__ import annotations

import argparse
import time

from edgedet.commands._sizes import add_imgsz_argument
from edgedet.runtimes.formats import PRECISIONS, REGISTRY, SUPPORTED, TARGETS

HELP = f"convert a checkpoint to a deployable model file ({', '.join(TARGETS)})"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from edgedet.converters.calibration import DEFAULT_CALIB_SIZE
    from edgedet.converters.tflite_nms import NmsOptions

    nms = NmsOptions()

    support = "; ".join(f"{t}: {', '.join(ps)}" for t, ps in SUPPORTED.items())
    p.add_argument("--weights", required=True, help="checkpoint (.pt) to convert")
    p.add_argument("--target", required=True, help=f"output format: {', '.join(TARGETS)}")
    p.add_argument("--precision", default="fp32",
                   help=f"{', '.join(PRECISIONS)} (default fp32; {support})")
    p.add_argument("--out", help="output path (default: weights path with the target's suffix)")
    add_imgsz_argument(p, "default: the checkpoint's; the same weights run at any size, e.g. "
                          "320x192 for 1280x720 frames")
    p.add_argument("--calib", help="image folder or dataset for int8 calibration and the "
                                   "parity report (required for int8)")
    p.add_argument("--calib-size", type=int, default=DEFAULT_CALIB_SIZE,
                   help=f"most calibration images to use (default {DEFAULT_CALIB_SIZE})")
    p.add_argument("--json", metavar="PATH", help="also write the parity report as JSON here")
    p.add_argument("--no-report", action="store_true", help="skip the parity measurement")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--verbose", action="store_true",
                   help="show the converter libraries' own output (default: written to OUT.log)")
    p.add_argument("--nms", action="store_true",
                   help="tflite only: end the graph in decoding + NMS (TFLite_Detection_PostProcess)"
                        " with the metadata MediaPipe ObjectDetector / TFLite Task Library load; "
                        "int8 files get a uint8 input")
    p.add_argument("--nms-score-threshold", type=float,
                   help=f"with --nms: lowest score the graph keeps (default {nms.score_threshold})")
    p.add_argument("--nms-iou-threshold", type=float,
                   help=f"with --nms: IoU above which NMS drops a box (default {nms.iou_threshold})")
    p.add_argument("--nms-max-detections", type=int,
                   help=f"with --nms: most detections per image (default {nms.max_detections})")
    p.add_argument("--nms-agnostic", action="store_true", default=None,
                   help="with --nms: class-agnostic NMS (LiteRT's fast mode: each anchor keeps "
                        "its best class, one NMS over all classes); default: per class")


def _nms_options(args: argparse.Namespace):
    """NmsOptions from --nms and its --nms-* settings (which need --nms); None without it."""
    from edgedet.errors import InvalidInputError

    given = {name: getattr(args, name) for name in
             ("nms_score_threshold", "nms_iou_threshold", "nms_max_detections", "nms_agnostic")
             if getattr(args, name) is not None}
    if not args.nms:
        if given:
            flags = ", ".join("--" + n.replace("_", "-") for n in given)
            raise InvalidInputError(f"{flags} only apply to in-graph NMS: add --nms")
        return None
    from edgedet.converters.tflite_nms import NmsOptions

    agnostic = given.pop("nms_agnostic", False)
    return NmsOptions(**{name[len("nms_"):]: value for name, value in given.items()},
                      regular_nms=not agnostic)


def run(args: argparse.Namespace) -> int:
    from edgedet.converters import convert_with_report
    from edgedet.errors import InvalidInputError

    if args.verbose:
        from edgedet.thirdparty_output import set_verbose

        set_verbose(True)
    if args.json and args.no_report:
        raise InvalidInputError("--json writes the parity report, which --no-report skips")
    if args.json:
        from edgedet.fileio import refuse_existing

        refuse_existing(args.json, args.force)
    nms = _nms_options(args)
    start = time.perf_counter()
    out, report = convert_with_report(
        args.weights, args.target, args.out, precision=args.precision, calib=args.calib,
        calib_size=args.calib_size, overwrite=args.force, report=not args.no_report, nms=nms,
        input_size=args.imgsz,
    )
    size_mb = REGISTRY[args.target.lower()].size_bytes(out) / 1e6
    print(f"wrote {out} ({size_mb:.1f} MB, {args.target} {args.precision}"
          f"{', in-graph NMS' if nms else ''}) "
          f"in {time.perf_counter() - start:.1f} s")
    if report is not None:
        print(report.format())
        if args.json:
            report.write_json(args.json)
            print(f"parity report written to {args.json}")
    return 0
