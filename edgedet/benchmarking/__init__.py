"""Side-by-side measurement of model files: latency per stage, size and (optionally) mAP."""
from edgedet.benchmarking.latency import LatencyStats, ModelResult, measure_latency
from edgedet.benchmarking.report import to_json, to_markdown, to_table

__all__ = ["LatencyStats", "ModelResult", "measure_latency", "to_json", "to_markdown", "to_table"]
