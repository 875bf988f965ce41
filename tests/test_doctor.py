"""edgedet doctor: sections and JSON keys on this machine, CPU parsing from sample x86 and
Raspberry Pi /proc/cpuinfo texts and from hwcap bits, absent runtimes, advice, --model, and a
torch-free run."""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import types

import pytest

from convert_fixtures import shared_cache
from edgedet import doctor
from edgedet.cli import main

fast = pytest.mark.fast

# A Xeon with AVX-512 VNNI but no AMX/AVX-VNNI (two processors; flags trimmed).
X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
flags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni

processor\t: 1
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512_vnni
"""
X86_AVX2_ONLY = "model name\t: AMD EPYC 7B12\nflags\t\t: fpu sse sse2 avx avx2 fma\n"


def _pi_cpuinfo(features: str, variant: str, part: str, revision: str, board: str) -> str:
    core = (f"BogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
            f"CPU architecture: 8\nCPU variant\t: {variant}\nCPU part\t: {part}\n"
            f"CPU revision\t: {revision}\n")
    blocks = "\n".join(f"processor\t: {i}\n{core}" for i in range(4))
    return f"{blocks}\nRevision\t: c03114\nSerial\t\t: 10000000abcdef01\nModel\t\t: {board}\n"


PI4_CPUINFO = _pi_cpuinfo("fp asimd evtstrm crc32 cpuid", "0x0", "0xd08", "3",
                          "Raspberry Pi 4 Model B Rev 1.4")
PI5_CPUINFO = _pi_cpuinfo(
    "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc "
    "dcpop asimddp", "0x4", "0xd0b", "1", "Raspberry Pi 5 Model B Rev 1.0")

TOP_KEYS = {"edgedet", "system", "cpu", "runtimes", "tflite", "cameras", "model", "advice"}
SYSTEM_KEYS = {"os", "os_id", "os_version", "kernel", "arch", "bits", "python", "in_venv",
               "system_site_packages"}
CPU_KEYS = {"model", "board", "cores", "usable_cores", "features", "features_source"}
RUNTIME_KEYS = {"installed", "version", "distribution", "distributions"}
CAMERA_KEYS = {"video_devices", "opencv_indices", "opencv_probed", "opencv_error", "picamera2"}
MODEL_KEYS = {"path", "error", *doctor.MODEL_KEYS}


def _run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["doctor", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@fast
def test_json_on_this_machine_has_every_key(capsys):
    code, out, _ = _run_cli(capsys, "--json", "--cameras", "1")
    report = json.loads(out)
    assert code == 0
    assert set(report) == TOP_KEYS and report["model"] is None
    assert set(report["system"]) == SYSTEM_KEYS and set(report["cpu"]) == CPU_KEYS
    assert set(report["runtimes"]) == set(doctor.RUNTIMES)
    assert all(set(entry) == RUNTIME_KEYS for entry in report["runtimes"].values())
    assert set(report["tflite"]) == {"interpreter", "int8_xnnpack", "error"}
    assert set(report["cameras"]) == CAMERA_KEYS and report["cameras"]["opencv_probed"] == 1
    assert set(report["cameras"]["picamera2"]) == {"importable", "error", "hint", "cameras"}
    assert report["system"]["arch"] == platform.machine()
    assert report["runtimes"]["numpy"]["installed"] and report["runtimes"]["numpy"]["version"]
    if platform.machine() == "x86_64":
        assert set(report["cpu"]["features"]) == set(doctor.X86_FLAGS)
        assert report["cpu"]["features_source"] == "/proc/cpuinfo"


@fast
def test_text_output_is_grouped_and_aligned(capsys):
    code, out, _ = _run_cli(capsys, "--cameras", "0")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("edgedet doctor")
    titles = [line for line in lines if line and not line.startswith(" ")][1:]
    assert titles == ["System", "CPU", "Runtimes", "Cameras", "Advice"]
    rows = [line for line in lines if line.startswith("  ") and not line.startswith("  -")
            and line.strip() != "(nothing to do)"]
    value_columns = {len(row) - len(row[2:].split("  ", 1)[1].lstrip()) for row in rows}
    assert len(value_columns) == 1, rows  # every value starts in the same column
    assert any(line.split()[:1] == ["ai-edge-litert"] for line in lines)
    assert "not probed" in out


@fast
def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as done:
        main(["doctor", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert all(flag in out for flag in ("--model", "--json", "--threads", "--cameras"))


@fast
def test_x86_flags_from_cpuinfo():
    info = doctor.parse_cpuinfo(X86_CPUINFO)
    features, source = doctor.cpu_features("x86_64", info)
    assert source == "/proc/cpuinfo"
    assert features == {"avx2": True, "avx512f": True, "avx512_vnni": True, "avx_vnni": False,
                        "amx": False, "bf16": False}
    assert doctor.cpu_model("x86_64", info) == "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"
    assert doctor.board_name("x86_64", info, None) is None


@fast
@pytest.mark.parametrize("text, core, board, expected", [
    (PI4_CPUINFO, "Cortex-A72 (Raspberry Pi 4)", "Raspberry Pi 4 Model B Rev 1.4",
     {"neon": True, "dotprod": False, "fp16": False, "i8mm": False}),
    (PI5_CPUINFO, "Cortex-A76 (Raspberry Pi 5)", "Raspberry Pi 5 Model B Rev 1.0",
     {"neon": True, "dotprod": True, "fp16": True, "i8mm": False}),
])
def test_raspberry_pi_cpuinfo(text, core, board, expected):
    info = doctor.parse_cpuinfo(text)
    assert doctor.cpu_features("aarch64", info, hwcap=0, hwcap2=0) == (expected, "/proc/cpuinfo")
    assert doctor.cpu_model("aarch64", info) == core
    assert doctor.board_name("aarch64", info, None) == board
    assert doctor.board_name("aarch64", info, "Raspberry Pi 4 Model B\x00") == "Raspberry Pi 4 Model B"


@fast
def test_arm64_features_from_hwcap_when_cpuinfo_lacks_them():
    # What qemu-user may show an arm64 program: the x86 host's /proc/cpuinfo.
    host = doctor.parse_cpuinfo(X86_CPUINFO)
    a76 = (1 << 1) | (1 << 9) | (1 << 10) | (1 << 20)
    assert doctor.cpu_features("aarch64", host, hwcap=a76, hwcap2=0) == (
        {"neon": True, "dotprod": True, "fp16": True, "i8mm": False}, "getauxval")
    # fp16 arithmetic needs both FPHP and ASIMDHP; i8mm is in AT_HWCAP2.
    assert doctor.cpu_features("aarch64", {}, hwcap=(1 << 1) | (1 << 9), hwcap2=1 << 13)[0] == {
        "neon": True, "dotprod": False, "fp16": False, "i8mm": True}
    assert doctor.cpu_features("aarch64", {}, hwcap=None) == ({}, None)
    assert doctor.cpu_model("aarch64", host) == "unknown"
    assert doctor.board_name("aarch64", host, None) is None  # x86 "model : 85" is no board
    assert doctor.cpu_model("aarch64", {}, midr="0x00000000414fd0b1\n") == "Cortex-A76 (Raspberry Pi 5)"
    assert doctor.cpu_model("aarch64", {}, midr="0x00000000610f0000") == "implementer 0x61, part 0x000"


def _machine(arch: str, cpuinfo: str, board=None, **runtimes_installed) -> dict:
    """probe-shaped dicts for advise(): an aarch64 / x86 machine with chosen runtimes."""
    info = doctor.parse_cpuinfo(cpuinfo)
    runtimes = {name: {"installed": runtimes_installed.get(name.replace("-", "_"), False),
                       "version": None, "distribution": None, "distributions": []}
                for name in doctor.RUNTIMES}
    return {
        "system": {"arch": arch, "bits": 64, "in_venv": True, "system_site_packages": False},
        "cpu": {"features": doctor.cpu_features(arch, info)[0], "board": board},
        "runtimes": runtimes,
        "tflite": {"interpreter": "ai-edge-litert", "int8_xnnpack": True, "error": None},
        "cameras": {"picamera2": {"importable": False, "error": "ModuleNotFoundError", "hint": None}},
        "model": None,
    }


@fast
def test_advice_for_a_pi4_in_a_plain_venv_and_a_pi5():
    pi4 = doctor.advise(**_machine("aarch64", PI4_CPUINFO, "Raspberry Pi 4 Model B",
                                   ai_edge_litert=True))
    assert any("without dotprod" in a for a in pi4)
    assert any("--system-site-packages" in a for a in pi4)
    pi5 = doctor.advise(**_machine("aarch64", PI5_CPUINFO, ai_edge_litert=True))
    assert pi5 == []


@fast
def test_advice_for_32_bit_avx2_only_and_opencv_clash():
    machine = _machine("x86_64", X86_AVX2_ONLY, onnxruntime=True)
    machine["runtimes"]["opencv"]["distributions"] = ["opencv-python-headless", "opencv-python"]
    advice = doctor.advise(**machine)
    assert any("without VNNI" in a for a in advice)
    assert any("opencv-python-headless, opencv-python" in a for a in advice)
    machine = _machine("armv7l", "Features\t: half thumb fastmult vfp edsp neon vfpv3\n")
    machine["system"]["bits"] = 32
    assert any(a.startswith("32-bit OS") for a in doctor.advise(**machine))


@fast
def test_missing_runtime_is_reported_absent(capsys):
    ghost = doctor.probe_runtimes({"ghost": (("edgedet-no-such-dist",), "edgedet_no_such_module")})
    assert ghost == {"ghost": {"installed": False, "version": None, "distribution": None,
                               "distributions": []}}
    assert doctor.package_status(("numpy",), "numpy")["distribution"] == "numpy"


@fast
def test_no_tflite_interpreter_and_tflite_runtime_fallback(monkeypatch):
    for name in ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime",
                 "tflite_runtime.interpreter"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    assert doctor.probe_tflite() == {"interpreter": None, "int8_xnnpack": None, "error": None}
    machine = _machine("x86_64", X86_CPUINFO)
    machine["tflite"] = doctor.probe_tflite()
    assert any("no inference runtime" in a for a in doctor.advise(**machine))

    fake = types.ModuleType("tflite_runtime")
    fake.interpreter = types.SimpleNamespace(Interpreter=object)
    monkeypatch.setitem(sys.modules, "tflite_runtime", fake)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", fake.interpreter)
    machine["tflite"] = doctor.probe_tflite()
    assert machine["tflite"] == {"interpreter": "tflite-runtime", "int8_xnnpack": False, "error": None}
    assert any("without XNNPACK" in a and "pip install ai-edge-litert" in a
               for a in doctor.advise(**machine))


@fast
def test_a_model_that_fails_to_open_exits_2_after_the_report(tmp_path, capsys):
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(b"\x00" * 4 + b"TFL3" + b"\x00" * 40)
    code, out, err = _run_cli(capsys, "--model", str(bad), "--json", "--cameras", "0")
    report = json.loads(out)
    assert code == 2 and "cut.tflite" in err
    assert report["model"]["error"] and report["model"]["backend"] is None
    assert set(report["model"]) == MODEL_KEYS


@pytest.fixture(scope="module")
def small_tflite(tmp_path_factory, small_checkpoint):
    pytest.importorskip("ai_edge_litert")
    return shared_cache(tmp_path_factory, small_checkpoint).get("tflite", "fp32")


def test_model_backend_threads_and_timed_run(small_tflite, capsys):
    path = small_tflite
    code, out, _ = _run_cli(capsys, "--model", str(path), "--json", "--runs", "2",
                            "--threads", "2", "--cameras", "0")
    model = json.loads(out)["model"]
    assert code == 0 and set(model) == MODEL_KEYS and model["error"] is None
    assert (model["format"], model["backend"], model["interpreter"]) == (
        "tflite", "tflite", "ai-edge-litert")
    assert (model["precision"], model["input_size"], model["classes"], model["threads"]) == (
        "fp32", 256, 3, 2)
    assert model["timing"]["runs"] == 2 and model["timing"]["indicative"] is True
    assert model["timing"]["min_ms"] <= model["timing"]["median_ms"]
    code, out, _ = _run_cli(capsys, "--model", str(path), "--runs", "1", "--cameras", "0")
    assert code == 0 and "\nModel\n" in out and "indicative" in out


@fast
def test_doctor_runs_with_torch_blocked():
    code = """
