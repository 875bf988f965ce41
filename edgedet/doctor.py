"""What ``edgedet doctor`` finds out about this machine: each probe is a small function that
returns plain data, gathered into a :class:`Report`.

Nothing here imports torch, onnxruntime or openvino: their presence and versions come from
package metadata. Only what edgedet itself would import on a Pi is imported (numpy, OpenCV,
the TFLite interpreter, Picamera2), so the command runs where only the runtime is installed.

The JSON form (:meth:`Report.to_json`) has these keys, kept stable for scripts:

- ``edgedet``: version string.
- ``system``: ``os`` (PRETTY_NAME of /etc/os-release, or platform's name), ``os_id``,
  ``os_version`` (ID and VERSION_ID, or null), ``kernel``, ``arch`` (``platform.machine()``),
  ``bits`` (32/64, of this Python), ``python``, ``in_venv`` (bool), ``system_site_packages``
  (bool: whether the OS's packages, e.g. apt's python3-picamera2, are importable).
- ``cpu``: ``model`` (str, ``"unknown"`` when not found), ``board`` (/proc/device-tree/model or
  null), ``cores`` (logical CPUs), ``usable_cores`` (this process's affinity), ``features``
  (name -> bool; x86: avx2, avx512f, avx512_vnni, avx_vnni, amx, bf16; ARM: neon, dotprod,
  fp16, i8mm; empty elsewhere), ``features_source`` ("/proc/cpuinfo", "getauxval" or null).
- ``runtimes``: for each of ai-edge-litert, tflite-runtime, onnxruntime, openvino, torch,
  opencv, numpy, picamera2: ``{"installed": bool, "version": str|null, "distribution":
  str|null, "distributions": [str]}`` (``distributions``: every installed pip distribution of
  it; more than one OpenCV distribution is a clash).
- ``tflite``: ``interpreter`` ("ai-edge-litert", "tflite-runtime" or null: the one ``Detector``
  would use), ``int8_xnnpack`` (bool or null), ``error`` (str or null).
- ``cameras``: ``video_devices`` (list of /dev/video* paths), ``opencv_indices`` (indices that
  opened), ``opencv_probed`` (how many indices were tried, from 0), ``opencv_error`` (str or
  null), ``picamera2``: ``{"importable": bool, "error": str|null (what the import raised),
  "hint": str|null (how to fix it), "cameras": int|null (how many libcamera lists)}``.
- ``model``: null without ``--model``; else ``path``, ``error`` (str or null; when set, the
  keys below are null), ``format``, ``backend``, ``interpreter`` (TFLite only, else null),
  ``precision``, ``input_size`` (N when square, else [width, height]), ``classes`` (count), ``threads``,
  ``input_dtype``, ``timing``: ``{"runs", "frame": [w, h], "median_ms", "min_ms",
  "inference_median_ms", "indicative": true}``.
- ``advice``: list of one-line strings (empty when nothing needs doing).
"""
from __future__ import annotations

import ctypes
import glob
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import statistics
import struct
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

X86_ARCHES = ("x86_64", "amd64", "i386", "i686")
ARM_ARCHES = ("aarch64", "arm64", "armv6l", "armv7l", "armv8l")

# x86 feature -> the /proc/cpuinfo flags that give it (any of them).
X86_FLAGS = {
    "avx2": ("avx2",), "avx512f": ("avx512f",), "avx512_vnni": ("avx512_vnni",),
    "avx_vnni": ("avx_vnni",), "amx": ("amx_int8",), "bf16": ("avx512_bf16", "amx_bf16"),
}
# ARM feature -> the /proc/cpuinfo "Features" words that give it (32-bit kernels say "neon").
ARM_FLAGS = {
    "neon": ("asimd", "neon"), "dotprod": ("asimddp",), "fp16": ("fphp", "asimdhp"),
    "i8mm": ("i8mm",),
}
# The same features as bits of getauxval(AT_HWCAP) / getauxval(AT_HWCAP2) on arm64
# (Linux arch/arm64/include/uapi/asm/hwcap.h); fp16 needs both FPHP and ASIMDHP there.
AT_HWCAP, AT_HWCAP2 = 16, 26
ARM64_HWCAP = {"neon": 1 << 1, "dotprod": 1 << 20, "fp16": (1 << 9) | (1 << 10)}
ARM64_HWCAP2 = {"i8mm": 1 << 13}
# MIDR part numbers of ARM Ltd. (implementer 0x41) cores.
ARM_PARTS = {
    0xD03: "Cortex-A53 (Raspberry Pi 3)", 0xD04: "Cortex-A35", 0xD05: "Cortex-A55",
    0xD07: "Cortex-A57", 0xD08: "Cortex-A72 (Raspberry Pi 4)", 0xD09: "Cortex-A73",
    0xD0A: "Cortex-A75", 0xD0B: "Cortex-A76 (Raspberry Pi 5)", 0xD0C: "Neoverse-N1",
    0xD0D: "Cortex-A77", 0xD40: "Neoverse-V1", 0xD41: "Cortex-A78", 0xD44: "Cortex-X1",
    0xD46: "Cortex-A510", 0xD47: "Cortex-A710", 0xD48: "Cortex-X2", 0xD49: "Neoverse-N2",
}

