"""Does a file's edgedet metadata describe the graph stored beside it?

Run by every backend when a file is opened, so an edited or mismatched record fails there,
naming the field and both values, instead of as a runtime error (or silently wrong labels)
at the first ``detect()``.
"""
from __future__ import annotations

from typing import Optional, Sequence

from edgedet.anchors import AnchorSpec
from edgedet.errors import ModelLoadError
from edgedet.metadata import ModelMetadata

Shape = Sequence[Optional[int]]


def check_record(meta: ModelMetadata, source: str) -> AnchorSpec:
    """Check the record on its own (types, anchors); returns its anchor parameters."""
    size = meta.input_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ModelLoadError(f"{source}: metadata input_size must be a positive integer, got {size!r}")
    names = meta.class_names
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ModelLoadError(f"{source}: metadata class_names must be a non-empty list of strings, "
                             f"got {names!r}")
    if meta.layout not in ("NCHW", "NHWC"):
        raise ModelLoadError(f"{source}: metadata layout must be NCHW or NHWC, got {meta.layout!r}")
    if not isinstance(meta.anchors, dict):
        raise ModelLoadError(f"{source}: metadata anchors must be a record of anchor parameters, "
                             f"got {meta.anchors!r}")
    missing = [k for k in ("image_size", "aspect_ratios") if k not in meta.anchors]
    if missing:
        raise ModelLoadError(f"{source}: metadata anchors record lacks {', '.join(missing)} "
                             f"(has {', '.join(sorted(meta.anchors)) or 'nothing'})")
    try:
        spec = AnchorSpec.from_dict(meta.anchors)
        spec.num_anchors  # noqa: B018 - computing it checks the levels and scales are numbers
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(f"{source}: metadata anchors record is malformed ({exc}): "
                             f"{meta.anchors!r}") from exc
    if spec.image_size != size:
        raise ModelLoadError(f"{source}: metadata disagrees with itself: anchors are for "
                             f"{spec.image_size} px but input_size is {size}")
    pad = meta.letterbox.get("pad_value", 114) if isinstance(meta.letterbox, dict) else None
    if isinstance(pad, bool) or not isinstance(pad, int) or not 0 <= pad <= 255:
        raise ModelLoadError(f"{source}: metadata letterbox must be a record with an integer "
                             f"pad_value in 0-255, got {meta.letterbox!r}")
    _check_quantization(source, "input_quantization", meta.input_quantization)
    outputs = meta.output_quantization
    if outputs is not None and not isinstance(outputs, dict):
        raise ModelLoadError(f"{source}: metadata output_quantization must be a record, got {outputs!r}")
    for name, record in (outputs or {}).items():
        _check_quantization(source, f"output_quantization.{name}", record)
    return spec


def _check_quantization(source: str, field: str, record: object) -> None:
    """None (float tensor) or ``{"scale": > 0, "zero_point": int, ...}``."""
    if record is None:
        return
    scale = record.get("scale") if isinstance(record, dict) else None
    zero = record.get("zero_point") if isinstance(record, dict) else None
    if (not isinstance(scale, (int, float)) or isinstance(scale, bool) or not scale > 0
            or not isinstance(zero, int) or isinstance(zero, bool)):
        raise ModelLoadError(f"{source}: metadata {field} must hold a positive scale and an "
                             f"integer zero_point, got {record!r}")


def check_against_graph(meta: ModelMetadata, source: str, input_shape: Shape,
                        output_shapes: Sequence[Shape]) -> None:
    """Check the record against the graph's input shape and its (class, box) output shapes,
    given in the metadata's output order; unknown (dynamic) dimensions are None and skipped."""
    spec = check_record(meta, source)
    size = meta.input_size
    expected_input = (1, 3, size, size) if meta.layout == "NCHW" else (1, size, size, 3)
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
            f"in {meta.postprocess.get('op', 'in-graph NMS')} (boxes, classes, scores, count) but "
            f"the graph has {len(output_shapes)} outputs; re-export it with `edgedet convert --nms`")
    m = meta.postprocess.get("max_detections")
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
