"""OpenVINO adapter (CPU plugin, latency hint, one inference thread by default)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from edgedet.errors import InvalidInputError, ModelLoadError, require
from edgedet.metadata import METADATA_KEY
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import OPENVINO
from edgedet.runtimes.graph_check import check_against_graph
from edgedet.runtimes.per_thread import PerThread

# "f32" forces full precision; None keeps the CPU plugin's default, which is bf16 on CPUs
# with AMX/AVX512-BF16 (faster, ~30 dB SQNR against fp32) and f32 elsewhere.
INFERENCE_PRECISIONS = (None, "f32", "bf16", "f16")


class OpenVinoBackend(Backend):
    name = "openvino"

    def __init__(self, path: str | Path, num_threads: int = 1,
                 inference_precision: Optional[str] = None):
        ov = require(*OPENVINO.runtime)
        if inference_precision not in INFERENCE_PRECISIONS:
            raise InvalidInputError(
                f"inference_precision must be one of {', '.join(map(str, INFERENCE_PRECISIONS))}, "
                f"got {inference_precision!r}")
        xml, weights = OPENVINO.files(path)
        if not weights.exists():
            raise ModelLoadError(f"{xml}: OpenVINO weights file {weights} is missing; an IR is "
                                 "the .xml and .bin pair written together")
        core = ov.Core()
        try:
            model = core.read_model(str(xml), str(weights))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses for bad IR
            raise ModelLoadError(
                f"{xml}: not a valid OpenVINO IR (truncated or corrupt?): {str(exc).splitlines()[0]}"
            ) from exc
        self.metadata = OPENVINO.parse_metadata(
            xml, model.get_rt_info([METADATA_KEY]).astype(str)
            if model.has_rt_info([METADATA_KEY]) else None)
        config = {"INFERENCE_NUM_THREADS": num_threads, "PERFORMANCE_HINT": "LATENCY",
                  "NUM_STREAMS": 1}
        if inference_precision:
            config["INFERENCE_PRECISION_HINT"] = inference_precision
        self.compiled = core.compile_model(model, "CPU", config)
        # An infer request holds its outputs until its next run: one per calling thread.
        self.request = self.compiled.create_infer_request()
        self._requests = PerThread(self.compiled.create_infer_request, first=self.request)
        self.num_threads = num_threads
        hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        self.inference_precision = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
        names = [o.get_any_name() for o in self.compiled.outputs]
        order = self.metadata.outputs.order
        missing = [n for n in order if n not in names]
        if missing:
            raise ModelLoadError(f"{xml}: metadata names output(s) {missing} but the graph's "
                                 f"outputs are {names}")
        self._outputs = [self.compiled.outputs[names.index(n)] for n in order]
        check_against_graph(self.metadata, str(xml), _dims(self.compiled.inputs[0]),
                            [_dims(port) for port in self._outputs])
        self.input_dtype = np.dtype(self.compiled.inputs[0].get_element_type().to_dtype())

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        request = self._requests.get()
        request.infer({0: tensor})
        cls_out, box_out = self._outputs
        return request.get_tensor(cls_out).data[0], request.get_tensor(box_out).data[0]

    def info(self) -> dict:
        return {"backend": self.name, "threads": self.num_threads,
                "inference_precision": self.inference_precision}


def _dims(port) -> list:
    """An OpenVINO port's shape as ints, None for dynamic dimensions."""
    return [d.get_length() if d.is_static else None for d in port.get_partial_shape()]