# Report name -> (pip distributions that provide it, its import name).
RUNTIMES = {
    "ai-edge-litert": (("ai-edge-litert", "ai-edge-litert-nightly"), "ai_edge_litert"),
    "tflite-runtime": (("tflite-runtime",), "tflite_runtime"),
    "onnxruntime": (("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino"), "onnxruntime"),
    "openvino": (("openvino",), "openvino"),
    "torch": (("torch",), "torch"),
    "opencv": (("opencv-python-headless", "opencv-python", "opencv-contrib-python",
                "opencv-contrib-python-headless"), "cv2"),
    "numpy": (("numpy",), "numpy"),
    "picamera2": (("picamera2",), "picamera2"),
}
DEFAULT_CAMERA_PROBES = 4


@dataclass
class Report:
    """Everything ``edgedet doctor`` found; see the module docstring for the keys."""

    edgedet: str
    system: dict
    cpu: dict
    runtimes: dict
    tflite: dict
    cameras: dict
    model: Optional[dict]
    advice: list

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


# --- system -------------------------------------------------------------------------------

def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines of /etc/os-release (quotes removed)."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            found[key.strip()] = value.strip().strip("'\"")
    return found


def _read_text(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def system_site_packages_visible() -> bool:
    """Whether the OS's own site-packages are importable: always outside a venv, and inside
    one only when it was made with ``--system-site-packages``."""
    if sys.prefix == sys.base_prefix:
        return True
    config = parse_os_release(_read_text(os.path.join(sys.prefix, "pyvenv.cfg")) or "")
    return config.get("include-system-site-packages", "false").lower() == "true"


def probe_system() -> dict[str, Any]:
    release = parse_os_release(_read_text("/etc/os-release") or "")
    return {
        "os": release.get("PRETTY_NAME") or f"{platform.system()} {platform.release()}",
        "os_id": release.get("ID"), "os_version": release.get("VERSION_ID"),
        "kernel": platform.release(), "arch": platform.machine(),
        "bits": struct.calcsize("P") * 8, "python": platform.python_version(),
        "in_venv": sys.prefix != sys.base_prefix,
        "system_site_packages": system_site_packages_visible(),
    }


# --- CPU ----------------------------------------------------------------------------------

def parse_cpuinfo(text: str) -> dict[str, str]:
    """The first value of each ``key : value`` line of /proc/cpuinfo, keys lower-cased (the
    first processor's block, plus the board lines ARM kernels print at the end)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key and key not in found:
            found[key] = value.strip()
    return found


def _has_any(words: set[str], table: dict[str, tuple[str, ...]]) -> dict[str, bool]:
    return {name: any(w in words for w in flags) for name, flags in table.items()}


def cpu_features(arch: str, cpuinfo: dict[str, str], hwcap: Optional[int] = None,
                 hwcap2: Optional[int] = None) -> tuple[dict[str, bool], Optional[str]]:
    """The features edgedet cares about and where they came from. On ARM, /proc/cpuinfo's
    "Features" line; without it (qemu-user may show the host's cpuinfo) the arm64 hwcap
    bits, when given."""
    if arch in X86_ARCHES:
        flags = cpuinfo.get("flags")
        if flags is None:
            return {}, None
        return _has_any(set(flags.split()), X86_FLAGS), "/proc/cpuinfo"
    if arch not in ARM_ARCHES:
        return {}, None
    words = cpuinfo.get("features")
    if words is not None:
        return _has_any(set(words.split()), ARM_FLAGS), "/proc/cpuinfo"
    if hwcap is None or arch not in ("aarch64", "arm64"):
        return {}, None
    features = {name: hwcap & bits == bits for name, bits in ARM64_HWCAP.items()}
    features.update({name: (hwcap2 or 0) & bit == bit for name, bit in ARM64_HWCAP2.items()})
    return features, "getauxval"


def getauxval(kind: int) -> Optional[int]:
    """libc's ``getauxval(kind)``; None where there is no such function (not glibc/musl)."""
    try:
        function = ctypes.CDLL(None).getauxval
    except (OSError, AttributeError, TypeError):
        return None
    function.restype, function.argtypes = ctypes.c_ulong, [ctypes.c_ulong]
    return int(function(kind))


def arm_core_name(implementer: Optional[int], part: Optional[int]) -> str:
    """``"Cortex-A72 (Raspberry Pi 4)"`` for ARM's own parts, a hex description otherwise."""
    if part is None:
        return "unknown"
    if implementer in (None, 0x41) and part in ARM_PARTS:
        return ARM_PARTS[part]
    vendor = "unknown" if implementer is None else f"0x{implementer:02x}"
    return f"implementer {vendor}, part 0x{part:03x}"


def _int(text: Optional[str]) -> Optional[int]:
    try:
        return int(text, 0) if text else None
    except ValueError:
        return None


def cpu_model(arch: str, cpuinfo: dict[str, str], midr: Optional[str] = None) -> str:
    """The CPU's name: x86 "model name"; ARM "CPU part" (or the MIDR_EL1 register's part)."""
    if arch in ARM_ARCHES:
        part, implementer = _int(cpuinfo.get("cpu part")), _int(cpuinfo.get("cpu implementer"))
        value = _int(midr.strip()) if midr else None
        if part is None and value is not None:
            implementer, part = (value >> 24) & 0xFF, (value >> 4) & 0xFFF
        return arm_core_name(implementer, part)
    return cpuinfo.get("model name") or platform.processor() or "unknown"


def board_name(arch: str, cpuinfo: dict[str, str], device_tree: Optional[str]) -> Optional[str]:
    """The board ("Raspberry Pi 4 Model B Rev 1.4"): the device tree's model, else the
    "Model" line ARM kernels add to /proc/cpuinfo. An x86 "model" is a number, also when
    qemu-user shows an ARM program the host's cpuinfo."""
    if device_tree and device_tree.strip("\x00\n "):
        return device_tree.strip("\x00\n ")
    line = cpuinfo.get("model", "")
    return line if arch in ARM_ARCHES and line and not line.isdigit() else None


def probe_cpu() -> dict[str, Any]:
    arch = platform.machine().lower()
    info = parse_cpuinfo(_read_text("/proc/cpuinfo") or "")
    on_arm64 = arch in ("aarch64", "arm64")
    hwcap = getauxval(AT_HWCAP) if on_arm64 else None
    hwcap2 = getauxval(AT_HWCAP2) if on_arm64 else None
    features, source = cpu_features(arch, info, hwcap, hwcap2)
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {
        "model": cpu_model(arch, info,
                           _read_text("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1")),
        "board": board_name(arch, info, _read_text("/proc/device-tree/model")),
        "cores": os.cpu_count(), "usable_cores": usable,
        "features": features, "features_source": source,
    }


# --- runtimes -----------------------------------------------------------------------------

def package_status(distributions: tuple[str, ...], module: str) -> dict[str, Any]:
    """Whether a package is installed, without importing it: pip metadata first, then
    whether its module can be found at all (an apt package may carry no metadata)."""
    versions = {}
    for name in distributions:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        findable = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        findable = False
    first = next(iter(versions), None)
    return {"installed": bool(versions) or findable, "version": versions.get(first),
            "distribution": first, "distributions": list(versions)}


def probe_runtimes(table: Optional[dict[str, tuple[tuple[str, ...], str]]] = None) -> dict:
    return {name: package_status(*spec) for name, spec in (table or RUNTIMES).items()}


def probe_tflite() -> dict[str, Any]:
    """The interpreter ``Detector`` would use for a .tflite file (the backend's own choice)."""
    from edgedet.errors import MissingDependencyError

    try:
        from edgedet.runtimes.backends.tflite_backend import INT8_XNNPACK, interpreter_package

        package = interpreter_package()
    except MissingDependencyError:
        return {"interpreter": None, "int8_xnnpack": None, "error": None}
    except Exception as exc:  # a broken install (e.g. numpy ABI mismatch) must not stop doctor
        return {"interpreter": None, "int8_xnnpack": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"interpreter": package, "int8_xnnpack": INT8_XNNPACK.get(package), "error": None}


# --- cameras ------------------------------------------------------------------------------

def video_devices(pattern: str = "/dev/video*") -> list[str]:
    """Device nodes in number order (/dev/video2 before /dev/video10)."""
    def number(path: str) -> tuple[int, str]:
        digits = re.search(r"(\d+)$", path)
        return (int(digits.group(1)) if digits else -1, path)
    return sorted(glob.glob(pattern), key=number)


def opencv_log_level_api(cv2) -> tuple[Any, Any, int]:
    """(get, set, silent level) of OpenCV's C++ log level. OpenCV 5 has them in
    ``cv2.utils.logging`` only; 4.x (4.11, the Pi guide's pin) has no ``cv2.utils.logging``
    but ``cv2.getLogLevel`` / ``cv2.setLogLevel`` (found in the emulated arm64 system)."""
    log = getattr(cv2.utils, "logging", None)
    if log is not None:
        return log.getLogLevel, log.setLogLevel, log.LOG_LEVEL_SILENT
    return cv2.getLogLevel, cv2.setLogLevel, 0


def opencv_indices(count: int) -> tuple[list[int], Optional[str]]:
    """The camera indices 0..count-1 that OpenCV opens, with its logging silenced."""
    if count <= 0:
        return [], None
    from edgedet.thirdparty_output import is_verbose, quiet_c_stderr

    try:
        import cv2
    except Exception as exc:
        return [], f"{type(exc).__name__}: {exc}"
    get_level, set_level, silent = opencv_log_level_api(cv2)
    level = get_level()
    if not is_verbose():
        set_level(silent)
    opened = []
    try:
        with quiet_c_stderr():  # V4L2 / GStreamer print to fd 2 themselves
            for index in range(count):
                capture = cv2.VideoCapture(index)
                if capture.isOpened():
                    opened.append(index)
                capture.release()
    finally:
        set_level(level)
    return opened, None


def probe_picamera2() -> dict[str, Any]:
    """Whether Picamera2 imports (the demo's own import, with its install advice on failure)
    and how many cameras libcamera lists (none is opened)."""
    from edgedet.errors import MissingDependencyError
    from edgedet.thirdparty_output import quiet_c_stderr

    try:
        from edgedet.apps.picamera import import_picamera2

        with quiet_c_stderr():  # libcamera logs to fd 2 on import
            picamera2_class = import_picamera2()
    except MissingDependencyError as exc:  # its message says how to fix it; the cause, what broke
        cause = exc.__cause__ or exc
        return {"importable": False, "error": f"{type(cause).__name__}: {cause}",
                "hint": str(exc), "cameras": None}
    except Exception as exc:
        return {"importable": False, "error": f"{type(exc).__name__}: {exc}", "hint": None,
                "cameras": None}
    try:
        with quiet_c_stderr():
            cameras = len(picamera2_class.global_camera_info())
    except Exception:  # older Picamera2, or no libcamera: the import result still stands
        cameras = None
    return {"importable": True, "error": None, "hint": None, "cameras": cameras}


def probe_cameras(count: int = DEFAULT_CAMERA_PROBES) -> dict[str, Any]:
    indices, error = opencv_indices(count)
    return {"video_devices": video_devices(), "opencv_indices": indices,
            "opencv_probed": max(count, 0), "opencv_error": error,
            "picamera2": probe_picamera2()}


# --- model --------------------------------------------------------------------------------

MODEL_KEYS = ("format", "backend", "interpreter", "precision", "input_size", "classes",
              "threads", "input_dtype", "timing")


def probe_model(path: str, threads: int = 1, runs: int = 5,
                frame_size: tuple[int, int] = (640, 480)) -> dict[str, Any]:
    """What ``Detector(path)`` gets, and ``runs`` timed detect() calls (after one warm-up) on
    a synthetic frame: indicative only. ``error`` is set (the rest null) if it fails to open."""
    import numpy as np

    from edgedet.runtimes import Detector
    from edgedet.runtimes.formats import format_of

    report: dict[str, Any] = {"path": str(path), "error": None, **dict.fromkeys(MODEL_KEYS)}
    try:
        # The backends keep their runtimes' load messages off the terminal themselves.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the interpreter choice is reported by probe_tflite
            row = format_of(path)
            detector = Detector(path, num_threads=threads)
    except Exception as exc:  # EdgedetError mostly; a runtime's own error otherwise
        report["error"] = str(exc) if _is_edgedet_error(exc) else f"{type(exc).__name__}: {exc}"
        return report
    info = detector.info
    width, height = frame_size
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    totals, inference = [], []
    for i in range(max(runs, 0) + 1):
        start = time.perf_counter()
        detector.detect(frame)
        if i:  # the first call warms caches and allocators up
            totals.append((time.perf_counter() - start) * 1e3)
            inference.append(detector.timings["inference_ms"])
    report.update(
        format=row.name, backend=info["backend"], interpreter=info.get("interpreter"),
        precision=info["precision"], input_size=info["input_size"],
        classes=len(info["classes"]), threads=info["threads"],
        input_dtype=info.get("input_dtype"),
        timing={"runs": len(totals), "frame": [width, height],
                "median_ms": round(statistics.median(totals), 2) if totals else None,
                "min_ms": round(min(totals), 2) if totals else None,
                "inference_median_ms": round(statistics.median(inference), 2) if inference else None,
                "indicative": True})
    return report


def _is_edgedet_error(exc: BaseException) -> bool:
    from edgedet.errors import EdgedetError

    return isinstance(exc, EdgedetError)


# --- advice -------------------------------------------------------------------------------

def advise(system: dict, cpu: dict, runtimes: dict, tflite: dict, cameras: dict,
           model: Optional[dict]) -> list[str]:
    """Short things to do, most important first."""
    advice = []
    arch, features = system["arch"].lower(), cpu["features"]
    if system["bits"] == 32 or arch in ("armv6l", "armv7l", "armv8l", "i386", "i686"):
        advice.append("32-bit OS: the runtimes publish no wheels for it; use 64-bit "
                      "Raspberry Pi OS (or another 64-bit OS)")
    if tflite["interpreter"] == "tflite-runtime":
        advice.append("int8 without XNNPACK (tflite-runtime runs int8 ~15x slower): "
                      "pip install ai-edge-litert")
    elif tflite["error"]:
        advice.append(f"the TFLite interpreter failed to import ({tflite['error']}); "
                      "reinstall it: pip install --force-reinstall ai-edge-litert")
    elif not any(runtimes[n]["installed"] for n in ("ai-edge-litert", "tflite-runtime",
                                                      "onnxruntime", "openvino")):
        advice.append("no inference runtime installed: pip install 'edgedet[tflite]' "
                      "(or [onnx] / [openvino])")
    if arch in ("aarch64", "arm64") and features.get("dotprod") is False:
        advice.append("aarch64 without dotprod: int8 gains less over fp32 (a Pi 4's Cortex-A72 "
                      "has no dotprod; a Pi 5's Cortex-A76 has it)")
    if arch in X86_ARCHES and features and not (features.get("avx512_vnni")
                                                or features.get("avx_vnni")):
        advice.append("x86 without VNNI: int8 gains little over fp32 here (10-24% measured on "
                      "an AVX2-only CPU)")
    opencv = runtimes["opencv"]["distributions"]
    if len(opencv) > 1:
        advice.append(f"several OpenCV distributions installed ({', '.join(opencv)}): they "
                      "overwrite each other's cv2; pip uninstall all of them but "
                      "opencv-python-headless, then reinstall it")
    picamera = cameras["picamera2"]
    on_pi = "raspberry pi" in (cpu.get("board") or "").lower()
    if on_pi and not picamera["importable"]:
        if system["in_venv"] and not system["system_site_packages"]:
            advice.append("Picamera2 is an apt package the venv cannot see: sudo apt install "
                          "python3-picamera2, then recreate the venv with "
                          "python3 -m venv --system-site-packages")
        else:
            advice.append(picamera["hint"] or f"Picamera2 does not import: {picamera['error']}")
    if model and model["error"] is None and model["precision"] == "int8" \
            and model["interpreter"] == "tflite-runtime":
        advice.append("this int8 model runs through tflite-runtime without XNNPACK: "
                      "pip install ai-edge-litert")
    return advice


def diagnose(model: Optional[str] = None, threads: int = 1, runs: int = 5,
             camera_probes: int = DEFAULT_CAMERA_PROBES) -> Report:
    """Run every probe (and the model's, when ``model`` is given)."""
    from edgedet import __version__

    system, cpu, runtimes = probe_system(), probe_cpu(), probe_runtimes()
    tflite, cameras = probe_tflite(), probe_cameras(camera_probes)
    model_report = probe_model(model, threads, runs) if model else None
    return Report(__version__, system, cpu, runtimes, tflite, cameras, model_report,
                  advise(system, cpu, runtimes, tflite, cameras, model_report))
