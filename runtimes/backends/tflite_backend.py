"""TFLite adapter: ai-edge-litert's interpreter (XNNPACK), tflite-runtime as a fallback."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from edgedet.errors import MissingDependencyError, ModelLoadError
from edgedet.metadata import METADATA_KEY
from edgedet.runtimes.backends.base import Backend
from edgedet.runtimes.formats import TFLITE
from edgedet.runtimes.graph_check import check_against_graph
from edgedet.runtimes.per_thread import PerThread
from edgedet.runtimes.tflite_metadata import read_tflite_metadata, signature_names
from edgedet.thirdparty_output import quiet_c_stderr

# Whether each interpreter package runs int8 models through XNNPACK: tflite-runtime 2.14 has
# no XNNPACK int8 kernels and ran int8 ~15x slower than ai-edge-litert (DESIGN.md).
INT8_XNNPACK = {"ai-edge-litert": True, "tflite-runtime": False}


def interpreter_package() -> str:
    """The package whose interpreter :class:`TfliteBackend` would use (``"ai-edge-litert"``
    or ``"tflite-runtime"``); :class:`MissingDependencyError` when neither imports."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _interpreter_class()[1]


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
            f"{TFLITE.runtime.purpose} needs the 'ai-edge-litert' package: "
            f"pip install 'edgedet[{TFLITE.runtime.extra}]'"
        ) from exc
    warnings.warn(
        "using tflite-runtime because ai-edge-litert is not installed; its int8 kernels run "
        "without XNNPACK and were measured ~15x slower: pip install 'edgedet[tflite]'",
        stacklevel=3,
    )
    return Interpreter, "tflite-runtime"


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
        text = found.get(METADATA_KEY)
        self.metadata = TFLITE.parse_metadata(path, None if text is None else text.decode("utf-8"))
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