import json, sys
sys.modules["torch"] = None  # any import of torch now raises ImportError
import io, contextlib
from edgedet.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["doctor", "--json", "--cameras", "1"])
heavy = sorted(m for m, v in sys.modules.items()
               if v is not None and m.split(".")[0] in ("torch", "onnxruntime", "openvino"))
print(json.dumps({"code": code, "heavy": heavy, "report": json.loads(out.getvalue())}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["code"] == 0 and result["heavy"] == []
    assert set(result["report"]) == TOP_KEYS


@fast
def test_picamera2_probe_with_a_fake_module(monkeypatch):
    """A stand-in for Raspberry Pi OS's picamera2 (not on PyPI for this machine): the probe
    imports it the way the demo does and counts the cameras libcamera lists."""
    fake = types.ModuleType("picamera2")
    fake.Picamera2 = type("Picamera2", (), {"global_camera_info": staticmethod(
        lambda: [{"Model": "imx708", "Num": 0}])})
    monkeypatch.setitem(sys.modules, "picamera2", fake)
    assert doctor.probe_picamera2() == {"importable": True, "error": None, "hint": None,
                                        "cameras": 1}
    monkeypatch.setitem(sys.modules, "picamera2", None)
    missing = doctor.probe_picamera2()
    assert not missing["importable"] and "--system-site-packages" in missing["hint"]
    assert missing["error"].startswith("ModuleNotFoundError")


def test_opencv_log_level_api_on_opencv_4_and_5():
    """OpenCV 4.11 (the Pi guide's pin) has no cv2.utils.logging: doctor crashed there."""
    import types

    calls = []
    five = types.SimpleNamespace(utils=types.SimpleNamespace(logging=types.SimpleNamespace(
        getLogLevel=lambda: 3, setLogLevel=calls.append, LOG_LEVEL_SILENT=0)))
    four = types.SimpleNamespace(utils=types.SimpleNamespace(), getLogLevel=lambda: 2,
                                 setLogLevel=calls.append)
    for cv2, level in ((five, 3), (four, 2)):
        get_level, set_level, silent = doctor.opencv_log_level_api(cv2)
        assert get_level() == level and silent == 0
        set_level(silent)
    assert calls == [0, 0]
