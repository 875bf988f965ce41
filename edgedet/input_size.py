"""A model's input size: width x height, square or camera-shaped (e.g. 320x192 for 16:9).

One type for the size every part of edgedet passes around (metadata, anchors, letterbox,
converters, training), parsed from what users type (``320``, ``"320x192"``) and written to
files as before for square models (a bare integer) so files stay readable by older readers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from edgedet import configs
from edgedet.errors import InvalidInputError

_WXH = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def parse_wxh(text: str) -> Optional[tuple[int, int]]:
    """``"640x480"`` -> ``(640, 480)``; None when ``text`` is not of that form."""
    match = _WXH.fullmatch(text)
    return (int(match[1]), int(match[2])) if match else None


@dataclass(frozen=True, eq=False)
class InputSize:
    """Network input width and height in pixels (positive; :func:`check_input_size` also
    holds them to what models accept: multiples of 32, at least 128). A square size equals its
    side as an int (``metadata.input_size == 512`` holds, as it did when sizes were ints)."""

    width: int
    height: int

    def __post_init__(self) -> None:
        for axis, value in (("width", self.width), ("height", self.height)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInputError(f"input {axis} must be a positive integer, got {value!r}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, InputSize):
            return (self.width, self.height) == (other.width, other.height)
        if isinstance(other, int) and not isinstance(other, bool):
            return self.is_square and self.width == other
        return NotImplemented

    def __hash__(self) -> int:  # equal objects hash alike: a square size hashes as its side
        return hash(self.width) if self.is_square else hash((self.width, self.height))

    @property
    def is_square(self) -> bool:
        return self.width == self.height

    @property
    def aspect(self) -> float:
        """width / height."""
        return self.width / self.height

    @property
    def area(self) -> int:
        return self.width * self.height

    def tensor_shape(self, layout: str = "NCHW") -> tuple[int, int, int, int]:
        """The batch-1 input tensor's shape in ``layout`` (NCHW or NHWC)."""
        if layout == "NHWC":
            return (1, self.height, self.width, 3)
        return (1, 3, self.height, self.width)

    def to_json(self) -> Union[int, list[int]]:
        """As files store it: an integer when square (the layout before WxH existed), else [w, h]."""
        return self.width if self.is_square else [self.width, self.height]

    def __str__(self) -> str:
        return str(self.width) if self.is_square else f"{self.width}x{self.height}"


SizeLike = Union[InputSize, int, str, tuple, list]


def input_size(value: SizeLike) -> InputSize:
    """Parse ``320``, ``"320"``, ``"320x192"``, ``(320, 192)`` or ``[320, 192]`` (width first).

    Raises InvalidInputError naming what was given and what is expected.
    """
    if isinstance(value, InputSize):
        return value
    if isinstance(value, bool):
        raise InvalidInputError(f"input size must be N or WxH, got {value!r}")
    if isinstance(value, int):
        return InputSize(value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return InputSize(int(value[0]), int(value[1]))
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return InputSize(int(text), int(text))
        pair = parse_wxh(text)
        if pair:
            return InputSize(*pair)
    raise InvalidInputError(
        f"input size must be N (square) or WxH, e.g. 320 or 320x192 (multiples of "
        f"{configs.IMAGE_SIZE_MULTIPLE}), got {value!r}")


def check_input_size(value: SizeLike) -> InputSize:
    """:func:`input_size`, then each side checked as a model input (a multiple of 32, >= 128)."""
    size = input_size(value)
    for axis, side in (("width", size.width), ("height", size.height)):
        try:
            configs.check_image_size(side)
        except InvalidInputError as exc:
            raise InvalidInputError(f"input {axis}: {exc}" if not size.is_square else str(exc)) from None
    return size


def padding_share(frame_width: int, frame_height: int, size: InputSize) -> float:
    """Fraction of the input that the letterbox fills with padding for such frames."""
    scale = min(size.width / frame_width, size.height / frame_height)
    return 1.0 - (frame_width * scale) * (frame_height * scale) / size.area


def camera_size(frame_width: int, frame_height: int, width: int) -> InputSize:
    """The input of ``width`` columns whose aspect is closest to a frame's, height rounded up to
    a multiple of 32 so the frame letterboxes with the least padding (1280x720 at 320 -> 320x192)."""
    height = _round_up(round(width * frame_height / frame_width), configs.IMAGE_SIZE_MULTIPLE)
    return InputSize(width, max(configs.MIN_IMAGE_SIZE, height))


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


# The coarsest stride (P7): sides that are multiples of it end every level on a cell boundary.
# Measured on BCCD (README, camera-shaped models): 512x384 kept the square file's mAP, 384x288
# (P7 grid 2.25 cells high) lost 2.3 points.
ALIGNED_MULTIPLE = 2 ** configs.MAX_LEVEL


def aligned_camera_size(frame_width: int, frame_height: int, width: int,
                        max_padding: float = 0.10) -> Optional[InputSize]:
    """The smallest input at least ``width`` wide whose sides are both multiples of
    :data:`ALIGNED_MULTIPLE` and which such frames letterbox into with less than
    ``max_padding`` padding (640x480 at 384 -> 512x384; 1280x720 at 320 -> 640x384), looking
    up to twice ``width``; None if there is none."""
    step = ALIGNED_MULTIPLE
    for w in range(_round_up(width, step), 2 * width + 1, step):
        size = InputSize(w, max(step, _round_up(round(w * frame_height / frame_width), step)))
        if padding_share(frame_width, frame_height, size) < max_padding:
            return size
    return None
