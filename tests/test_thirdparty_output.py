"""Other libraries' output goes to a log file; our own lines still reach the terminal."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import ctypes, logging, os, sys, warnings
    from edgedet.progress import progress
    from edgedet.thirdparty_output import captured, user_stream
    log = sys.argv[1]
    print("ours before")
    with captured(log, "noisy step"):
        print("python stdout line")
        print("python stderr line", file=sys.stderr)
        os.write(1, b"fd1 line\\n")
        ctypes.CDLL(None).puts(b"libc puts line")
        warnings.warn("a FutureWarning line", FutureWarning)
        logging.getLogger("thirdparty").warning("a logging line")
        for _ in progress(range(3), total=3, desc="our bar"):
            pass
        print("our status line", file=user_stream())
    print("ours after")
    if len(sys.argv) > 2:
        with captured(log, "failing step"):
            os.write(2, b"library complaint\\n")
            raise RuntimeError("boom")
""")

NOISE = ("python stdout line", "python stderr line", "fd1 line", "libc puts line",
         "a FutureWarning line", "a logging line")


def _run(tmp_path: Path, *extra: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, str]:
    log = tmp_path / "model.tflite.log"
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(log), *extra], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    return result, log.read_text() if log.exists() else ""


def test_library_output_goes_to_the_log_and_ours_to_the_terminal(tmp_path):
    result, log = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    for line in NOISE:
        assert line not in shown, f"{line!r} leaked to the terminal"
        assert line in log, f"{line!r} missing from the log"
    assert "== " in log and "noisy step ==" in log
    assert "our status line" in result.stderr and "our bar" in result.stderr
    assert result.stdout.splitlines() == ["ours before", "ours after"]


def test_verbose_shows_library_output_live(tmp_path):
    result, log = _run(tmp_path, env={"EDGEDET_VERBOSE": "1"})
    shown = result.stdout + result.stderr
    assert all(line in shown for line in NOISE) and log == ""


def test_a_failure_points_at_the_log(tmp_path):
    result, log = _run(tmp_path, "fail")
    assert result.returncode != 0 and "RuntimeError: boom" in result.stderr
    assert f"(output of the libraries used for failing step: {tmp_path / 'model.tflite.log'})" in result.stderr
    assert "ours after" in result.stdout  # the terminal works again after the first capture
    assert "library complaint" in log and "library complaint" not in result.stderr


def test_no_log_file_when_the_libraries_printed_nothing(tmp_path):
    from edgedet.thirdparty_output import captured

    log = tmp_path / "quiet.log"
    with captured(log, "silent step"):
        pass
    assert not log.exists()


def test_progress_list_shows_no_bar_when_only_counted(capsys):
    from edgedet.progress import ProgressList

    samples = ProgressList(range(5), desc="int8 calibration")
    assert len(list(samples)) == 5 and list(samples) == [0, 1, 2, 3, 4]
    assert "int8 calibration" not in capsys.readouterr().err


def test_verbose_flag_of_convert_and_quickstart_turns_capture_off(tmp_path, monkeypatch):
    from edgedet import thirdparty_output
    from edgedet.cli import build_parser

    for argv in (["convert", "--weights", "w.pt", "--target", "onnx", "--verbose"],
                 ["quickstart", "--verbose"]):
        assert build_parser().parse_args(argv).verbose is True
    monkeypatch.setattr(thirdparty_output, "_verbose", False)
    thirdparty_output.set_verbose(True)
    log = tmp_path / "x.log"
    with thirdparty_output.captured(log, "step"):
        os.write(2, b"shown live\n")
    assert not log.exists() and thirdparty_output.is_verbose()


def test_quiet_c_stderr_drops_fd2_output_unless_verbose(capfd):
    from edgedet import thirdparty_output

    with thirdparty_output.quiet_c_stderr():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    os.write(2, b"ours after\n")
    assert capfd.readouterr().err == "ours after\n"
    thirdparty_output.set_verbose(True)
    try:
        with thirdparty_output.quiet_c_stderr():
            os.write(2, b"shown when verbose\n")
    finally:
        thirdparty_output.set_verbose(False)
    assert "shown when verbose" in capfd.readouterr().err

