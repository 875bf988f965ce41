"""The model metadata record: what a model file must carry to be self-describing.

Checkpoints store it as a dict; every exported format stores :meth:`ModelMetadata.to_json`
under the key :data:`METADATA_KEY` (ONNX ``metadata_props``, OpenVINO ``rt_info``, TFLite
metadata buffer). Backends read it back with :meth:`ModelMetadata.from_json`.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from edgedet import __version__, configs
from edgedet.anchors import AnchorSpec
from edgedet.errors import ModelLoadError
from edgedet.variant import ModelVariant

METADATA_KEY = "edgedet"
FORMAT_VERSION = 1
# Files whose graph ends in decoding + NMS (``postprocess`` set) are stamped 2, so that an
# edgedet too old to run them says "upgrade" instead of misreading their outputs.
NMS_FORMAT_VERSION = 2

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


@dataclass
class TensorQuantization:
    """Affine quantization of one tensor: real = scale * (q - zero_point)."""

    dtype: str  # "int8" or "uint8"
    scale: float
    zero_point: int


@dataclass
class ModelMetadata:
    """Everything a runtime needs to run a model file, JSON-serializable."""

    model: str
    phi: int
    input_size: int
    class_names: list[str]
    anchors: dict[str, Any]
    layout: str = "NCHW"
    color_order: str = "RGB"
    input_range: str = "0-255 float pixels; mean/std applied inside the graph"
    mean: tuple[float, ...] = PIXEL_MEAN
    std: tuple[float, ...] = PIXEL_STD
    letterbox: dict[str, Any] = field(default_factory=lambda: {"align": "top-left", "pad_value": 114})
    outputs: dict[str, Any] = field(
        default_factory=lambda: {
            "cls_logits": "[1, N, C] raw logits, sigmoid gives per-class scores",
            "box_regression": "[1, N, 4] (ty, tx, th, tw) relative to anchors",
            "order": ["cls_logits", "box_regression"],
        }
    )
    precision: str = "fp32"
    input_quantization: Optional[dict[str, Any]] = None
    output_quantization: Optional[dict[str, dict[str, Any]]] = None
    dataset: str = ""
    # Padding / BatchNorm details of the weights (edgedet.variant); the default is today's model.
    variant: dict[str, Any] = field(default_factory=lambda: ModelVariant().to_dict())
    # None: outputs are raw head outputs. Otherwise the post-processing baked into the graph
    # ({"op": "TFLite_Detection_PostProcess", "score_threshold", "iou_threshold", ...}).
    postprocess: Optional[dict[str, Any]] = None
    format_version: int = FORMAT_VERSION
    edgedet_version: str = __version__

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def anchor_spec(self) -> AnchorSpec:
        return AnchorSpec.from_dict(self.anchors)

    @property
    def model_variant(self) -> ModelVariant:
        return ModelVariant.from_dict(self.variant)

    @property
    def config(self) -> configs.ModelConfig:
        return configs.get_config(self.model)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mean"] = list(self.mean)
        d["std"] = list(self.std)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model") -> "ModelMetadata":
        if not isinstance(d, dict):
            raise ModelLoadError(f"{source}: edgedet metadata is not a mapping")
        version = d.get("format_version")
        if not isinstance(version, int):
            raise ModelLoadError(f"{source}: edgedet metadata has no integer format_version")
        if version > NMS_FORMAT_VERSION:
            raise ModelLoadError(
                f"{source}: metadata format version {version} is newer than this edgedet "
                f"understands ({NMS_FORMAT_VERSION}); upgrade edgedet"
            )
        known = {f for f in cls.__dataclass_fields__}
        missing = [k for k in ("model", "phi", "input_size", "class_names", "anchors") if k not in d]
        if missing:
            raise ModelLoadError(f"{source}: edgedet metadata lacks field(s) {', '.join(missing)}")
        kwargs = {k: v for k, v in d.items() if k in known}
        for key in ("mean", "std"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if "variant" in kwargs:  # validated here, at the file boundary
            kwargs["variant"] = ModelVariant.from_dict(kwargs["variant"], source).to_dict()
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str, source: str = "model") -> "ModelMetadata":
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ModelLoadError(f"{source}: edgedet metadata is not valid JSON ({exc})") from exc
        return cls.from_dict(d, source)


def make_metadata(
    model: str,
    class_names: list[str],
    input_size: Optional[int] = None,
    dataset: str = "",
    variant: Optional[ModelVariant] = None,
    aspect_multipliers: Optional[tuple[tuple[float, float], ...]] = None,
) -> ModelMetadata:
    """Build the record for a fresh model; ``input_size`` defaults to the model's own.

    ``variant`` and ``aspect_multipliers`` (effdet's anchor shapes) are for imported weights;
    the defaults describe a model trained by edgedet.
    """
    cfg = configs.get_config(model)
    size = configs.check_image_size(input_size or cfg.input_size)
    mean, std = pixel_stats(cfg)
    return ModelMetadata(
        model=cfg.name,
        phi=cfg.phi,
        input_size=size,
        class_names=list(class_names),
        anchors=AnchorSpec(image_size=size, anchor_scale=cfg.anchor_scale,
                           aspect_multipliers=aspect_multipliers).to_dict(),
        mean=mean,
        std=std,
        dataset=dataset,
        variant=(variant or ModelVariant()).to_dict(),
    )
