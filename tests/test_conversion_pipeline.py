"""converters/conversion.py is the one pipeline: staging folder, finishing step, the move into
place, parity. Its steps are swapped here through the format row, the way a new format plugs in."""
from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from edgedet.fileio import move_into_place
from edgedet.runtimes.formats import REGISTRY

sys.path.insert(0, str(Path(__file__).parent))
CALLS: list[int] = []


def passing_finish(content: bytes, options) -> bytes:
    CALLS.append(len(content))
    return content


def failing_finish(content: bytes, options) -> bytes:
    raise RuntimeError("finishing step failed")


def _with_finish(monkeypatch, name: str) -> None:
    row = replace(REGISTRY["onnx"], in_graph_nms=f"test_conversion_pipeline:{name}")
    monkeypatch.setitem(REGISTRY, "onnx", row)


def test_a_failing_finishing_step_leaves_nothing_on_disk(small_checkpoint, tmp_path, monkeypatch):
    from edgedet.converters import convert
    from edgedet.converters.tflite_nms import NmsOptions

    _with_finish(monkeypatch, "failing_finish")
    out = tmp_path / "out" / "m.onnx"
    with pytest.raises(RuntimeError, match="finishing step failed"):
        convert(small_checkpoint, "onnx", out, report=False, nms=NmsOptions())
    # At most the log of captured third-party output; no model, no staging folder.
    assert {p.name for p in out.parent.iterdir()} <= {f"{out.name}.log"}


def test_the_finished_file_is_written_and_parity_measures_the_network(small_checkpoint, tmp_path,
                                                                      monkeypatch):
    from edgedet.converters import convert_with_report
    from edgedet.converters.tflite_nms import NmsOptions

    _with_finish(monkeypatch, "passing_finish")
    CALLS.clear()
    out = tmp_path / "m.onnx"
    written, report = convert_with_report(small_checkpoint, "onnx", out, nms=NmsOptions())
    assert written == out and out.stat().st_size == CALLS[0] > 0
    assert report.file == str(out) and report.cls_sqnr_db > 30
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_model_of_two_files_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    staged = tmp_path / "stage"
    staged.mkdir()
    pairs = []
    for name in ("m.bin", "m.xml"):
        (staged / name).write_text(name)
        pairs.append((staged / name, tmp_path / name))
    real_replace = os.replace

    def fail_on_the_xml(src, dst):
        if str(dst).endswith(".xml"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_the_xml)
    with pytest.raises(OSError, match="disk full"):
        move_into_place(pairs)
    assert not (tmp_path / "m.bin").exists() and not (tmp_path / "m.xml").exists()
    monkeypatch.setattr(os, "replace", real_replace)
    for src, _ in pairs:
        src.write_text(src.name)
    move_into_place(pairs)
    assert (tmp_path / "m.xml").read_text() == "m.xml" and (tmp_path / "m.bin").read_text() == "m.bin"
