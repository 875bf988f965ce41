"""Library calls leave no process-wide state behind: torch settings are scoped to a call, and
convert() returns/logs its parity report instead of printing it."""
from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgedet import Detector  # noqa: E402
from edgedet.torch_settings import torch_settings  # noqa: E402


def _denormals_flushed() -> bool:
    return (torch.tensor([1e-39]) * 1.0).item() == 0.0


def test_torch_detector_sets_threads_and_flushing_only_while_it_runs(small_checkpoint):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        det = Detector(small_checkpoint, num_threads=1)
        seen = []
        forward = det.backend.model.forward
        det.backend.model.forward = lambda x: seen.append(
            (torch.get_num_threads(), _denormals_flushed())) or forward(x)
        det.detect(np.zeros((64, 80, 3), np.uint8))
        assert seen == [(1, True)]
        assert torch.get_num_threads() == 2 and not _denormals_flushed()
    finally:
        torch.set_num_threads(before)


def test_overlapping_calls_restore_the_thread_count_once_all_have_left():
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    both_inside = threading.Barrier(2)  # neither leaves before the other has entered
    seen = []

    def call(threads: int):
        with torch_settings(threads):
            both_inside.wait()
            seen.append(torch.get_num_threads())
            both_inside.wait()

    workers = [threading.Thread(target=call, args=(n,)) for n in (1, 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    try:
        assert seen == [1, 1] and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_convert_returns_the_path_and_logs_the_report(monkeypatch, capsys, caplog, tmp_path):
    from edgedet.converters import conversion

    class Report:
        def format(self) -> str:
            return "cls SQNR 42 dB"

    out = tmp_path / "m.onnx"
    monkeypatch.setattr(conversion, "convert_with_report", lambda *a, **k: (out, Report()))
    with caplog.at_level(logging.INFO, logger="edgedet.converters.conversion"):
        assert conversion.convert("w.pt", "onnx", out) == out
    assert capsys.readouterr().out == ""
    assert "cls SQNR 42 dB" in caplog.text


def test_dataset_warnings_print_as_lines_only_inside_the_cli_block():
    import io
    import warnings

    from edgedet.data.cleaning import DatasetWarning, dataset_warnings_printed

    shown, filters = warnings.showwarning, list(warnings.filters)
    stream = io.StringIO()
    with dataset_warnings_printed(stream):
        for _ in range(2):  # "always": the same warning twice is shown twice
            warnings.warn("a.xml: 1 degenerate box(es) dropped", DatasetWarning)
    assert stream.getvalue() == "warning: a.xml: 1 degenerate box(es) dropped\n" * 2
    assert warnings.showwarning is shown and warnings.filters == filters
