"""The quickstart chain at toy size: data -> pretrained Lite0 -> ONNX -> table -> drawn sample."""
from __future__ import annotations

import cv2
import pytest

from edgedet.errors import MissingDependencyError


def test_quickstart_runs_end_to_end_at_toy_size(tmp_path, capsys):
    from edgedet.model.lite_weights import installed_weights_path
    from edgedet.quickstart import QuickstartOptions, run_quickstart

    try:
        installed_weights_path("lite0")
    except MissingDependencyError as exc:
        pytest.skip(f"lite0 weights not installed: {exc}")
    opts = QuickstartOptions(out=tmp_path / "qs", images=10, epochs=1, batch=2, imgsz=128,
                             formats=("onnx",), precisions=("fp32",), runs=2, calib_size=4,
                             workers=0)
    paths = run_quickstart(opts)
    table = paths["table"].read_text()
    assert "best_fp32.onnx" in table and "best.pt" in table
    sample = cv2.imread(str(paths["sample"]))
    assert sample is not None and sample.shape[2] == 3
    out = capsys.readouterr().out
    assert "training lite0 from a frozen ImageNet backbone at 128px for 1 epochs" in out
    assert "backbone frozen" in out
    assert "objects found with the right label" in out and "val images" in out
