"""The Raspberry Pi guide's steps, run inside the emulated arm64 system (``pi_emulated.py``).

Each step returns plain data for ``pi_emulated.json`` and adds a line to ``failures`` when
its check does not hold; a step whose command fails raises (its output in the message).
pip runs offline from the wheels downloaded on x86 (``PIP_NO_INDEX`` / ``PIP_FIND_LINKS``),
so the pip commands themselves are the guide's.
"""
from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any, Callable

import cv2

from _pi_chroot import GUEST_WORK, Chroot

VENV = "/root/edgedet-env"  # the guide's ~/edgedet-env
ACTIVATE = f". {VENV}/bin/activate"
PIN = '"numpy<2"'  # the guide's pin, in the same pip command as the wheel
OLD_GUIDE_PINS = '"numpy<2" "opencv-python-headless<4.12"'  # once a pip command of their own
# Where `sudo pip install` puts modules on Debian: every --system-site-packages venv sees
# it, as it sees apt's /usr/lib/python3/dist-packages. The numpy-1.x-built stand-ins go here.
SYSTEM_SITE = "/usr/local/lib/python3.11/dist-packages"
EMULATED_NOTE = "EMULATED (qemu-user on x86): these latencies say nothing about a Raspberry Pi"


class GuestSteps:
    """One emulated system's run of the guide, against one set of model files and frames."""

    def __init__(self, chroot: Chroot, wheels: Path, wheel: Path, models: dict, folders: dict,
                 video: Path, scripts: Path, repo: Path, out: Path, log: Callable[[str], None]):
        self.chroot, self.models, self.out, self.log = chroot, models, out, log
        self.wheels = chroot.copy_in(wheels, "wheels")
        self.wheel = chroot.copy_in(wheel, f"dist/{wheel.name}")
        self.guest_models = {name: chroot.copy_in(m["path"], f"models/{name}") for name, m in models.items()}
        self.guest_frames = {key: chroot.copy_in(folder, f"frames/{key}") for key, folder in folders.items()}
        self.video = chroot.copy_in(video, video.name)
        self.detect_script = chroot.copy_in(scripts / "pi_detect.py")
        self.fakes = chroot.copy_in(repo / "tests/fakes", "fakes")
        self.pip_env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": self.wheels, "PIP_ONLY_BINARY": ":all:"}
        self.failures: list[str] = []
        self.detections: dict[str, dict] = {}

    def sh(self, command: str, cpu: str, what: str, venv: str = VENV, **kwargs) -> str:
        """``command`` in the guest with ``venv`` active (when it exists); its output."""
        prefix = f"[ -e {venv}/bin/activate ] && . {venv}/bin/activate; cd {GUEST_WORK}; "
        result = self.chroot.run(prefix + command, cpu, env=self.pip_env, **kwargs)
        return result.check(what).output

    def timed(self, command: str, cpu: str, what: str, wall: dict, key: str, **kwargs) -> str:
        result = self.chroot.run(f"cd {GUEST_WORK}; " + command, cpu, env=self.pip_env, **kwargs)
        wall[key] = result.seconds
        self.log(f"{what}: {result.seconds:.0f} s")
        return result.check(what).output

    def expect(self, condition: bool, failure: str) -> None:
        if not condition:
            self.failures.append(failure)

    # -- the guide, step by step ------------------------------------------------------------
    def install(self, cpu: str, wall: dict) -> dict[str, Any]:
        """Section 2 of the guide: the venv, the wheel with [tflite] and the pins in one pip
        command (a pin in an earlier command does not bind a later one), the check."""
        wheel = shlex.quote(f"{self.wheel}[tflite]")
        output = self.timed(
            f"set -e; rm -rf {VENV}; python3 -m venv --system-site-packages {VENV}; {ACTIVATE}; "
            f"pip install -q {PIN} {wheel}; "
            "python -c \"from edgedet import Detector; import ai_edge_litert; print('ok')\"",
            cpu, "the guide's install", wall, "guest_install")
        self.expect(output.strip().endswith("ok"), f"install check did not print ok: {output[-500:]}")
        freeze = self.sh("pip list --format=json", cpu, "pip list")
        packages = {p["name"]: p["version"] for p in json.loads(freeze.strip().splitlines()[-1])}
        check = self.chroot.run(f"{ACTIVATE}; pip check", cpu)
        size_kb = int(self.sh(f"du -sk {VENV} | cut -f1", cpu, "du").split()[-1])
        probe = self.sh("python -c \"import importlib.util as u, numpy, cv2, platform; "
                        "print(platform.machine(), numpy.__version__, numpy.__file__, cv2.__version__, "
                        "u.find_spec('torch') is None)\"", cpu, "import probe").split()
        self.expect(check.returncode == 0, f"pip check: {check.output.strip()}")
        self.expect(probe[0] == "aarch64", f"the guest's Python runs as {probe[0]}, not aarch64")
        self.expect(probe[-1] == "True", "torch is importable in the runtime venv")
        return {"packages": packages, "pip_check": check.output.strip(), "pip_check_ok": check.returncode == 0,
                "venv_size_mb": round(size_kb / 1024, 1), "machine": probe[0],
                "numpy_in_use": f"{probe[1]} ({probe[2]})", "opencv_in_use": probe[3],
                "torch_absent": probe[-1] == "True"}

    def detect(self, cpu: str, wall: dict) -> None:
        """``Detector`` on every file over its raw and letterboxed frames."""
        reports = {}
        for name, guest_model in self.guest_models.items():
            frames = self.models[name]["frames"]
            target = f"{GUEST_WORK}/out/{cpu}_{name}.json"
            self.timed(f"mkdir -p out; {ACTIVATE}; python {self.detect_script} {guest_model} --out {target} "
                       f"--frames {self.guest_frames['raw']} --frames {self.guest_frames[frames]}",
                       cpu, f"{cpu}: Detector on {name}", wall, f"detect_{cpu}_{name}")
            reports[name] = json.loads(self.chroot.host_path(target).read_text())
            self.expect(reports[name]["machine"] == "aarch64", f"{cpu}: pi_detect ran as {reports[name]['machine']}")
        self.detections[cpu] = reports

    def demo(self, cpu: str, wall: dict, max_frames: int | None) -> dict[str, Any]:
        """``edgedet demo`` headless on the video; the mp4 and JSONL checked on x86."""
        model = self.guest_models["lite0_int8.tflite"]
        limit = f" --max-frames {max_frames}" if max_frames else ""
        output = self.timed(f"rm -f out/out.mp4 out/dets.jsonl; {ACTIVATE}; edgedet demo --model {model} "
                            f"--source {self.video} --headless --save out/out.mp4 --jsonl out/dets.jsonl{limit}",
                            cpu, f"{cpu}: edgedet demo", wall, "demo")
        mp4, jsonl = (self.chroot.host_path(f"{GUEST_WORK}/out/{n}") for n in ("out.mp4", "dets.jsonl"))
        capture = cv2.VideoCapture(str(mp4))
        mp4_frames = 0
        while capture.read()[0]:
            mp4_frames += 1
        size = [int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))]
        capture.release()
        lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
        source = cv2.VideoCapture(str(self.chroot.host_path(self.video)))
        source_frames = int(source.get(cv2.CAP_PROP_FRAME_COUNT))
        source_size = [int(source.get(cv2.CAP_PROP_FRAME_WIDTH)), int(source.get(cv2.CAP_PROP_FRAME_HEIGHT))]
        source.release()
        expected = min(source_frames, max_frames or source_frames)
        boxes = sum(len(line["detections"]) for line in lines)
        self.expect(mp4_frames == expected, f"demo mp4 has {mp4_frames} frames, expected {expected}")
        self.expect(len(lines) == expected, f"demo JSONL has {len(lines)} lines, expected {expected}")
        self.expect([line["frame"] for line in lines] == list(range(expected)), "JSONL frame numbers not 0..n-1")
        self.expect(size == source_size, f"demo mp4 is {size}, the source {source_size}")
        self.expect(all([line["width"], line["height"]] == source_size for line in lines), "JSONL sizes")
        return {"mp4_frames": mp4_frames, "mp4_size": size, "jsonl_lines": len(lines),
                "source_frames": source_frames, "boxes_in_jsonl": boxes,
                "summary": output.strip().splitlines()[-8:]}

    def benchmark(self, cpu: str, wall: dict) -> dict[str, Any]:
        models = " ".join(self.guest_models.values())
        self.timed(f"{ACTIVATE}; edgedet benchmark {models} --runs 3 --warmup 1 --force --json out/bench.json",
                   cpu, f"{cpu}: edgedet benchmark", wall, "benchmark")
        rows = json.loads(self.chroot.host_path(f"{GUEST_WORK}/out/bench.json").read_text())
        return {"note": EMULATED_NOTE, "results": rows}

    def doctor(self, cpu: str, wall: dict) -> dict[str, Any]:
        text = self.timed(f"{ACTIVATE}; edgedet doctor --model {self.guest_models['lite0_int8.tflite']} --runs 2",
                          cpu, f"{cpu}: edgedet doctor", wall, f"doctor_{cpu}")
        data = json.loads(self.sh("edgedet doctor --json", cpu, "edgedet doctor --json"))
        features = data["cpu"]["features"]
        self.expect(data["system"]["arch"] == "aarch64", f"{cpu}: doctor says arch {data['system']['arch']}")
        self.expect(features.get("neon") is True, f"{cpu}: doctor finds no NEON ({features})")
        if cpu == "cortex-a76":
            self.expect(features.get("dotprod") is True, f"cortex-a76: doctor finds no dotprod ({features})")
        self.expect(data["tflite"]["interpreter"] == "ai-edge-litert", f"{cpu}: TFLite interpreter {data['tflite']}")
        return {"text": text.rstrip().splitlines(), "arch": data["system"]["arch"], "cpu": data["cpu"],
                "tflite": data["tflite"], "os": data["system"]["os"], "advice": data["advice"]}

    def picamera_fake(self, cpu: str, wall: dict) -> dict[str, Any]:
        """``--source picamera`` against the FAKE picamera2 (tests/fakes): the real code path
        of apps/picamera.py, the fake's calls and the demo's output checked."""
        log = f"{GUEST_WORK}/out/picamera_calls.jsonl"
        env = f"PYTHONPATH={self.fakes} FAKE_PICAMERA2_LOG={log} FAKE_PICAMERA2_VIDEO={self.video}"
        self.timed(f"rm -f {log} out/picam.jsonl; {ACTIVATE}; {env} edgedet demo --model "
                   f"{self.guest_models['lite0_int8.tflite']} --source picamera --size 640x480 --headless "
                   "--max-frames 5 --jsonl out/picam.jsonl", cpu, f"{cpu}: demo on the FAKE picamera2",
                   wall, "picamera_fake")
        calls = [json.loads(line)["call"] for line in self.chroot.host_path(log).read_text().splitlines()]
        lines = [json.loads(line) for line in self.chroot.host_path(f"{GUEST_WORK}/out/picam.jsonl").read_text().splitlines()]
        doctor = json.loads(self.sh(f"{env} edgedet doctor --json", cpu, "doctor with the fake"))["cameras"]["picamera2"]
        expected = ["Picamera2", "create_preview_configuration", "configure", "start", "stop", "close"]
        self.expect(calls == expected, f"fake picamera2 calls {calls}, expected {expected}")
        self.expect(len(lines) == 5 and all([l["width"], l["height"]] == [640, 480] for l in lines),
                    f"picamera demo JSONL: {len(lines)} lines")
        self.expect(doctor["importable"] and doctor["cameras"] == 1, f"doctor with the fake: {doctor}")
        return {"label": "FAKE picamera2 (tests/fakes/picamera2), not the real package",
                "calls": calls, "jsonl_lines": len(lines), "frame_size": [lines[0]["width"], lines[0]["height"]],
                "doctor_picamera2": doctor}

    def pins(self, cpu: str, wall: dict) -> dict[str, Any]:
        """Do the guide's pins matter? A numpy-1.x-built module in the system site (as apt's
        python3-simplejpeg is on Raspberry Pi OS), then venvs installed three ways beside it."""
        result: dict[str, Any] = {}
        stand_ins = f"pip install -q --no-deps --target {SYSTEM_SITE} simplejpeg==1.6.6 picamera2"
        self.sh(f"mkdir -p {SYSTEM_SITE}; {stand_ins}", cpu, "installing the system stand-ins")
        wheel = shlex.quote(f"{self.wheel}[tflite]")
        variants = {  # name: (venv, pip commands; None: the guide's venv, already installed)
            "unpinned": ("/root/env-unpinned", [f"pip install -q {wheel}"]),
            "pins in an earlier command (the old guide)": (
                "/root/env-two-steps", [f"pip install -q {OLD_GUIDE_PINS}", f"pip install -q {wheel}"]),
            "pins in the same command (the guide)": (VENV, None),
        }
        probe = ("python -c \"import numpy, cv2; print('numpy', numpy.__version__, 'opencv', cv2.__version__)\"; "
                 "python -c 'import simplejpeg; print(\"simplejpeg\", simplejpeg.__version__, \"imports\")' 2>&1 | tail -1; "
                 "python -c 'from edgedet.apps.picamera import import_picamera2; import_picamera2()' 2>&1 | tail -1")
        try:
            for name, (venv, commands) in variants.items():
                if commands is not None:
                    self.timed(f"set -e; rm -rf {venv}; python3 -m venv --system-site-packages {venv}; "
                               f". {venv}/bin/activate; " + "; ".join(commands), cpu, f"{name} install",
                               wall, f"pins_{venv.rsplit('/', 1)[-1]}")
                result[name] = self.sh(probe, cpu, f"{name} probe", venv=venv).strip().splitlines()
            lite0 = self.guest_models["lite0_int8.tflite"]
            frames = self.guest_frames[self.models["lite0_int8.tflite"]["frames"]]
            self.sh(f"python {self.detect_script} {lite0} --out out/unpinned_lite0.json --frames {frames}",
                    cpu, "Detector in the unpinned venv", venv="/root/env-unpinned")
            unpinned = json.loads(self.chroot.host_path(f"{GUEST_WORK}/out/unpinned_lite0.json").read_text())
            pinned = self.detections[cpu]["lite0_int8.tflite"]
            key = Path(frames).name
            result["unpinned_detections_equal_guide_venv"] = (
                unpinned["models"]["lite0_int8.tflite"]["frames"][key]
                == pinned["models"]["lite0_int8.tflite"]["frames"][key])
            result["one_pin_only"] = {pin: self.resolve(cpu, pin, wheel)
                                      for pin in ('"numpy<2"', '"opencv-python-headless<4.12"')}
        finally:
            self.sh(f"rm -rf {SYSTEM_SITE}/* /root/env-unpinned /root/env-two-steps /root/env-probe",
                    cpu, "removing the stand-ins")
        return result

    def resolve(self, cpu: str, pin: str, wheel: str) -> dict[str, str]:
        """What pip would install (dry run) with one pin beside the system numpy."""
        self.sh("[ -d /root/env-probe ] || python3 -m venv --system-site-packages /root/env-probe",
                cpu, "probe venv", venv="/nonexistent")
        report = self.sh(f"pip install -q --dry-run --report - {pin} {wheel}", cpu, f"dry run with {pin}",
                         venv="/root/env-probe")
        installs = json.loads(report[report.index("{"):])["install"]
        return {i["metadata"]["name"]: i["metadata"]["version"] for i in installs
                if i["metadata"]["name"].lower() in ("numpy", "opencv-python-headless")}

    def run_all(self, cpus: list[str], demo_frames: int | None, wall: dict,
                save: Callable[[dict], None]) -> dict[str, Any]:
        """Every step, most telling first; ``save`` gets the report after each one, so a run
        that is stopped early still leaves what it found."""
        first = cpus[0]
        report: dict[str, Any] = {"doctor": {}, "guest_failures": self.failures}
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("install", lambda: self.install(first, wall)),
            (f"detect {first}", lambda: self.detect(first, wall)),
            (f"doctor {first}", lambda: self.doctor(first, wall)),
            ("demo", lambda: self.demo(first, wall, demo_frames)),
            ("picamera2_fake", lambda: self.picamera_fake(first, wall)),
        ]
        for cpu in cpus[1:]:
            steps += [(f"detect {cpu}", lambda cpu=cpu: self.detect(cpu, wall)),
                      (f"doctor {cpu}", lambda cpu=cpu: self.doctor(cpu, wall))]
        steps += [("pins", lambda: self.pins(first, wall)), ("benchmark", lambda: self.benchmark(first, wall))]
        for name, step in steps:
            self.log(f"step: {name}")
            value = step()
            if name.startswith("doctor"):
                report["doctor"][name.split()[1]] = value
            elif value is not None:
                report[name] = value
            report["arch_seen"] = {cpu: self.detections[cpu][next(iter(self.models))]["machine"]
                                   for cpu in self.detections}
            report["steps_done"] = report.get("steps_done", []) + [name]
            save(report)
        return report
