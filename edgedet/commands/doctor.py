"""edgedet doctor: what this machine offers edgedet (OS, CPU features, runtimes, cameras,
optionally a model file's backend and a short timed run), with advice. Runs without torch."""
from __future__ import annotations

import argparse
from typing import Any, Optional

from edgedet.input_size import input_size

HELP = "check this machine first: OS, CPU features, runtimes, cameras, a model's backend; advice"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="also open this model file: backend, precision, threads, "
                                   "and a few timed detect() calls (indicative only)")
    p.add_argument("--threads", type=int, default=1, help="threads for --model (default 1)")
    p.add_argument("--runs", type=int, default=5, help="timed detect() calls for --model (default 5)")
    p.add_argument("--cameras", type=int, default=4, metavar="N",
                   help="OpenCV camera indices to try, 0..N-1 (default 4; 0 skips)")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON (keys: see edgedet/doctor.py)")
    p.add_argument("--verbose", action="store_true", help="show third-party log output")


def _yes(value: Optional[bool]) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _runtime(name: str, entry: dict) -> str:
    if not entry["installed"]:
        return "not installed"
    if entry["version"] is None:
        return "installed (no pip metadata: a system package?)"
    text = entry["version"]
    if entry["distribution"] != name:  # e.g. opencv -> opencv-python-headless
        text += f" ({entry['distribution']})"
    others = entry["distributions"][1:]
    return text + (f"; also installed: {', '.join(others)}" if others else "")


def _model_rows(model: dict) -> list[tuple[str, str]]:
    if model["error"]:
        return [("file", model["path"]), ("error", model["error"])]
    timing = model["timing"]
    backend = model["backend"] + (f" ({model['interpreter']})" if model["interpreter"] else "")
    speed = (f"median {timing['median_ms']:.1f} ms, min {timing['min_ms']:.1f} ms "
             f"(inference {timing['inference_median_ms']:.1f}) over {timing['runs']} calls on a "
             f"{timing['frame'][0]}x{timing['frame'][1]} synthetic frame: indicative only"
             if timing["runs"] else "not timed")
    return [("file", model["path"]), ("format", model["format"]), ("backend", backend),
            ("precision", model["precision"]), ("input size", f"{input_size(model['input_size'])} px"),
            ("input dtype", str(model["input_dtype"])), ("classes", str(model["classes"])),
            ("threads", str(model["threads"])), ("detect()", speed)]


def sections(report: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The report as (title, [(label, value)]) groups, in reading order."""
    system, cpu, tflite, cams = report.system, report.cpu, report.tflite, report.cameras
    venv = (f"venv, system site-packages {'visible' if system['system_site_packages'] else 'not visible'}"
            if system["in_venv"] else "no venv")
    features = ", ".join(f"{k} {_yes(v)}" for k, v in cpu["features"].items()) or "unknown"
    if cpu["features_source"]:
        features += f" (from {cpu['features_source']})"
    interpreter = ("none (pip install ai-edge-litert)" if tflite["interpreter"] is None
                   else f"{tflite['interpreter']}, int8 through XNNPACK: {_yes(tflite['int8_xnnpack'])}")
    if tflite["error"]:
        interpreter = f"failed to import: {tflite['error']}"
    picam = cams["picamera2"]
    picamera = (f"imports ({picam['cameras'] if picam['cameras'] is not None else 'unknown'} "
                "camera(s) listed)" if picam["importable"] else f"does not import: {picam['error']}")
    opened = ", ".join(map(str, cams["opencv_indices"])) or "none"
    probed = (f"{opened} open (tried 0-{cams['opencv_probed'] - 1})" if cams["opencv_probed"]
              else "not probed")
    groups = [
        ("System", [("os", system["os"]), ("kernel", system["kernel"]),
                    ("arch", f"{system['arch']} ({system['bits']}-bit Python)"),
                    ("python", f"{system['python']} ({venv})")]),
        ("CPU", [("model", cpu["model"]), ("board", cpu["board"] or "-"),
                 ("cores", f"{cpu['cores']} ({cpu['usable_cores']} usable)"),
                 ("features", features)]),
        ("Runtimes", [(name, _runtime(name, entry)) for name, entry in report.runtimes.items()]
         + [("TFLite interpreter", interpreter)]),
        ("Cameras", [("/dev/video*", ", ".join(cams["video_devices"]) or "none"),
                     ("OpenCV indices", cams["opencv_error"] or probed),
                     ("Picamera2", picamera)]),
    ]
    if report.model is not None:
        groups.append(("Model", _model_rows(report.model)))
    return groups


def format_text(report: Any) -> str:
    """Aligned lines grouped by section, then the advice list."""
    groups = sections(report)
    width = max(len(label) for _, rows in groups for label, _ in rows) + 2
    lines = [f"edgedet doctor (edgedet {report.edgedet})"]
    for title, rows in groups:
        lines += ["", title] + [f"  {label:<{width}}{value}" for label, value in rows]
    lines += ["", "Advice"] + ([f"  - {a}" for a in report.advice] or ["  (nothing to do)"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from edgedet.doctor import diagnose
    from edgedet.errors import InvalidInputError, ModelLoadError

    if args.verbose:
        from edgedet.thirdparty_output import set_verbose

        set_verbose(True)
    if args.threads < 1 or args.runs < 0:
        raise InvalidInputError(f"--threads must be >= 1 and --runs >= 0, got {args.threads} "
                                f"and {args.runs}")
    report = diagnose(args.model, threads=args.threads, runs=args.runs, camera_probes=args.cameras)
    print(report.to_json() if args.json else format_text(report), flush=True)
    if report.model is not None and report.model["error"]:
        raise ModelLoadError(report.model["error"])
    return 0
