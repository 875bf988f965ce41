"""Outputs are never overwritten without --force, and a Ctrl-C after a file is complete
says that the file was kept."""
from __future__ import annotations

import pytest

from edgedet.cli import main


def test_convert_json_refuses_an_existing_file_before_converting(small_checkpoint, tmp_path, capsys):
    report = tmp_path / "old.json"
    report.write_text("keep me")
    out = tmp_path / "m.onnx"
    rc = main(["convert", "--weights", str(small_checkpoint), "--target", "onnx", "--out", str(out),
               "--json", str(report)])
    assert rc == 2
    assert f"{report} already exists; pass --force to overwrite it" in capsys.readouterr().err
    assert report.read_text() == "keep me" and not out.exists()  # refused before the work


def test_demo_save_and_jsonl_refuse_existing_files(small_onnx, tmp_path, capsys):
    for option, name in (("--save", "old.mp4"), ("--jsonl", "old.jsonl")):
        existing = tmp_path / name
        existing.write_bytes(b"keep me")
        rc = main(["demo", "--model", str(small_onnx), "--source", str(tmp_path / "none.mp4"),
                   "--headless", option, str(existing)])
        assert rc == 2
        assert f"{option} {existing} already exists; pass --force" in capsys.readouterr().err
        assert existing.read_bytes() == b"keep me"


def test_init_refuses_to_replace_a_checkpoint(tmp_path, capsys):
    trained = tmp_path / "best.pt"
    trained.write_bytes(b"trained weights")
    assert main(["init", "--num-classes", "2", "--imgsz", "256", "--out", str(trained)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert trained.read_bytes() == b"trained weights"


def test_ctrl_c_during_the_parity_report_says_the_file_was_kept(small_checkpoint, tmp_path,
                                                                 monkeypatch, capsys):
    import edgedet.converters.parity as parity

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(parity, "measure_parity", interrupted)
    out = tmp_path / "m.onnx"
    rc = main(["convert", "--weights", str(small_checkpoint), "--target", "onnx", "--out", str(out)])
    assert rc == 130
    err = capsys.readouterr().err
    assert f"interrupted ({out} was written completely and kept; the parity report was not finished)" in err
    assert out.stat().st_size > 0


@pytest.mark.parametrize("option, name", [("--json", "r.json"), ("--md", "r.md"), ("--plot", "r.png")])
def test_benchmark_outputs_refuse_existing_files_before_measuring(small_onnx, tmp_path, capsys, option, name):
    existing = tmp_path / name
    existing.write_text("keep me")
    assert main(["benchmark", str(small_onnx), "--runs", "1", option, str(existing)]) == 2
    err = capsys.readouterr().err
    assert f"{existing} already exists; pass --force to overwrite it ({option})" in err
    assert existing.read_text() == "keep me"


def test_detect_save_refuses_existing_files_inputs_and_clashes(small_onnx, tmp_path, capsys):
    import cv2
    import numpy as np

    image = tmp_path / "img.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    other = tmp_path / "sub" / "img.png"
    other.parent.mkdir()
    cv2.imwrite(str(other), np.zeros((32, 32, 3), np.uint8))
    out = tmp_path / "out.jpg"
    out.write_bytes(b"keep me")
    cases = [
        ([str(image), "--save", str(out)], "already exist(s); pass --force"),
        ([str(image), "--save", str(image)], f"would overwrite the input image {image}"),
        ([str(image), str(other), "--save", str(tmp_path / "folder")], "would both be saved as"),
    ]
    for argv, message in cases:
        assert main(["detect", "--model", str(small_onnx), *argv]) == 2
        assert message in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main(["detect", "--model", str(small_onnx), str(image), "--save", str(out), "--force"]) == 0
    assert cv2.imread(str(out)).shape == (32, 32, 3)
