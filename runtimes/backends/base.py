"""What every backend adapter provides to ``Detector``."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from edgedet.metadata import ModelMetadata


class Backend(ABC):
    """Runs one model file. Subclasses set ``metadata`` and implement :meth:`infer`."""

    name: str = "backend"
    metadata: ModelMetadata
    input_dtype: np.dtype = np.dtype(np.float32)

    @abstractmethod
    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the network on a preprocessed input; return ``(cls_logits [N, C],
        box_regression [N, 4])``: float arrays, or the raw int8/uint8 arrays of a model with
        quantized outputs (their parameters in ``metadata.output_quantization``; ``Detector``
        filters scores in the quantized domain and dequantizes only what survives).

        The arrays may be views of the runtime's own output buffers (OpenVINO's are), valid
        until the next ``infer`` on this thread: copy them to keep them (a copy of D0's
        90-class logits costs ~2 ms, so the hot path does not)."""

    def infer_float(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`infer` with quantized outputs dequantized (for comparisons and reports)."""
        results = []
        for quant, values in zip(self.metadata.quantization_of_outputs(), self.infer(tensor)):
            results.append(quant.dequantize(values) if quant and values.dtype.kind in "iu"
                           else values)
        return results[0], results[1]

    def info(self) -> dict:
        """Backend details worth showing users (threads, precision, providers...)."""
        return {"backend": self.name}
