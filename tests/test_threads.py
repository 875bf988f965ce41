"""Several threads calling ``detect()`` on one Detector get each frame's own answer."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from convert_fixtures import shared_cache
from edgedet import Detector

THREADS, CALLS = 4, 12


def _frames() -> list[np.ndarray]:
    """Noise frames of different sizes, so that a mixed-up buffer changes the answer."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (180 + 17 * i, 300 - 13 * i, 3), dtype=np.uint8) for i in range(5)]


def _check_threads_agree_with_one_thread(path) -> None:
    det = Detector(path, score_threshold=0.0, max_results=30)
    frames = _frames()
    expected = [det.detect(f) for f in frames]
    assert any(len(e) for e in expected), "the test needs detections to compare"
    failures: list[str] = []

    def work(seed: int) -> None:
        order = np.random.default_rng(seed).integers(len(frames), size=CALLS)
        for i in order:
            try:
                got = det.detect(frames[i])
            except Exception as exc:  # noqa: BLE001 - the test reports every failure
                failures.append(f"raised {exc!r}")
                continue
            if (len(got) != len(expected[i]) or not np.allclose(got.boxes, expected[i].boxes, atol=1e-3)
                    or not np.array_equal(got.class_ids, expected[i].class_ids)):
                failures.append(f"frame {i}: {len(got)} detections, expected {len(expected[i])}")
            if set(det.timings) != {"preprocess_ms", "inference_ms", "postprocess_ms", "total_ms"}:
                failures.append("timings of this thread's call missing")

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"{len(failures)} of {THREADS * CALLS} calls failed: {failures[:3]}"


def test_onnx_detector_is_thread_safe(small_onnx):
    _check_threads_agree_with_one_thread(small_onnx)


def test_torch_detector_is_thread_safe(small_checkpoint):
    _check_threads_agree_with_one_thread(small_checkpoint)


@pytest.mark.parametrize("target,precision", [("openvino", "fp32"), ("tflite", "fp32"), ("tflite", "int8")])
def test_converted_detector_is_thread_safe(tmp_path_factory, small_checkpoint, target, precision):
    pytest.importorskip({"openvino": "openvino", "tflite": "ai_edge_litert"}[target])
    path = shared_cache(tmp_path_factory, small_checkpoint).get(target, precision)
    _check_threads_agree_with_one_thread(path)


def test_timings_belong_to_the_calling_thread(small_onnx):
    det = Detector(small_onnx)
    det.detect(np.zeros((64, 64, 3), np.uint8))
    seen = {}
    t = threading.Thread(target=lambda: seen.update(det.timings))
    t.start()
    t.join()
    assert seen == {} and "total_ms" in det.timings
