"""TFLite adapter: ai-edge-litert's interpreter (XNNPACK), tflite-runtime as a fallback."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from edgedet.errors import MissingDependencyError, ModelLoadError
from edgedet.metadata import METADATA_KEY, ModelMetadata
from edgedet.thirdparty_output import quiet_c_stderr
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.graph_check import check_against_graph
from edgedet.runtimes.per_thread import PerThread
from edgedet.runtimes.tflite_metadata import read_tflite_metadata


def _interpreter_class():
    """The Interpreter class to use and the package it came from."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter
    except ImportError as exc:
        raise MissingDependencyError(
            "running .tflite models needs the 'ai-edge-litert' package: "
            "pip install 'edgedet[tflite]'"
        ) from exc
    warnings.warn(
        "using tflite-runtime because ai-edge-litert is not installed; its int8 kernels run "
        "without XNNPACK and were measured ~15x slower: pip install 'edgedet[tflite]'",
        stacklevel=3,
    )
    return Interpreter, "tflite-runtime"


def signature_names(interpreter) -> tuple[str, str, list[str]]:
    """(signature key, input name, output names in model order) of a single-signature model.

    litert-torch names signature outputs output_0, output_1, ... in the model's order.
    """
    signatures = interpreter.get_signature_list()
    key = next(iter(signatures))
    outputs = sorted(signatures[key]["outputs"], key=lambda n: int(n.rsplit("_", 1)[-1]))
    return key, signatures[key]["inputs"][0], outputs


def _make_interpreter(interpreter_class, content: bytes, num_threads: int):
    """An interpreter with its tensors allocated, without the runtime's INFO line on stderr."""
    with quiet_c_stderr():
        interpreter = interpreter_class(model_content=content, num_threads=num_threads)
        interpreter.allocate_tensors()
    return interpreter


class TfliteBackend(Backend):
    name = "tflite"

    def __init__(self, path: str | Path, num_threads: int = 1):
        interpreter_class, self.package = _interpreter_class()
        content = Path(path).read_bytes()
        try:
            found = read_tflite_metadata(content)
        except ValueError as exc:
            raise ModelLoadError(f"{path}: {exc}") from exc
        if METADATA_KEY not in found:
            raise ModelLoadError(
                f"{path} is a TFLite model without edgedet metadata, so its input size, classes "
                "and anchors are unknown. Convert it with edgedet: "
                "`edgedet convert --weights model.pt --target tflite --out model.tflite`")
        self.metadata = ModelMetadata.from_json(found[METADATA_KEY].decode("utf-8"), source=str(path))
        try:
            self.interpreter = _make_interpreter(interpreter_class, content, num_threads)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{path}: the TFLite interpreter rejected it: {exc}") from exc
        self.num_threads = num_threads

        def new_interpreter():
            return _make_interpreter(interpreter_class, content, num_threads)

        # An interpreter must not be entered by two threads (ai-edge-litert raises "There is
        # at least 1 reference to internal data"): each calling thread gets its own.
        self._interpreters = PerThread(new_interpreter, first=self.interpreter)
        key, input_name, output_names = signature_names(self.interpreter)
        runner = self.interpreter.get_signature_runner(key)
        inputs, outputs = runner.get_input_details(), runner.get_output_details()
        self._input = inputs[input_name]
        self._outputs = [outputs[n] for n in output_names]
        self.input_dtype = np.dtype(self._input["dtype"])
        check_against_graph(self.metadata, str(path), list(self._input["shape"]),
                            [list(d["shape"]) for d in self._outputs])

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, ...]:
        """Raw outputs: int8 for a quantized file (``Detector`` filters scores on the int8
        values and dequantizes only survivors), float otherwise. A file with in-graph NMS
        (``metadata.postprocess``) gives its four outputs instead (boxes, classes, scores,
        count)."""
        interpreter = self._interpreters.get()
        interpreter.set_tensor(self._input["index"], tensor)
        interpreter.invoke()
        return tuple(interpreter.get_tensor(d["index"])[0] for d in self._outputs)

    def info(self) -> dict:
        return {"backend": self.name, "threads": self.num_threads, "interpreter": self.package,
                "input_dtype": self.input_dtype.name}
