"""PyTorch -> TFLite: float with litert-torch, full int8 with ai-edge-quantizer.

The TFLite graph takes NHWC float pixels (0-255, RGB) and normalizes inside, so after
static int8 quantization its input is int8 with scale 1 and zero point -128: a uint8 pixel
maps onto it exactly. Outputs of the int8 file are int8; their scale/zero point are copied
into the metadata, and the runtime dequantizes with the file's own parameters.

Not used, on purpose (measured in this project): litert-torch's PT2E quantizer (left ~280
float ops and broke the class output) and onnx2tf (changed max-pool padding, pins TensorFlow).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np

from edgedet.converters.calibration import LazySamples
from edgedet.errors import EdgedetError, require
from edgedet.fileio import PathLike
from edgedet.input_size import InputSize
from edgedet.metadata import METADATA_KEY, OUTPUT_ORDER, ModelMetadata, TensorQuantization
from edgedet.runtimes.formats import TFLITE_EXPORT, TFLITE_INT8
from edgedet.runtimes.tflite_metadata import signature_names


def _nhwc_module(model):
    """Wrap ``model`` (BatchNorm folded) so that it takes ``[1, S, S, 3]`` pixels."""
    from torch import nn

    from edgedet.model.fold import fold_batchnorm

    class NHWCInput(nn.Module):
        def __init__(self, net: nn.Module):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x.permute(0, 3, 1, 2))

    return NHWCInput(fold_batchnorm(model)).eval()


def float_tflite(model, input_size: InputSize) -> bytes:
    """Convert ``model`` to a float32 NHWC TFLite flatbuffer with litert-torch."""
    import torch

    litert_torch = require(*TFLITE_EXPORT)
    sample = torch.zeros(input_size.tensor_shape("NHWC"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "float.tflite"
        litert_torch.convert(_nhwc_module(model), (sample,)).export(str(path))
        return path.read_bytes()


CALIBRATION_CHUNK = 32  # images per calibrator call


def quantize_int8(float_model: bytes, images: list[np.ndarray]) -> bytes:
    """Full int8 (weights per channel, activations, input and outputs) on calibration images."""
    aeq = require(*TFLITE_INT8)
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=float_model)
    key, input_name, _ = signature_names(interpreter)
    quantizer = aeq.quantizer.Quantizer(bytearray(float_model))
    quantizer.load_quantization_recipe(aeq.recipe.static_wi8_ai8())
    # In chunks, each resuming from the ranges so far: the calibrator lists its whole dataset
    # up front, so one call would hold a float copy of every image at once. Range updates
    # are per sample and depend only on the ranges so far, so chunking changes nothing.
    ranges = None
    from edgedet.progress import progress

    starts = range(0, len(images), CALIBRATION_CHUNK)
    for start in progress(starts, total=len(starts), desc="int8 calibration"):
        chunk = LazySamples(images[start:start + CALIBRATION_CHUNK],
                            lambda im: {input_name: im[None].astype(np.float32)})
        ranges = quantizer.calibrate({key: chunk}, previous_calibration_result=ranges,
                                     num_threads=min(4, os.cpu_count() or 1))
    _pin_input_range(ranges, interpreter.get_input_details()[0]["name"])
    return bytes(quantizer.quantize(ranges, enable_progress_report=False).quantized_model)


def _pin_input_range(ranges: dict, input_tensor: str) -> None:
    """Give the input its full pixel range, 0-255, whatever the calibration images held.

    Calibrated on images without pure white (most real footage), the input scale would come
    out below 1: bright pixels would clip, and the runtime's exact uint8 -> int8 copy
    (scale 1, zero point -128) would give way to float arithmetic.
    """
    if input_tensor not in ranges:
        raise EdgedetError(f"int8 TFLite calibration has no range for the input {input_tensor!r}")
    measured = ranges[input_tensor]
    ranges[input_tensor] = {**measured, "min": np.zeros_like(measured["min"]),
                            "max": np.full_like(measured["max"], 255.0)}


def _quantization(detail: dict) -> Optional[TensorQuantization]:
    scale, zero_point = detail["quantization"]
    if detail["dtype"] not in (np.int8, np.uint8) or scale == 0:
        return None
    return TensorQuantization(float(scale), int(zero_point), np.dtype(detail["dtype"]).name)


def io_quantization(model_content: bytes) -> tuple[Optional[TensorQuantization],
                                                   Optional[dict[str, Optional[TensorQuantization]]]]:
    """Input and per-output quantization params as the interpreter reads them from the file."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_content)
    key, input_name, output_names = signature_names(interpreter)
    runner = interpreter.get_signature_runner(key)
    inputs, outputs = runner.get_input_details(), runner.get_output_details()
    out_q = {ours: _quantization(outputs[theirs]) for ours, theirs in zip(OUTPUT_ORDER, output_names)}
    return _quantization(inputs[input_name]), (out_q if any(out_q.values()) else None)


def with_metadata(model_content: bytes, name: str, payload: bytes) -> bytes:
    """Return ``model_content`` with a named metadata buffer (replacing one of that name)."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(model_content))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(payload, dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name not in (name, name.encode())]
    model.metadata.append(entry)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def convert_tflite(model, metadata: ModelMetadata, out: PathLike, precision: str = "fp32",
                   images: Optional[list[np.ndarray]] = None) -> Path:
    """Write ``model`` as an NHWC TFLite file at ``out`` (fp32, or full int8 on ``images``)."""
    content = float_tflite(model, metadata.input_size)
    if precision == "int8":
        content = quantize_int8(content, images)
    input_q, output_q = io_quantization(content)
    if precision == "int8" and (input_q is None or input_q.dtype != "int8"):
        got = input_q.dtype if input_q else "float"
        raise EdgedetError(f"int8 TFLite conversion produced a {got} input, expected int8")
    stamped = replace(metadata, layout="NHWC", precision=precision,
                      input_quantization=input_q, output_quantization=output_q)
    content = with_metadata(content, METADATA_KEY, stamped.to_json().encode("utf-8"))
    Path(out).write_bytes(content)
    return Path(out)
