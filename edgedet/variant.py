"""Architecture variants a model file may need beyond its scaling row (torch-free record).

Today's edgedet models use symmetric padding and BatchNorm eps 1e-3 everywhere; those are the
defaults, so a file without a ``variant`` record reads as exactly that. Imported effdet
checkpoints need the variants their training used:

* ``padding="tf_same"``: TensorFlow "SAME" padding of every strided convolution and max-pool
  (the ``tf_efficientdet_*`` ports). The pad total is ``max((ceil(i/s)-1)*s + k - i, 0)`` and
  the odd pixel goes to the bottom/right; max-pools pad with -inf. Stride-1 convolutions are
  symmetric either way.
* ``backbone_bn_eps``: BatchNorm eps of the EfficientNet trunk. effdet's PyTorch-trained
  models take timm's ``efficientnet_b*`` trunk with PyTorch's 1e-5; the TF ports use 1e-3.
  The BiFPN and heads use 1e-3 in every variant.

Anchor shapes (effdet's aspect multipliers and order) are part of
:class:`edgedet.anchors.AnchorSpec`, not of this record.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgedet.errors import ModelLoadError

PADDINGS = ("symmetric", "tf_same")
DEFAULT_BN_EPS = 1e-3


@dataclass(frozen=True)
class ModelVariant:
    """Padding and BatchNorm details that the weights of a model were trained with."""

    padding: str = "symmetric"
    backbone_bn_eps: float = DEFAULT_BN_EPS

    def __post_init__(self) -> None:
        if self.padding not in PADDINGS:
            raise ModelLoadError(f"model variant padding must be one of {PADDINGS}, got {self.padding!r}")
        if not isinstance(self.backbone_bn_eps, (int, float)) or not 0 < self.backbone_bn_eps < 1:
            raise ModelLoadError(f"model variant backbone_bn_eps must be in (0, 1), got {self.backbone_bn_eps!r}")

    @property
    def is_default(self) -> bool:
        return self == ModelVariant()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any, source: str = "model") -> "ModelVariant":
        if not isinstance(d, dict):
            raise ModelLoadError(f"{source}: metadata 'variant' must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ModelLoadError(
                f"{source}: metadata 'variant' has unknown field(s) {unknown}; this edgedet knows "
                f"{sorted(cls.__dataclass_fields__)} (upgrade edgedet?)"
            )
        try:
            return cls(**d)
        except ModelLoadError as exc:
            raise ModelLoadError(f"{source}: {exc}") from exc
