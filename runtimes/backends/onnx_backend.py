"""ONNX Runtime adapter (CPU execution provider)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edgedet.errors import ModelLoadError, require
from edgedet.metadata import METADATA_KEY
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import ONNX
from edgedet.runtimes.graph_check import check_against_graph


class OnnxBackend(Backend):
    name = "onnxruntime"

    def __init__(self, path: str | Path, num_threads: int = 1):
        ort = require(*ONNX.runtime)
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = num_threads
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for bad protobufs
            raise ModelLoadError(
                f"{path}: not a valid ONNX model (truncated or corrupt?): {str(exc).splitlines()[0]}"
            ) from exc
        props = self.session.get_modelmeta().custom_metadata_map
        self.metadata = ONNX.parse_metadata(path, props.get(METADATA_KEY))
        self.num_threads = num_threads
        inputs = self.session.get_inputs()
        self.input_name = inputs[0].name
        self.input_dtype = np.dtype(np.uint8 if "uint8" in inputs[0].type else
                                    np.int8 if "int8" in inputs[0].type else np.float32)
        self.output_names = [o.name for o in self.session.get_outputs()]
        check_against_graph(self.metadata, str(path), _dims(inputs[0].shape),
                            [_dims(o.shape) for o in self.session.get_outputs()])

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cls_logits, box_regression = self.session.run(self.output_names, {self.input_name: tensor})
        return cls_logits[0], box_regression[0]

    def info(self) -> dict:
        return {"backend": self.name, "threads": self.num_threads,
                "providers": self.session.get_providers()}


def _dims(shape) -> list:
    """ONNX Runtime shape -> ints, None for symbolic (dynamic) dimensions."""
    return [d if isinstance(d, int) else None for d in shape]
