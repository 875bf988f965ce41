"""The benchmark PNG reads at a glance: no overlapping labels, mAP on an axis from 0."""
from __future__ import annotations

import itertools

import cv2
import pytest

from edgedet.benchmarking.latency import LatencyStats, ModelResult
from edgedet.benchmarking.report import plot_figure, save_plot

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

pytest.importorskip("matplotlib")

# Medians measured for the README's BCCD table (2026-11-22): seven files within 0.009 mAP.
MEASURED = [("best.pt", "torch", "fp32", 61.8, 0.395), ("best_fp32.onnx", "onnx", "fp32", 25.1, 0.395),
            ("best_int8.onnx", "onnx", "int8", 22.1, 0.391), ("best_fp32.xml", "openvino", "fp32", 26.4, 0.395),
            ("best_int8.xml", "openvino", "int8", 23.2, 0.386), ("best_fp32.tflite", "tflite", "fp32", 24.6, 0.395),
            ("best_int8.tflite", "tflite", "int8", 22.8, 0.395)]


def _rows(with_map: bool = True) -> list[ModelResult]:
    rows = []
    for name, fmt, precision, total, m in MEASURED:
        lat = {"total_ms": LatencyStats(total, total * 1.05), "preprocess_ms": LatencyStats(0.4, 0.5),
               "inference_ms": LatencyStats(total - 1.2, total), "postprocess_ms": LatencyStats(0.8, 0.9)}
        rows.append(ModelResult(name, fmt, precision, latency=lat, map=m if with_map else None,
                                map50=m + 0.2 if with_map else None))
    rows.append(ModelResult("broken.onnx", "onnx", "fp32", error="not a valid ONNX model"))
    return rows


def _text_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts + ax.get_yticklabels() if t.get_text()]
    texts += [fig._suptitle] + [t for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts]


@pytest.mark.parametrize("with_map", [True, False])
def test_labels_do_not_overlap(with_map):
    fig = plot_figure(_rows(with_map), "D0 trained on BCCD")
    boxes = _text_boxes(fig)
    clashes = [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]
    assert not clashes, clashes
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0].startswith("best_int8.onnx") and labels[-1].startswith("broken.onnx")  # fastest first
    assert any(t.get_text() == "FAILED" for t in fig.axes[0].texts)


def test_map_axis_starts_at_zero_so_small_differences_look_small():
    fig = plot_figure(_rows())
    low, high = fig.axes[1].get_xlim()
    assert low == 0 and high >= 0.595 + 0.2  # the whole bars, not a 0.012-wide window
    assert {t.get_text() for t in fig.axes[1].texts} >= {"0.386 / 0.586", "0.395 / 0.595"}


def test_save_plot_writes_a_png(tmp_path):
    image = cv2.imread(str(save_plot(_rows(), tmp_path / "b.png")))
    assert image is not None and image.shape[1] > image.shape[0] > 200
