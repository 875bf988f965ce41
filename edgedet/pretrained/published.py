"""The COCO-trained effdet checkpoints that ``--weights NAME`` downloads: one row per file.

Names, URLs and hash prefixes are those of rwightman/efficientdet-pytorch's
``effdet/config/model_config.py`` (its ``url=`` field per model; the release files of
``v0.1``). Only the rows edgedet can import are here: D0-D2 in both variants (effdet publishes
no ``efficientdet_d2``). effdet also publishes ``tf_efficientdet_lite0``-``lite4`` and
``lite3x``, whose EfficientNet-Lite trunk and 0.5/0.5 normalization the importer does not map
yet, and D3-D7, which edgedet does not train.

Torch-free: the CLI builds its help from :data:`NAMES` without importing torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from edgedet.errors import InvalidInputError, joined

_RELEASE = "https://github.com/rwightman/efficientdet-pytorch/releases/download/v0.1/"
COCO_CLASSES = 90  # effdet's COCO heads: the 90-id layout, 10 of the ids unused


@dataclass(frozen=True)
class PublishedWeights:
    """One published effdet checkpoint and the edgedet model it imports as."""

    name: str  # what users type: effdet's model name
    url: str
    # First 8 hex digits of the file's sha256, as in its file name (torch hub's convention): a
    # prefix check catches truncated and corrupt downloads, not a deliberate forgery.
    sha256_prefix: str
    model: str  # the edgedet row in edgedet/configs.py
    variant: str  # a key of edgedet.pretrained.importer.VARIANTS: "tf" or "pytorch"
    num_classes: int = COCO_CLASSES

    @property
    def filename(self) -> str:
        """The published file name, e.g. ``tf_efficientdet_d0_34-f153e0cf.pth``."""
        return self.url.rsplit("/", 1)[-1]


PUBLISHED: tuple[PublishedWeights, ...] = (
    PublishedWeights("tf_efficientdet_d0", _RELEASE + "tf_efficientdet_d0_34-f153e0cf.pth", "f153e0cf", "d0", "tf"),
    PublishedWeights("tf_efficientdet_d1", _RELEASE + "tf_efficientdet_d1_40-a30f94af.pth", "a30f94af", "d1", "tf"),
    PublishedWeights("tf_efficientdet_d2", _RELEASE + "tf_efficientdet_d2_43-8107aa99.pth", "8107aa99", "d2", "tf"),
    PublishedWeights("efficientdet_d0", _RELEASE + "efficientdet_d0-f3276ba8.pth", "f3276ba8", "d0", "pytorch"),
    PublishedWeights("efficientdet_d1", _RELEASE + "efficientdet_d1-bb7e98fe.pth", "bb7e98fe", "d1", "pytorch"),
)
NAMES: tuple[str, ...] = tuple(row.name for row in PUBLISHED)


def find_published(name: str) -> Optional[PublishedWeights]:
    """The row called ``name``, or None."""
    return next((row for row in PUBLISHED if row.name == name), None)


def get_published(name: str) -> PublishedWeights:
    """The row called ``name``; InvalidInputError listing the names otherwise."""
    row = find_published(name)
    if row is None:
        raise InvalidInputError(f"{name!r} is not a published checkpoint name; the names are "
                                f"{joined(NAMES)}")
    return row
