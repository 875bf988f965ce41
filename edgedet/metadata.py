"""The model metadata record: what a model file must carry to be self-describing.

Checkpoints store it as a dict; every exported format stores :meth:`ModelMetadata.to_json`
under the key :data:`METADATA_KEY` (where, per format: ``edgedet.runtimes.formats``).
:meth:`ModelMetadata.from_dict` / :meth:`~ModelMetadata.from_json` are the file boundary: they
parse the record into typed parts and check it once, naming the file, the field, what it must
be and what it is. :meth:`ModelMetadata.to_dict` writes the same JSON layout as format 1 did.
"""
from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Optional

import numpy as np

from edgedet import __version__, configs
from edgedet.anchors import AnchorSpec
from edgedet.errors import InvalidInputError, ModelLoadError
from edgedet.input_size import InputSize, SizeLike, check_input_size
from edgedet.input_size import input_size as input_size_of
from edgedet.variant import ModelVariant

METADATA_KEY = "edgedet"
FORMAT_VERSION = 1
# Files whose graph ends in decoding + NMS (``postprocess`` set) are stamped 2, so that an
# edgedet too old to run them says "upgrade" instead of misreading their outputs.
NMS_FORMAT_VERSION = 2
# Files with a non-square (WxH) input are stamped at least 3: older readers expect an integer
# input_size and would fail on [width, height] without saying why.
WXH_FORMAT_VERSION = 3
NEWEST_FORMAT_VERSION = WXH_FORMAT_VERSION

LAYOUTS = ("NCHW", "NHWC")
# Grey that fills the letterbox beyond the frame, in training, evaluation and every backend.
PAD_VALUE = 114
# The exported network's outputs, in the graph's order.
OUTPUT_ORDER = ("cls_logits", "box_regression")

# Pixel statistics the network normalizes with (ImageNet, RGB, 0-255 scale). Normalization
# happens inside the network graph, so runtimes feed raw pixels.
PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)
# Inception-style statistics of the EfficientNet-Lite ImageNet weights (EfficientDet-Lite).
INCEPTION_MEAN = (127.0, 127.0, 127.0)
INCEPTION_STD = (128.0, 128.0, 128.0)
_NORMALIZATION_STATS = {
    configs.NORMALIZATION_IMAGENET: (PIXEL_MEAN, PIXEL_STD),
    configs.NORMALIZATION_INCEPTION: (INCEPTION_MEAN, INCEPTION_STD),
}


def pixel_stats(config: configs.ModelConfig) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) of 0-255 RGB pixels that ``config``'s network normalizes with in its graph."""
    return _NORMALIZATION_STATS[config.normalization]


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Normalization:
    """How the graph expects its input pixels (it applies mean/std itself)."""

    mean: tuple[float, ...] = PIXEL_MEAN
    std: tuple[float, ...] = PIXEL_STD
    color_order: str = "RGB"
    input_range: str = "0-255 float pixels; mean/std applied inside the graph"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str) -> "Normalization":
        """Read the flat ``mean``/``std``/``color_order``/``input_range`` fields of a record."""
        values = {}
        for key in ("mean", "std"):
            if key in d:
                v = d[key]
                if not isinstance(v, (list, tuple)) or len(v) != 3 or not all(map(_is_real, v)):
                    raise ModelLoadError(f"{where} {key} must be three numbers, got {v!r}")
                values[key] = tuple(v)
        for key in ("color_order", "input_range"):
            if key in d:
                values[key] = d[key]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "std": list(self.std), "color_order": self.color_order,
                "input_range": self.input_range}


