"""PyTorch checkpoint -> ONNX (BatchNorm folded, static shape, opset 17, metadata inside)."""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from edgedet.errors import require
from edgedet.fileio import PathLike, atomic_path
from edgedet.metadata import METADATA_KEY, ModelMetadata

OPSET = 17
INPUT_NAME = "images"
OUTPUT_NAMES = ("cls_logits", "box_regression")


def export_onnx(model, metadata: ModelMetadata, out: PathLike, overwrite: bool = True) -> Path:
    """Export an EfficientDet module to ``out`` with ``metadata`` in ``metadata_props``.

    ``model`` is folded (BatchNorm merged) here; the input is ``[1, 3, S, S]`` float pixels.
    """
    import torch

    onnx = require("onnx", "onnx", "ONNX export")
    from edgedet.model.fold import fold_batchnorm

    folded = fold_batchnorm(model)
    size = metadata.input_size
    sample = torch.zeros(1, 3, size, size)
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
    stamp_metadata(graph, metadata)
    with atomic_path(out, overwrite=overwrite) as tmp_out:
        onnx.save(graph, str(tmp_out))
    return Path(out)


def stamp_metadata(graph, metadata: ModelMetadata) -> None:
    """Write (or replace) the edgedet record in an ONNX ModelProto's ``metadata_props``."""
    for prop in list(graph.metadata_props):
        if prop.key == METADATA_KEY:
            graph.metadata_props.remove(prop)
    entry = graph.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = metadata.to_json()
    graph.producer_name = "edgedet"


def convert_to_onnx(weights: PathLike, out: PathLike, overwrite: bool = True) -> Path:
    """Load a checkpoint and export it to ONNX at ``out`` (written atomically)."""
    from edgedet.checkpoint import load_checkpoint

    model, metadata = load_checkpoint(weights)
    return export_onnx(model, metadata, out, overwrite=overwrite)
