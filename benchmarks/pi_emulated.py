"""The Raspberry Pi guide's steps in an emulated arm64 Debian 12 (Raspberry Pi OS's base).

    sudo python benchmarks/pi_emulated.py --out /tmp/pi [--lite0-weights L.pt --d0-weights D.pt]

1. ``pi_rootfs.sh`` builds (once, into ``$EDGEDET_PI_CACHE``, default ~/.cache/edgedet-pi) an
   arm64 Bookworm rootfs that runs through qemu-user-static + binfmt_misc.
2. On x86: the edgedet wheel (``pip wheel --no-deps``), the aarch64 wheels of its runtime
   from PyPI (``pip download --platform ... --only-binary=:all:``, cached), a Lite0 int8, a
   D0 int8 and a Lite0 ``--nms`` int8 TFLite file (``edgedet convert``, cached), and frames
   (BCCD val images, frames of cars_short.mp4) as PNG, raw and letterboxed to each input size.
3. In the rootfs, qemu emulating a Cortex-A72 (Pi 4): the guide's venv and pip installs
   (offline, from the downloaded wheels), ``Detector`` on every file and frame, ``edgedet
   demo`` on the video, ``edgedet benchmark`` (emulated: its latency means nothing),
   ``edgedet doctor``, ``pip check``, the venv's size, the demo against a FAKE picamera2, and
   what numpy/OpenCV unpinned installs do to a numpy-1.x-built system module (the pins).
   Then ``Detector`` again as a Cortex-A76 (Pi 5).
4. Detections compared with the same files run on x86. A file whose detections differ by
   more than one int8 step or a pixel is probed op by op (``tflite_probe.py``): every op is
   run on both machines from the same x86 inputs. The file passes when no op differs by more
   than one int8 step on its own (the differences are the runtime's kernels rounding, grown
   through the network) and every unpaired detection scored at the threshold; it fails
   otherwise. ``--out/pi_emulated.json`` holds everything; the exit status is 1 when
   anything disagrees or fails.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _pi_chroot import Chroot  # noqa: E402
from _pi_compare import agrees, compare_frames, unpaired_near_threshold  # noqa: E402
from _pi_guest import GuestSteps  # noqa: E402
import tflite_probe  # noqa: E402
from edgedet.runtimes.options import DetectorOptions  # noqa: E402

CPUS = ("cortex-a72", "cortex-a76")  # Raspberry Pi 4, Raspberry Pi 5
DATA = Path("/work/shared/datasets/bccd")
VIDEO = Path("/work/shared/samples/cars_short.mp4")
AARCH64_PLATFORMS = ("manylinux_2_36_aarch64", "manylinux_2_28_aarch64", "manylinux_2_27_aarch64",
                     "manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64")
# The guide's pins, the unpinned runtime, and a system module built against numpy 1.x:
# simplejpeg 1.6.6 is the version Raspberry Pi OS Bookworm ships as python3-simplejpeg
# (which Picamera2 imports), and its PyPI wheel predates numpy 2, as the apt build does.
WHEEL_SETS = {
    "pinned": ["numpy<2", "opencv-python-headless<4.12", "ai-edge-litert>=1.2"],
    "unpinned": ["numpy>=1.24", "opencv-python-headless>=4.8", "ai-edge-litert>=1.2"],
    "system-stand-ins": ["simplejpeg==1.6.6", "picamera2"],
}
# Same preprocessed input on both sides: detections must agree to within this, or else
# every op of the file to within MAX_OP_STEPS when fed the same inputs (see kernel_probe).
MAX_STEPS, MAX_BOX_PX = 1.0, 1.0
MAX_OP_STEPS = 1.0
PROBE_FRAMES = 3


def log(message: str) -> None:
    print(f"[pi_emulated {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_host(argv: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    """A command on the x86 host; RuntimeError naming ``what`` with its output on failure."""
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n"
                           f"{done.stdout[-3000:]}")
    return done


def build_rootfs(cache: Path) -> tuple[Path, float]:
    start = time.monotonic()
    done = run_host(["bash", str(HERE / "pi_rootfs.sh")], "building the arm64 rootfs",
                    env={**os.environ, "EDGEDET_PI_CACHE": str(cache)})
    return Path(done.stdout.strip().splitlines()[-1]), time.monotonic() - start


def download_wheels(cache: Path) -> Path:
    """PyPI's aarch64 / pure-Python wheels of every WHEEL_SETS entry, into one folder."""
    folder = cache / "wheels"
    stamp = folder / (".complete-" + hashlib.sha256(json.dumps(WHEEL_SETS).encode()).hexdigest()[:12])
    if stamp.exists():
        return folder
    platforms = [arg for p in AARCH64_PLATFORMS for arg in ("--platform", p)]
    for name, requirements in WHEEL_SETS.items():
        deps = ["--no-deps"] if name == "system-stand-ins" else []
        run_host([sys.executable, "-m", "pip", "download", "-q", "-d", str(folder), *platforms,
                  "--platform", "any", "--python-version", "3.11", "--implementation", "cp",
                  "--only-binary=:all:", *deps, *requirements], f"downloading {name} wheels")
    stamp.touch()
    return folder


