"""The edgedet command line: init -> convert -> detect, help, and user errors."""
import json

import cv2
import numpy as np
import pytest

from edgedet.cli import main


def test_init_convert_detect(tmp_path, capsys):
    ckpt, model = tmp_path / "d0.pt", tmp_path / "d0.onnx"
    assert main(["init", "--model", "d0", "--num-classes", "3", "--names", "a,b,c",
                 "--imgsz", "256", "--out", str(ckpt)]) == 0
    assert main(["convert", "--weights", str(ckpt), "--target", "onnx", "--out", str(model)]) == 0
    image = tmp_path / "img.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (90, 160, 3), dtype=np.uint8))
    capsys.readouterr()
    assert main(["detect", "--model", str(model), str(image), "--score", "0.0",
                 "--max-results", "4", "--json", "--save", str(tmp_path / "out.jpg")]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    assert record["width"] == 160 and len(record["detections"]) == 4
    drawn = cv2.imread(str(tmp_path / "out.jpg"))
    assert drawn.shape == (90, 160, 3)


def test_detect_reports_bad_image_and_continues(small_onnx, tmp_path, capsys):
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.zeros((32, 32, 3), np.uint8))
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    rc = main(["detect", "--model", str(small_onnx), str(bad), str(good)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "bad.jpg: not a readable image" in err
    assert "good.png: 0 detections" in out


@pytest.mark.parametrize("argv, message", [
    (["init", "--model", "d9", "--num-classes", "3", "--out", "x.pt"], "unknown model 'd9'"),
    (["init", "--num-classes", "0", "--out", "x.pt"], "--num-classes must be >= 1"),
    (["init", "--num-classes", "2", "--names", "a,b,c", "--out", "x.pt"], "lists 3 names"),
    (["convert", "--weights", "missing.pt", "--target", "onnx"], "checkpoint not found"),
    (["detect", "--model", "missing.onnx", "x.jpg"], "model file not found"),
])
def test_user_errors_are_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["init", "convert", "detect"])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: edgedet " + command in capsys.readouterr().out
