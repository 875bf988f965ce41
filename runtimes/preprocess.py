"""Frame validation and letterbox preprocessing (the same in training, eval and every backend)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgedet.errors import InvalidInputError
from edgedet.input_size import InputSize, SizeLike, input_size
from edgedet.metadata import PAD_VALUE, TensorQuantization


@dataclass(frozen=True)
class LetterboxInfo:
    """How a frame was placed in the network input: scaled, then pasted at the top-left."""

    scale_x: float
    scale_y: float
    width: int
    height: int

    @property
    def content_size(self) -> tuple[float, float]:
        """(width, height) of the frame's part of the network input; the rest is padding."""
        return self.width * self.scale_x, self.height * self.scale_y

    def to_original(self, boxes: np.ndarray) -> np.ndarray:
        """Map (x1, y1, x2, y2) boxes from network-input pixels back to the frame, clipped."""
        out = np.empty_like(boxes, dtype=np.float32)
        out[:, 0::2] = np.clip(boxes[:, 0::2] / self.scale_x, 0, self.width)
        out[:, 1::2] = np.clip(boxes[:, 1::2] / self.scale_y, 0, self.height)
        return out


def validate_frame(frame: object) -> np.ndarray:
    """Check that ``frame`` is an HxWx3 uint8 array; raise InvalidInputError saying what it is."""
    if not isinstance(frame, np.ndarray):
        raise InvalidInputError(
            f"frame must be a numpy array (HxWx3 uint8), got {type(frame).__name__}"
        )
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise InvalidInputError(f"frame must have shape HxWx3, got {frame.shape}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InvalidInputError(f"frame is empty: shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise InvalidInputError(
            f"frame must be uint8 (0-255 pixels), got dtype {frame.dtype}; "
            "convert with (x * 255).clip(0, 255).astype(np.uint8) if it is 0-1 float"
        )
    return frame


def letterbox(image: np.ndarray, size: int | tuple[int, int] | InputSize,
              pad_value: int = PAD_VALUE,
              out: np.ndarray | None = None) -> tuple[np.ndarray, LetterboxInfo]:
    """Resize ``image`` (HxWxC) to fit a ``size`` square (an int) or a (width, height) canvas
    keeping its aspect ratio, top-left aligned, padding the rest with ``pad_value``. Writes
    into ``out`` if given."""
    if isinstance(size, InputSize):
        size = (size.width, size.height)
    width, height = (size, size) if isinstance(size, int) else size
    h, w = image.shape[:2]
    scale = min(height / h, width / w)
    nh = min(height, max(1, int(round(h * scale))))
    nw = min(width, max(1, int(round(w * scale))))
    if out is None:
        out = np.empty((height, width, image.shape[2]), dtype=image.dtype)
    if (nh, nw) == (h, w):
        out[:nh, :nw] = image
    else:
        cv2.resize(image, (nw, nh), dst=out[:nh, :nw], interpolation=cv2.INTER_LINEAR)
    out[nh:, :] = pad_value
    out[:nh, nw:] = pad_value
    return out, LetterboxInfo(nw / w, nh / h, w, h)


class Preprocessor:
    """Turns a BGR (or RGB) uint8 frame into the model's input tensor.

    Buffers are allocated once; each call letterboxes into the same canvas and fills the
    same input tensor. Quantized inputs whose parameters map pixels exactly (uint8 with
    scale 1 / zero point 0, or int8 with scale 1 / zero point -128) skip float maths.
    """

    def __init__(self, size: SizeLike, layout: str = "NCHW", pad_value: int = PAD_VALUE,
                 input_dtype: np.dtype = np.float32,
                 quantization: TensorQuantization | None = None):
        if layout not in ("NCHW", "NHWC"):
            raise InvalidInputError(f"unsupported input layout {layout!r}: expected NCHW or NHWC")
        self.size = input_size(size)
        self.layout = layout
        self.pad_value = pad_value
        self.quantization = quantization
        self._canvas = np.empty((self.size.height, self.size.width, 3), dtype=np.uint8)
        self._tensor = np.empty(self.size.tensor_shape(layout), dtype=input_dtype)
        self._fill = self._choose_fill(np.dtype(input_dtype), quantization)

    def _choose_fill(self, dtype: np.dtype, q: TensorQuantization | None):
        if q is None or dtype.kind == "f":
            return self._fill_copy
        scale, zero = q.scale, q.zero_point
        if dtype == np.uint8 and scale == 1.0 and zero == 0:
            return self._fill_copy
        if dtype == np.int8 and scale == 1.0 and zero == -128:
            return self._fill_int8_shift
        return self._fill_affine

    def _pixels(self, canvas: np.ndarray) -> np.ndarray:
        return canvas.transpose(2, 0, 1) if self.layout == "NCHW" else canvas

    def _fill_copy(self, canvas: np.ndarray) -> None:
        np.copyto(self._tensor[0], self._pixels(canvas), casting="unsafe")

    def _fill_int8_shift(self, canvas: np.ndarray) -> None:
        # p - 128 as int8 is p with its top bit flipped, read as int8.
        np.bitwise_xor(self._pixels(canvas), np.uint8(0x80), out=self._tensor[0].view(np.uint8))

    def _fill_affine(self, canvas: np.ndarray) -> None:
        q = self.quantization
        values = np.round(self._pixels(canvas).astype(np.float32) / q.scale + q.zero_point)
        limits = np.iinfo(self._tensor.dtype)
        np.copyto(self._tensor[0], np.clip(values, limits.min, limits.max), casting="unsafe")

    def __call__(self, frame: np.ndarray, rgb: bool = False) -> tuple[np.ndarray, LetterboxInfo]:
        """Return ``(input tensor, placement)``; the tensor is reused by the next call."""
        frame = validate_frame(frame)
        canvas, info = letterbox(frame, self.size, self.pad_value, out=self._canvas)
        if not rgb:
            cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB, dst=canvas)
        self._fill(canvas)
        return self._tensor, info
