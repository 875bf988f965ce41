"""The Raspberry Pi guide in an emulated arm64 Debian 12 (benchmarks/pi_emulated.py).

Slow and opt-in: it needs root, debootstrap, qemu-user-static, binfmt_misc and Debian's
mirror, and takes ~40 min cold (rootfs build) or ~20 min warm on 2 cores. Run it with

    EDGEDET_PI_EMULATED=1 EDGEDET_PI_LITE0=runs/bccd_lite0/best.pt python -m pytest tests/test_pi_emulated.py

(``EDGEDET_PI_LITE0``: a Lite0 checkpoint; ``EDGEDET_PI_D0``: a D0 one, default heads fitted
to BCCD images; ``EDGEDET_PI_CACHE``: the rootfs / wheel / model cache.)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(os.environ.get("EDGEDET_PI_EMULATED") != "1",
                                reason="slow emulated-Pi run: set EDGEDET_PI_EMULATED=1 (root, qemu-user-static)")


def test_the_pi_guide_runs_and_agrees_with_x86(tmp_path):
    argv = [sys.executable, str(ROOT / "benchmarks/pi_emulated.py"), "--out", str(tmp_path)]
    for flag, variable in (("--lite0-weights", "EDGEDET_PI_LITE0"), ("--d0-weights", "EDGEDET_PI_D0")):
        if os.environ.get(variable):
            argv += [flag, os.environ[variable]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3 * 3600)
    report = json.loads((tmp_path / "pi_emulated.json").read_text())
    assert done.returncode == 0 and report["ok"], report["failures"] or done.stdout[-3000:]
    assert set(report["arch_seen"].values()) == {"aarch64"}
    assert report["install"]["pip_check_ok"] and report["install"]["torch_absent"]
    assert report["demo"]["mp4_frames"] == report["demo"]["jsonl_lines"] > 0
