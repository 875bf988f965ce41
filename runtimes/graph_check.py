"""Does a file's edgedet metadata describe the graph stored beside it?

Run by every backend when a file is opened, so an edited or mismatched record fails there,
naming the field and both values, instead of as a runtime error (or silently wrong labels)
at the first ``detect()``. The record on its own was checked when it was parsed
(:meth:`~edgedet.metadata.ModelMetadata.from_dict`).
"""
from __future__ import annotations

from typing import Optional, Sequence

from edgedet.errors import ModelLoadError
from edgedet.metadata import ModelMetadata

Shape = Sequence[Optional[int]]


def check_against_graph(meta: ModelMetadata, source: str, input_shape: Shape,
                        output_shapes: Sequence[Shape]) -> None:
    """Check the record against the graph's input shape and its (class, box) output shapes,
    given in the metadata's output order; unknown (dynamic) dimensions are None and skipped."""
    spec = meta.anchors
    size = meta.input_size
    expected_input = size.tensor_shape(meta.layout)
    _compare(source, "input shape", input_shape, expected_input,
             f"input_size {size} and layout {meta.layout}")
    if meta.postprocess:
        _check_in_graph_nms_outputs(meta, source, output_shapes)
        return
    cls_shape, box_shape = output_shapes
    n = spec.num_anchors
    _compare(source, "class output shape", cls_shape, (1, n, len(meta.class_names)),
             f"{n} anchors and {len(meta.class_names)} class_names {meta.class_names}")
    _compare(source, "box output shape", box_shape, (1, n, 4), f"{n} anchors")


def _check_in_graph_nms_outputs(meta: ModelMetadata, source: str, output_shapes: Sequence[Shape]) -> None:
    """A graph ending in decoding + NMS: boxes [1, M, 4], classes [1, M], scores [1, M], count [1]."""
    if len(output_shapes) != 4:
        raise ModelLoadError(
            f"{source}: metadata does not match the model graph: the metadata says the graph ends "
            f"in {meta.postprocess.op} (boxes, classes, scores, count) but "
            f"the graph has {len(output_shapes)} outputs; re-export it with `edgedet convert --nms`")
    m = meta.postprocess.max_detections
    because = f"in-graph NMS with max_detections {m}"
    for what, shape, expected in (("box output shape", output_shapes[0], (1, m, 4)),
                                  ("class output shape", output_shapes[1], (1, m)),
                                  ("score output shape", output_shapes[2], (1, m))):
        _compare(source, what, shape, expected, because)


def _compare(source: str, what: str, actual: Shape, expected: Sequence[int], because: str) -> None:
    actual = list(actual)
    if len(actual) != len(expected) or any(a is not None and a != e for a, e in zip(actual, expected)):
        raise ModelLoadError(
            f"{source}: metadata does not match the model graph: the graph's {what} is "
            f"{_show(actual)} but the metadata ({because}) implies {_show(expected)}; the file "
            "was edited or mixed up: re-export it with `edgedet convert`")


def _show(shape: Shape) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