@dataclass(frozen=True)
class Letterbox:
    """Aspect-preserving resize into the top-left corner, the rest filled with ``pad_value``."""

    align: str = "top-left"
    pad_value: int = PAD_VALUE

    @classmethod
    def from_dict(cls, d: object, where: str) -> "Letterbox":
        pad = d.get("pad_value", PAD_VALUE) if isinstance(d, dict) else None
        if not _is_int(pad) or not 0 <= pad <= 255:
            raise ModelLoadError(f"{where} letterbox must be a record with an integer pad_value "
                                 f"in 0-255, got {d!r}")
        if d.get("align", "top-left") != "top-left":
            raise ModelLoadError(f"{where} letterbox align must be 'top-left', got {d['align']!r}")
        return cls(d.get("align", "top-left"), pad)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outputs:
    """The graph's outputs: their names in graph order, and what each one holds."""

    order: tuple[str, ...] = OUTPUT_ORDER
    descriptions: Mapping[str, str] = field(default_factory=lambda: {
        "cls_logits": "[1, N, C] raw logits, sigmoid gives per-class scores",
        "box_regression": "[1, N, 4] (ty, tx, th, tw) relative to anchors",
    })

    @classmethod
    def from_dict(cls, d: object, where: str) -> "Outputs":
        order = d.get("order", list(OUTPUT_ORDER)) if isinstance(d, dict) else None
        if not isinstance(order, list) or not order or not all(isinstance(n, str) for n in order):
            raise ModelLoadError(f"{where} outputs must be a record with an 'order' list of "
                                 f"output names, got {d!r}")
        return cls(tuple(order), {k: v for k, v in d.items() if k != "order"})

    def to_dict(self) -> dict[str, Any]:
        return {**self.descriptions, "order": list(self.order)}


