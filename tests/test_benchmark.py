"""`edgedet benchmark`: well-formed table, JSON, markdown and plot; failures reported."""
import json

import cv2
import numpy as np
import pytest

from edgedet.benchmarking import measure_latency, to_markdown, to_table
from edgedet.cli import main
from edgedet.errors import InvalidInputError


@pytest.fixture(scope="module")
def two_models(small_checkpoint, small_onnx):
    return [small_onnx, small_checkpoint]


def test_benchmark_cli_writes_table_json_markdown_plot(two_models, tmp_path, capsys):
    out_json, out_md, out_png = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "r.png"
    rc = main(["benchmark", *map(str, two_models), "--runs", "3", "--warmup", "1",
               "--json", str(out_json), "--md", str(out_md), "--plot", str(out_png)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "d0_small.onnx" in printed and "d0_small.pt" in printed
    rows = json.loads(out_json.read_text())
    assert [r["format"] for r in rows] == ["onnx", "torch"]
    for r in rows:
        lat = r["latency"]
        assert r["error"] is None and r["size_mb"] > 1 and r["model"] == "d0"
        assert set(lat) == {"total_ms", "preprocess_ms", "inference_ms", "postprocess_ms"}
        assert 0 < lat["inference_ms"]["median"] <= lat["total_ms"]["p90"] + 1e-6
        assert lat["total_ms"]["median"] <= lat["total_ms"]["p90"]
    md = out_md.read_text().splitlines()
    assert md[0].startswith("| model file") and len(md) == 2 + len(rows)
    image = cv2.imread(str(out_png))
    assert image is not None and image.shape[0] > 100


def test_a_failing_model_is_a_failed_row_and_others_still_run(small_onnx, tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(small_onnx.read_bytes()[:1000])
    rows = measure_latency([broken, small_onnx], np.zeros((60, 80, 3), np.uint8), runs=2,
                           warmup=0, show_progress=False)
    assert not rows[0].ok and "not a valid ONNX model" in rows[0].error
    assert rows[1].ok and rows[1].latency["total_ms"].median > 0
    assert "FAILED broken.onnx" in to_table(rows)
    assert "FAILED" in to_markdown(rows)


def test_runs_must_be_positive(small_onnx):
    with pytest.raises(InvalidInputError, match="--runs"):
        measure_latency([small_onnx], np.zeros((8, 8, 3), np.uint8), runs=0)


def test_cli_runs_zero_is_a_clear_error(small_onnx, capsys):
    assert main(["benchmark", str(small_onnx), "--runs", "0"]) == 2
    assert "--runs must be an integer >= 1" in capsys.readouterr().err


def test_convert_all_loops_over_the_registry_and_shows_each_report(tmp_path, monkeypatch):
    import edgedet.converters
    from edgedet.benchmarking.runner import BenchmarkPlan, convert_all
    from edgedet.errors import InvalidInputError

    def fake_convert(weights, target, out, precision, **options):
        if target not in ("onnx", "tflite"):
            raise InvalidInputError(f"unknown target {target!r}")
        return out, f"report of {out.name}"

    monkeypatch.setattr(edgedet.converters, "convert_with_report", fake_convert)
    shown, failed = [], []
    weights = tmp_path / "d0.pt"
    plan = BenchmarkPlan(weights=weights, formats=["torch", "onnx", "tflite", "caffe"],
                         precisions=["fp32"], out_dir=tmp_path / "out", show_report=shown.append)
    paths = convert_all(plan, failed)
    assert [p.name for p in paths] == ["d0.pt", "d0_fp32.onnx", "d0_fp32.tflite"]
    assert shown == ["report of d0_fp32.onnx", "report of d0_fp32.tflite"]
    assert [(r.format, r.path.endswith("d0_fp32.caffe")) for r in failed] == [("caffe", True)]
