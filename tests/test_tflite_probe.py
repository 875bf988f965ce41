"""benchmarks/tflite_probe.py: every op's output recorded, each op run alone on fed inputs,
and differences traced to the op where they start."""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert_fixtures import shared_cache

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import tflite_probe  # noqa: E402

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def probe(tmp_path_factory, small_checkpoint):
    model = shared_cache(tmp_path_factory, small_checkpoint).get("tflite", "int8")
    frames = tmp_path_factory.mktemp("frames")
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(frames / f"f{i}.png"), rng.integers(0, 256, (96, 128, 3), np.uint8))
    out = tmp_path_factory.mktemp("probe")
    made = tflite_probe.make_probe(model, frames, out, max_frames=2)
    assert made["frames"] == 2 and made["ops"] > 10
    tflite_probe.run_probe(out, out / "full.npz", builtin=False)
    return out


def _spec(probe: Path) -> dict:
    import json

    return json.loads((probe / tflite_probe.OPS_FILE).read_text())


def test_each_op_alone_on_fed_inputs_reproduces_the_whole_run(probe):
    tflite_probe.run_probe(probe, probe / "isolated.npz", builtin=False, feed=probe / "full.npz")
    result = tflite_probe.compare(probe, probe / "full.npz", probe / "isolated.npz")
    assert result["starts"] == 0 and result["first_start"] is None
    assert sum(kind["ops"] for kind in result["by_op"].values()) == len(_spec(probe)["ops"])
    summary = tflite_probe.kernel_summary(result)
    assert summary["max_op_steps"] == 0 and summary["worst_op"] is None and summary["frames"] == 2


def test_a_difference_is_traced_to_its_op_and_later_ones_count_as_inherited(probe, tmp_path):
    spec = _spec(probe)
    # An op whose output a later op reads: change both, only the first starts a difference.
    first = next(op for op in spec["ops"][2:]
                 if any(op["outputs"][0] in later["inputs"] for later in spec["ops"]))
    consumer = next(later for later in spec["ops"] if first["outputs"][0] in later["inputs"])
    with np.load(probe / "full.npz") as full:
        arrays = dict(full)
    for op, delta in ((first, 3), (consumer, 1)):
        key = f"f0/{op['outputs'][0]}"
        arrays[key] = (arrays[key].astype(np.int32) + delta).clip(-128, 127).astype(arrays[key].dtype)
    np.savez(tmp_path / "changed.npz", **arrays)
    result = tflite_probe.compare(probe, probe / "full.npz", tmp_path / "changed.npz")
    assert result["starts"] == 1
    assert result["first_start"]["op_index"] == first["index"] and result["first_start"]["steps"] == 3
    assert result["first_start"]["frame"] == "f0"
    differing = sum(kind["outputs_differ"] for kind in result["by_op"].values())
    assert differing == 2