@dataclass(frozen=True)
class TensorQuantization:
    """Affine quantization of one integer tensor: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int
    dtype: str = "int8"  # or "uint8"

    @classmethod
    def from_dict(cls, d: object, where: str) -> Optional["TensorQuantization"]:
        """None (a float tensor) or the parsed record; ``where`` names it in errors."""
        if d is None:
            return None
        scale = d.get("scale") if isinstance(d, dict) else None
        zero = d.get("zero_point") if isinstance(d, dict) else None
        if not _is_real(scale) or not scale > 0 or not _is_int(zero):
            raise ModelLoadError(f"{where} must hold a positive scale and an integer zero_point, "
                                 f"got {d!r}")
        dtype = d.get("dtype", "int8")
        if dtype not in ("int8", "uint8"):
            raise ModelLoadError(f"{where} dtype must be int8 or uint8, got {dtype!r}")
        return cls(float(scale), int(zero), dtype)

    def to_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "scale": self.scale, "zero_point": self.zero_point}

    def threshold(self, real_threshold: float, dtype: np.dtype) -> float:
        """The value q_t such that ``q > q_t`` exactly when ``real(q) > real_threshold``."""
        if math.isinf(real_threshold):
            return real_threshold
        q = math.floor(real_threshold / self.scale + self.zero_point)
        limits = np.iinfo(dtype)
        return float(min(max(q, limits.min - 1), limits.max))

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        return (q.astype(np.float32) - self.zero_point) * np.float32(self.scale)


@dataclass(frozen=True)
class InGraphNms:
    """Decoding + NMS baked into the graph (``op``: TFLite_Detection_PostProcess); a file
    with it has four outputs (boxes, classes, scores, count) instead of raw head outputs."""

    op: str
    score_threshold: float
    iou_threshold: float
    max_detections: int
    regular_nms: bool = True

    @classmethod
    def from_dict(cls, d: object, where: str) -> Optional["InGraphNms"]:
        if d is None:
            return None
        if not isinstance(d, dict) or not isinstance(d.get("op"), str):
            raise ModelLoadError(f"{where} postprocess must be a record naming its op, got {d!r}")
        checks = {"score_threshold": lambda v: _is_real(v) and 0 <= v <= 1,
                  "iou_threshold": lambda v: _is_real(v) and 0 < v <= 1,
                  "max_detections": lambda v: _is_int(v) and v >= 1,
                  "regular_nms": lambda v: isinstance(v, bool)}
        for key, ok in checks.items():
            if key in d and not ok(d[key]):
                raise ModelLoadError(f"{where} postprocess.{key} is out of range or of the wrong "
                                     f"type: {d[key]!r}")
        missing = [k for k in ("score_threshold", "iou_threshold", "max_detections") if k not in d]
        if missing:
            raise ModelLoadError(f"{where} postprocess lacks {', '.join(missing)}: {d!r}")
        return cls(**{k: d[k] for k in ("op", *checks) if k in d})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _anchors(d: object, where: str, input_size: InputSize) -> AnchorSpec:
    if not isinstance(d, dict):
        raise ModelLoadError(f"{where} anchors must be a record of anchor parameters, got {d!r}")
    missing = [k for k in ("image_size", "aspect_ratios") if k not in d]
    if missing:
        raise ModelLoadError(f"{where} anchors record lacks {', '.join(missing)} "
                             f"(has {', '.join(sorted(d)) or 'nothing'})")
    try:
        spec = AnchorSpec.from_dict(d)
        spec.num_anchors  # noqa: B018 - computing it checks the levels and scales are numbers
    except (TypeError, ValueError, InvalidInputError) as exc:
        raise ModelLoadError(f"{where} anchors record is malformed ({exc}): {d!r}") from exc
    if spec.image_size != input_size:
        raise ModelLoadError(f"{where} disagrees with itself: anchors are for "
                             f"{spec.image_size} px but input_size is {input_size}")
    return spec


@dataclass(frozen=True)
class ModelMetadata:
    """Everything a runtime needs to run a model file, JSON-serializable."""

    model: str
    phi: int
    input_size: InputSize  # an int (square) is accepted and held as InputSize
    class_names: list[str]  # a list, as the JSON has it (callers compare it with lists)
    anchors: AnchorSpec
    layout: str = "NCHW"
    normalization: Normalization = Normalization()
    letterbox: Letterbox = Letterbox()
    outputs: Outputs = Outputs()
    precision: str = "fp32"
    input_quantization: Optional[TensorQuantization] = None
    # Keyed by output name (None for a float one); None when every output is float.
    output_quantization: Optional[Mapping[str, Optional[TensorQuantization]]] = None
    dataset: str = ""
    # Padding / BatchNorm details of the weights (edgedet.variant); the default is today's model.
    variant: ModelVariant = ModelVariant()
    # None: outputs are raw head outputs; else the decoding + NMS baked into the graph.
    postprocess: Optional[InGraphNms] = None
    format_version: int = FORMAT_VERSION
    edgedet_version: str = __version__

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_size", input_size_of(self.input_size))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def config(self) -> configs.ModelConfig:
        return configs.get_config(self.model)

    def with_input_size(self, size: SizeLike) -> "ModelMetadata":
        """The same model at another input size (N or WxH): the network is fully
        convolutional, so only the anchor grid changes with it."""
        size = input_size_of(size)
        return replace(self, input_size=size, anchors=replace(self.anchors, image_size=size))

    def quantization_of_outputs(self) -> tuple[Optional[TensorQuantization], ...]:
        """Quantization of each output in graph order (None where float)."""
        records = self.output_quantization or {}
        return tuple(records.get(name) for name in self.outputs.order)

    def to_dict(self) -> dict[str, Any]:
        """The record as written into files (the layout format 1 defined)."""
        return {
            "model": self.model, "phi": self.phi, "input_size": self.input_size.to_json(),
            "class_names": list(self.class_names), "anchors": self.anchors.to_dict(),
            "layout": self.layout, **self.normalization.to_dict(),
            "letterbox": self.letterbox.to_dict(), "outputs": self.outputs.to_dict(),
            "precision": self.precision,
            "input_quantization": (None if self.input_quantization is None
                                   else self.input_quantization.to_dict()),
            "output_quantization": (None if self.output_quantization is None else
                                    {k: None if q is None else q.to_dict()
                                     for k, q in self.output_quantization.items()}),
            "dataset": self.dataset, "variant": self.variant.to_dict(),
            "postprocess": None if self.postprocess is None else self.postprocess.to_dict(),
            "format_version": (self.format_version if self.input_size.is_square
                               else max(self.format_version, WXH_FORMAT_VERSION)),
            "edgedet_version": self.edgedet_version,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model") -> "ModelMetadata":
        """Parse and check a record read from ``source`` (a file name, for errors)."""
        if not isinstance(d, dict):
            raise ModelLoadError(f"{source}: edgedet metadata is not a mapping")
        version = d.get("format_version")
        if not _is_int(version):
            raise ModelLoadError(f"{source}: edgedet metadata has no integer format_version")
        if version > NEWEST_FORMAT_VERSION:
            raise ModelLoadError(
                f"{source}: metadata format version {version} is newer than this edgedet "
                f"understands ({NEWEST_FORMAT_VERSION}); upgrade edgedet"
            )
        missing = [k for k in ("model", "phi", "input_size", "class_names", "anchors") if k not in d]
        if missing:
            raise ModelLoadError(f"{source}: edgedet metadata lacks field(s) {', '.join(missing)}")
        where = f"{source}: metadata"
        try:
            size = _stored_input_size(d["input_size"])
        except InvalidInputError:
            raise ModelLoadError(f"{where} input_size must be a positive integer or [width, "
                                 f"height], got {d['input_size']!r}") from None
        names = d["class_names"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ModelLoadError(f"{where} class_names must be a non-empty list of strings, "
                                 f"got {names!r}")
        layout = d.get("layout", "NCHW")
        if layout not in LAYOUTS:
            raise ModelLoadError(f"{where} layout must be NCHW or NHWC, got {layout!r}")
        outputs_q = d.get("output_quantization")
        if outputs_q is not None and not isinstance(outputs_q, dict):
            raise ModelLoadError(f"{where} output_quantization must be a record, got {outputs_q!r}")
        optional = {k: d[k] for k in ("precision", "dataset", "edgedet_version") if k in d}
        return cls(
            model=d["model"], phi=d["phi"], input_size=size, class_names=list(names),
            anchors=_anchors(d["anchors"], where, size), layout=layout,
            normalization=Normalization.from_dict(d, where),
            letterbox=Letterbox.from_dict(d.get("letterbox", {}), where),
            outputs=Outputs.from_dict(d.get("outputs", Outputs().to_dict()), where),
            input_quantization=TensorQuantization.from_dict(
                d.get("input_quantization"), f"{where} input_quantization"),
            output_quantization=None if outputs_q is None else {
                name: TensorQuantization.from_dict(q, f"{where} output_quantization.{name}")
                for name, q in outputs_q.items()},
            variant=ModelVariant.from_dict(d.get("variant", {}), source),
            postprocess=InGraphNms.from_dict(d.get("postprocess"), where),
            format_version=version, **optional,
        )

    @classmethod
    def from_json(cls, text: str, source: str = "model") -> "ModelMetadata":
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ModelLoadError(f"{source}: edgedet metadata is not valid JSON ({exc})") from exc
        return cls.from_dict(d, source)


def _stored_input_size(value: object) -> InputSize:
    # Files hold an int (square) or [width, height]; a string is not a stored form.
    if isinstance(value, str):
        raise InvalidInputError(f"a string: {value!r}")
    return input_size_of(value)


def make_metadata(
    model: str,
    class_names: list[str],
    input_size: Optional[SizeLike] = None,
    dataset: str = "",
    variant: Optional[ModelVariant] = None,
    aspect_multipliers: Optional[tuple[tuple[float, float], ...]] = None,
) -> ModelMetadata:
    """Build the record for a fresh model; ``input_size`` (N, "WxH", (w, h) or InputSize)
    defaults to the model's own square size.

    ``variant`` and ``aspect_multipliers`` (effdet's anchor shapes) are for imported weights;
    the defaults describe a model trained by edgedet.
    """
    cfg = configs.get_config(model)
    size = check_input_size(input_size or cfg.input_size)
    mean, std = pixel_stats(cfg)
    return ModelMetadata(
        model=cfg.name,
        phi=cfg.phi,
        input_size=size,
        class_names=list(class_names),
        anchors=AnchorSpec(image_size=size, anchor_scale=cfg.anchor_scale,
                           aspect_multipliers=aspect_multipliers),
        normalization=Normalization(mean=mean, std=std),
        dataset=dataset,
        variant=variant or ModelVariant(),
    )
