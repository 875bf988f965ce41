"""The model-file formats edgedet reads and writes: one row per format, and what loops over them.

Every fact about a format lives in its :class:`ModelFormat` row: file suffixes and the companion
files written beside it, how its content is recognized, the precisions a conversion can write,
the pip extras needed to run and to write it, where its edgedet metadata is stored, and the
backend and converter that handle it (import strings, so that nothing heavy is imported here).
Adding a format is one row plus its backend and converter modules.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

from edgedet.errors import InvalidInputError, ModelLoadError, with_article

if TYPE_CHECKING:
    from edgedet.metadata import ModelMetadata

PRECISIONS = ("fp32", "fp16", "int8")


class Requirement(NamedTuple):
    """An optional package: the module to import, the pip extra that installs it, and why."""

    module: str
    extra: str
    purpose: str


@dataclass(frozen=True)
class ModelFormat:
    """One kind of model file."""

    name: str
    title: str
    suffixes: tuple[str, ...]
    # Does the start of the file (its first 64 bytes) say it is of this format?
    sniff: Callable[[bytes], bool]
    metadata_store: str
    backend: str
    runtime: Requirement
    # Files written beside the main one, by suffix (an OpenVINO IR's weights: ".bin").
    companions: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    # Writes the network as a file of this format: ``(model, metadata, path, precision,
    # images)``; ``convert`` gives it a path in a staging folder of its own and owns the rest
    # (overwrite checks, parity, the atomic move into place).
    converter: Optional[str] = None
    converter_needs: tuple[Requirement, ...] = ()
    int8_needs: tuple[Requirement, ...] = ()
    # The finishing step of ``convert --nms``, if the format has one: ``(bytes of the plain
    # file, NmsOptions) -> bytes of the same network ending in decoding + NMS``.
    in_graph_nms: Optional[str] = None
    # Backend options under which the parity report runs the converted file, so that it
    # describes the file and not a runtime's default execution precision.
    parity_backend_options: tuple[tuple[str, Any], ...] = ()
    # A weak signature (one byte) is tried after the distinctive ones.
    weak_sniff: bool = False

    @property
    def suffix(self) -> str:
        """The suffix edgedet writes."""
        return self.suffixes[0]

    @property
    def is_target(self) -> bool:
        """Whether ``edgedet convert`` writes this format."""
        return self.converter is not None

    def files(self, path: str | Path) -> list[Path]:
        """``path`` and its companion files: everything that makes up one model."""
        p = Path(path)
        return [p] + [p.with_suffix(s) for s in self.companions]

    def needs(self, precision: str) -> tuple[Requirement, ...]:
        """Packages a conversion to this format in ``precision`` imports."""
        return self.converter_needs + (self.int8_needs if precision == "int8" else ())

    def load_in_graph_nms(self) -> Callable[..., bytes]:
        """The in-graph-NMS finishing step (imported now); a clear error if the format has none."""
        if self.in_graph_nms is None:
            able = ", ".join(f.name for f in REGISTRY.values() if f.in_graph_nms)
            raise InvalidInputError(
                f"in-graph NMS (--nms) is available for {able} only, not {self.name}")
        return _resolve(self.in_graph_nms)

    def load_backend(self) -> type:
        """The backend adapter class (imported now)."""
        return _resolve(self.backend)

    def load_converter(self) -> Callable[..., Path]:
        """The converter function ``(model, metadata, path, precision, images)``."""
        if self.converter is None:
            raise InvalidInputError(f"edgedet does not write {self.title} files")
        return _resolve(self.converter)

    def check_free(self, path: str | Path, overwrite: bool) -> None:
        """Refuse to replace an existing output (any of its files) unless ``overwrite``."""
        existing = [str(p) for p in self.files(path) if p.exists()]
        if not existing or overwrite:
            return
        if self.companions:
            raise InvalidInputError(
                f"{' and '.join(existing)} already exist(s); pass --force to overwrite")
        raise InvalidInputError(f"{existing[0]} already exists; pass --force to overwrite it")

    def size_bytes(self, path: str | Path) -> int:
        """Bytes on disk of the model at ``path``, companion files included."""
        return sum(p.stat().st_size for p in self.files(path) if p.exists())

    def parse_metadata(self, path: str | Path, text: Optional[str]) -> "ModelMetadata":
        """The edgedet record of the file at ``path`` from the ``text`` stored in it (None:
        the file has none, so edgedet did not write it: the error says how to make one)."""
        from edgedet.metadata import ModelMetadata

        if text is not None:
            return ModelMetadata.from_json(text, source=str(path))
        fix = (f"`edgedet convert --weights model.pt --target {self.name} --out model{self.suffix}`"
               if self.is_target else "`edgedet train` or `edgedet init`")
        raise ModelLoadError(
            f"{path} is {with_article(self.title.split(' (')[0])} without edgedet metadata, so its "
            f"input size, classes and anchors are unknown. {'Convert' if self.is_target else 'Make'}"
            f" it with edgedet: {fix}")

def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _is_onnx(head: bytes) -> bool:
    # An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    return head[0] == 0x08


def _is_openvino(head: bytes) -> bool:
    stripped = head.lstrip()
    return stripped.startswith(b"<?xml") or stripped.startswith(b"<net")


# The optional packages converters import: named once here, required through these names.
ONNX_EXPORT = Requirement("onnx", "onnx", "ONNX export")
ONNX_INT8 = Requirement("onnxruntime.quantization", "onnx", "ONNX int8 quantization")
OPENVINO_EXPORT = Requirement("openvino", "openvino", "OpenVINO IR export")
OPENVINO_INT8 = Requirement("nncf", "convert", "OpenVINO int8 quantization")
TFLITE_EXPORT = Requirement("litert_torch", "convert", "TFLite conversion")
TFLITE_FLATBUFFERS = Requirement("ai_edge_litert", "convert", "TFLite conversion")
TFLITE_INT8 = Requirement("ai_edge_quantizer", "convert", "TFLite int8 quantization")

TORCH = ModelFormat(
    name="torch", title="PyTorch checkpoint (.pt)", suffixes=(".pt", ".pth"),
    sniff=lambda head: head.startswith(b"PK\x03\x04"),  # torch.save writes a zip archive
    metadata_store="the checkpoint's 'metadata' entry",
    backend="edgedet.runtimes.backends.torch_backend:TorchBackend",
    runtime=Requirement("torch", "train", "running .pt checkpoints"))
ONNX = ModelFormat(
    name="onnx", title="ONNX model (.onnx)", suffixes=(".onnx",), sniff=_is_onnx, weak_sniff=True,
    metadata_store="metadata_props['edgedet']",
    backend="edgedet.runtimes.backends.onnx_backend:OnnxBackend",
    runtime=Requirement("onnxruntime", "onnx", "running .onnx models"),
    precisions=("fp32", "int8"), converter="edgedet.converters.onnx:convert_onnx",
    converter_needs=(ONNX_EXPORT, Requirement("onnxruntime", "onnx", "ONNX parity checks")),
    int8_needs=(ONNX_INT8,))
OPENVINO = ModelFormat(
    name="openvino", title="OpenVINO IR (.xml + .bin)", suffixes=(".xml",), companions=(".bin",),
    sniff=_is_openvino, metadata_store="rt_info['edgedet']",
    backend="edgedet.runtimes.backends.openvino_backend:OpenVinoBackend",
    runtime=Requirement("openvino", "openvino", "running OpenVINO .xml models"),
    precisions=("fp32", "fp16", "int8"), converter="edgedet.converters.openvino:convert_openvino",
    converter_needs=(ONNX_EXPORT, OPENVINO_EXPORT), int8_needs=(OPENVINO_INT8,),
    # The CPU plugin runs fp32 IRs in bf16 by default where the CPU has it.
    parity_backend_options=(("inference_precision", "f32"),))
TFLITE = ModelFormat(
    name="tflite", title="TFLite model (.tflite)", suffixes=(".tflite",),
    sniff=lambda head: head[4:8] == b"TFL3",  # the flatbuffer file identifier
    metadata_store="the 'edgedet' metadata buffer",
    backend="edgedet.runtimes.backends.tflite_backend:TfliteBackend",
    runtime=Requirement("ai_edge_litert", "tflite", "running .tflite models"),
    precisions=("fp32", "int8"), converter="edgedet.converters.tflite:convert_tflite",
    in_graph_nms="edgedet.converters.tflite_nms:detector_file",
    converter_needs=(TFLITE_EXPORT, TFLITE_FLATBUFFERS), int8_needs=(TFLITE_INT8,))

REGISTRY: dict[str, ModelFormat] = {f.name: f for f in (TORCH, ONNX, OPENVINO, TFLITE)}
FORMATS = tuple(REGISTRY)
# The formats `edgedet convert` writes, and the precisions each can be written in.
TARGETS = tuple(name for name, f in REGISTRY.items() if f.is_target)
SUPPORTED = {name: REGISTRY[name].precisions for name in TARGETS}
SUFFIXES = {name: REGISTRY[name].suffix for name in TARGETS}
# Every (target, precision) pair a conversion can write.
CONVERSIONS = tuple((name, precision) for name in TARGETS for precision in SUPPORTED[name])


def get_format(name: str, what: str = "format") -> ModelFormat:
    """The row called ``name`` (case-insensitive); a clear error naming the choices if none."""
    row = REGISTRY.get(str(name).lower())
    if row is None:
        raise InvalidInputError(f"unknown {what} {name!r}: expected one of {', '.join(FORMATS)}")
    return row


def sniff_format(path: str | Path) -> str:
    """Return one of :data:`FORMATS` for ``path``; raise a clear error if it is none."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"model file not found: {p}")
    if p.is_dir():
        raise InvalidInputError(f"model path is a directory, expected a file: {p}")
    with p.open("rb") as f:
        head = f.read(64)
    if not head:
        raise ModelLoadError(f"{p} is empty (0 bytes); re-export the model")
    for row in sorted(REGISTRY.values(), key=lambda f: f.weak_sniff):
        if row.sniff(head):
            return row.name
    guess = next((f.name for f in REGISTRY.values() if p.suffix.lower() in f.suffixes), None)
    raise ModelLoadError(
        f"{p} is not a model file edgedet can read"
        + (f" (its suffix says {guess}, but its content does not match; truncated or corrupt?)" if guess else "")
        + f"; supported: {', '.join(f.title for f in REGISTRY.values())}"
    )


def format_of(path: str | Path) -> ModelFormat:
    """The row of the file at ``path``, by its content (see :func:`sniff_format`)."""
    return REGISTRY[sniff_format(path)]