def build_wheel(out: Path) -> Path:
    """This checkout's wheel, built fresh (what a user copies to the Pi)."""
    dist = out / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    run_host([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
              "-w", str(dist), str(ROOT)], "building the edgedet wheel")
    (wheel,) = dist.glob("edgedet-*.whl")
    return wheel


def calibration_folder(cache: Path) -> Path:
    """BCCD's train split images (int8 calibration never sees a val image)."""
    folder = cache / "calib_bccd_train"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for name in (DATA / "ImageSets/Main/train.txt").read_text().split():
            (folder / f"{name}.jpg").symlink_to(DATA / "JPEGImages" / f"{name}.jpg")
    return folder


def default_d0_checkpoint(cache: Path) -> Path:
    """A D0 256 with heads fitted to 8 BCCD train images (tflite_nms.py's method, ~1 min)."""
    path = cache / "checkpoints/d0_bccd_heads.pt"
    if not path.exists():
        from tflite_nms import fitted_bccd_checkpoint

        fitted_bccd_checkpoint(str(DATA), path.parent, images=8, steps=60)
    return path


def make_models(cache: Path, lite0: Path | None, d0: Path | None) -> dict[str, dict[str, Any]]:
    """The three int8 TFLite files, converted on x86 (cached by checkpoint content)."""
    d0 = d0 or default_d0_checkpoint(cache)
    if lite0 is None:
        raise SystemExit("pi_emulated.py: --lite0-weights is needed (e.g. runs/bccd_lite0/best.pt "
                         "from `edgedet train --model lite0 --pretrained-backbone ...`)")
    calib = calibration_folder(cache)
    plans = {"lite0_int8.tflite": (lite0, []), "d0_int8.tflite": (d0, []),
             "lite0_int8_nms.tflite": (lite0, ["--nms"])}
    models = {}
    for name, (weights, extra) in plans.items():
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        path = cache / "models" / digest / name
        if not path.exists():
            log(f"converting {weights} -> {name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            run_host([sys.executable, "-m", "edgedet", "convert", "--weights", str(weights),
                      "--target", "tflite", "--precision", "int8", "--calib", str(calib),
                      "--calib-size", "64", "--no-report", "--out", str(path), *extra], f"converting {name}")
        models[name] = {"path": path, "weights": str(weights), "size_mb": round(path.stat().st_size / 1e6, 2)}
    return models


