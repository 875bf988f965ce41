"""PyTorch checkpoint -> ONNX (BatchNorm folded, static shape, opset 17, metadata inside)."""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from edgedet.converters.onnx_pads import fold_pads_into_convs
from edgedet.errors import require
from edgedet.fileio import PathLike
from edgedet.metadata import METADATA_KEY, OUTPUT_ORDER, ModelMetadata
from edgedet.runtimes.formats import ONNX_EXPORT

OPSET = 17
INPUT_NAME = "images"
OUTPUT_NAMES = OUTPUT_ORDER


def export_onnx(model, metadata: ModelMetadata, out: PathLike) -> Path:
    """Export an EfficientDet module to ``out`` with ``metadata`` in ``metadata_props``.

    ``model`` is folded (BatchNorm merged) here; the input is ``[1, 3, S, S]`` float pixels.
    """
    import torch

    onnx = require(*ONNX_EXPORT)
    from edgedet.model.fold import fold_batchnorm

    folded = fold_batchnorm(model)
    sample = torch.zeros(metadata.input_size.tensor_shape("NCHW"))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer chatter about constants
            torch.onnx.export(
                folded, (sample,), str(raw), dynamo=False, opset_version=OPSET,
                input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
                do_constant_folding=True,
            )
        graph = onnx.load(str(raw))
    inline_shared_initializers(graph)
    fold_pads_into_convs(graph)  # TF-SAME models: asymmetric pads belong in the Conv
    stamp_metadata(graph, metadata)
    onnx.save(graph, str(out))
    return Path(out)


def inline_shared_initializers(graph) -> None:
    """Replace ``Identity(initializer)`` nodes with copies of the initializer.

    The torch exporter stores equal parameters once and feeds the duplicates through Identity
    nodes (common in fresh models: every folded all-zero bias is equal). Quantizers then see
    non-constant biases and leave those convolutions with float biases.
    """
    from onnx import numpy_helper

    inits = {t.name: t for t in graph.graph.initializer}
    for node in list(graph.graph.node):
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = numpy_helper.from_array(numpy_helper.to_array(inits[node.input[0]]), node.output[0])
            graph.graph.initializer.append(copy)
            graph.graph.node.remove(node)


def stamp_metadata(graph, metadata: ModelMetadata) -> None:
    """Write (or replace) the edgedet record in an ONNX ModelProto's ``metadata_props``."""
    for prop in list(graph.metadata_props):
        if prop.key == METADATA_KEY:
            graph.metadata_props.remove(prop)
    entry = graph.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = metadata.to_json()
    graph.producer_name = "edgedet"


def export_onnx_to_dir(model, metadata: ModelMetadata, directory: PathLike) -> Path:
    """Export an fp32 ONNX file into a scratch ``directory`` (an input to other converters)."""
    return export_onnx(model, metadata, Path(directory) / "model.onnx")


def convert_onnx(model, metadata: ModelMetadata, out: PathLike, precision: str = "fp32",
                 images: Optional[list[np.ndarray]] = None) -> Path:
    """Write ``model`` as ONNX at ``out``: fp32, or int8 (QDQ) calibrated on ``images``."""
    if precision == "fp32":
        return export_onnx(model, metadata, out)
    from edgedet.converters.onnx_int8 import quantize_onnx

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx_to_dir(model, metadata, tmp)
        return quantize_onnx(fp32, images, metadata, out)