def write_frames(out: Path, sizes: set[int], bccd: int = 6, video: int = 6) -> dict[str, Path]:
    """``raw``: BCCD val images and video frames as PNG; ``input<N>``: the same letterboxed
    on x86 to N x N, so the arm64 side resizes nothing (OpenCV's resize differs by arch)."""
    from edgedet.runtimes.preprocess import letterbox

    frames = {}
    names = (DATA / "ImageSets/Main/val.txt").read_text().split()[:bccd]
    for name in names:
        frames[f"bccd_{name}.png"] = cv2.imread(str(DATA / "JPEGImages" / f"{name}.jpg"))
    capture = cv2.VideoCapture(str(VIDEO))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    for i in range(video):
        capture.set(cv2.CAP_PROP_POS_FRAMES, i * total // video)
        ok, image = capture.read()
        if not ok:
            raise RuntimeError(f"cannot read frame {i * total // video} of {VIDEO}")
        frames[f"cars_{i * total // video:03d}.png"] = image
    capture.release()
    folders = {"raw": out / "frames/raw", **{f"input{n}": out / f"frames/input{n}" for n in sizes}}
    for key, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        for name, image in frames.items():
            picture = image if key == "raw" else letterbox(image, int(key[5:]))[0]
            cv2.imwrite(str(folder / name), picture)
    return folders


def input_size(model: Path) -> int:
    from edgedet import Detector

    return int(Detector(model).metadata.input_size.width)


def host_detections(models: dict, folders: dict[str, Path], out: Path) -> dict[str, Any]:
    """pi_detect.py on x86 (this Python), one report per model with its two frame folders."""
    reports = {}
    for name, model in models.items():
        target = out / f"x86_{name}.json"
        run_host([sys.executable, str(HERE / "pi_detect.py"), str(model["path"]), "--out", str(target),
                  "--frames", str(folders["raw"]), "--frames", str(folders[model["frames"]])],
                 f"x86 detections of {name}")
        reports[name] = json.loads(target.read_text())
    return reports


def compare(host: dict, guest: dict) -> dict[str, Any]:
    """Per model and frame folder: the comparison summary; ``agrees`` gates the letterboxed
    folder (same input tensor) only: raw frames go through each arch's own resize."""
    results = {}
    for name, ours in host.items():
        theirs = guest[name]["models"][name]
        model = ours["models"][name]
        step = model["logit_step"]
        per_folder = {}
        for folder, frames in model["frames"].items():
            summary = compare_frames(frames, theirs["frames"][folder], step)
            summary["gated"] = folder != "raw"
            summary["agrees"] = agrees(summary, MAX_STEPS, MAX_BOX_PX)
            per_folder[folder] = summary
        results[name] = {"logit_step": step, "runtime_arm64": theirs.get("runtime"), **per_folder}
    return results


def kernel_probe(chroot: Chroot, model: dict[str, Any], frames: Path, cpus: list[str],
                 out: Path) -> dict[str, Any]:
    """Per CPU: the largest difference any single op of ``model`` makes between x86 and the
    emulated CPU when both are fed the same x86 tensors (``tflite_probe.py``), in int8 steps."""
    probe = out / f"probe_{Path(model['path']).stem}"
    tflite_probe.make_probe(Path(model["path"]), frames, probe, PROBE_FRAMES)
    reference = probe / "x86.npz"
    tflite_probe.run_probe(probe, reference, builtin=False)
    result = {}
    for cpu in cpus:
        isolated = probe / f"{cpu}_isolated.npz"
        seconds = tflite_probe.run_in_chroot(chroot, probe, isolated, False, cpu, feed=reference)
        found = tflite_probe.compare(probe, reference, isolated)
        (probe / f"x86_vs_{cpu}_isolated.json").write_text(json.dumps(found, indent=1))
        result[cpu] = {**tflite_probe.kernel_summary(found), "wall_s": round(seconds, 1)}
        isolated.unlink()
    reference.unlink()
    return result


def judge(parity: dict[str, Any], kernels: dict[str, Any], threshold: float) -> list[str]:
    """The failures: a gated folder whose detections disagree, unless the kernel probe
    explains it (every op within MAX_OP_STEPS, unpaired detections only at the threshold);
    each such summary gets an ``explained`` entry saying which."""
    failures = []
    for cpu, per_model in parity.items():
        for name, folders in per_model.items():
            for folder, summary in folders.items():
                if not isinstance(summary, dict) or not summary.get("gated") or summary["agrees"]:
                    continue
                probe = kernels.get(name, {}).get(cpu)
                at_threshold = unpaired_near_threshold(summary, threshold, folders["logit_step"])
                summary["unpaired_only_at_threshold"] = at_threshold
                summary["explained"] = bool(probe and probe["max_op_steps"] <= MAX_OP_STEPS
                                            and at_threshold)
                if not summary["explained"]:
                    why = ("no kernel probe" if not probe else
                           f"an op differs by {probe['max_op_steps']:g} int8 steps on its own "
                           f"({probe['worst_op']})" if probe["max_op_steps"] > MAX_OP_STEPS else
                           "unpaired detections away from the threshold")
                    failures.append(f"{cpu} {name} {folder}: x86 and arm64 disagree ({why})")
    return failures


def write_report(out: Path, report: dict[str, Any], final: bool) -> None:
    """``out/pi_emulated.json``; before the end, marked incomplete and not ok."""
    data = {**report, "wall_s": {k: round(v, 1) for k, v in report["wall_s"].items()}}
    if not final:
        data.update(ok=False, incomplete=True)
    (out / "pi_emulated.json").write_text(json.dumps(data, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("EDGEDET_PI_CACHE", Path.home() / ".cache/edgedet-pi")))
    parser.add_argument("--lite0-weights", type=Path, help="Lite0 checkpoint (BCCD-trained)")
    parser.add_argument("--d0-weights", type=Path,
                        help="D0 checkpoint (default: heads fitted to 8 BCCD images, D0 256)")
    parser.add_argument("--cpus", default=",".join(CPUS), help="qemu CPU models; the first runs everything")
    parser.add_argument("--demo-frames", type=int, help="stop the demo after N frames (default: all)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cpus = args.cpus.split(",")
    wall: dict[str, float] = {}
    report: dict[str, Any] = {"ok": False, "failures": [], "host": platform.machine(),
                              "cpus_emulated": cpus, "wall_s": wall, "kernels": {}}
    start = time.monotonic()
    try:
        rootfs, wall["rootfs"] = build_rootfs(args.cache)
        log(f"rootfs {rootfs} ({wall['rootfs']:.0f} s)")
        t = time.monotonic()
        wheels, wheel = download_wheels(args.cache), build_wheel(out)
        models = make_models(args.cache, args.lite0_weights, args.d0_weights)
        for model in models.values():
            model["frames"] = f"input{input_size(model['path'])}"
        folders = write_frames(out, {int(m["frames"][5:]) for m in models.values()})
        host = host_detections(models, folders, out)
        wall["host_preparation"] = time.monotonic() - t
        report["wheel"] = wheel.name
        report["models"] = {n: {k: str(v) for k, v in m.items()} for n, m in models.items()}
        report["x86"] = {k: next(iter(host.values()))[k] for k in ("machine", "numpy", "opencv")}
        report["x86"]["runtime"] = next(iter(host.values()))["models"][next(iter(host))]["runtime"]
        with Chroot(rootfs) as chroot:
            steps = GuestSteps(chroot, wheels, wheel, models, folders, VIDEO, HERE, ROOT, out, log)

            def save(partial: dict) -> None:
                report.update(partial)
                report["parity"] = {cpu: compare(host, found) for cpu, found in steps.detections.items()}
                write_report(out, report, final=False)

            steps.run_all(cpus, args.demo_frames, wall, save)
            t = time.monotonic()
            for name, model in models.items():
                if any(isinstance(summary, dict) and summary.get("gated") and not summary["agrees"]
                       for per_model in report["parity"].values() for summary in per_model[name].values()):
                    log(f"{name}: detections differ; probing its ops on x86 and {', '.join(cpus)}")
                    report["kernels"][name] = kernel_probe(chroot, model, folders[model["frames"]], cpus, out)
            wall["kernel_probe"] = time.monotonic() - t
    except Exception as exc:  # reported in the JSON, then the exit status
        report["failures"].append(f"{type(exc).__name__}: {exc}")
    wall["total"] = time.monotonic() - start
    report["failures"] += judge(report.get("parity", {}), report["kernels"],
                                DetectorOptions().score_threshold)
    report["failures"] += report.pop("guest_failures", [])
    report["ok"] = not report["failures"]
    write_report(out, report, final=True)
    log(f"{'OK' if report['ok'] else 'FAILED'}: {out / 'pi_emulated.json'}")
    for failure in report["failures"]:
        log(f"  - {failure[:2000]}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
