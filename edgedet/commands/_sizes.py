"""Sizes as the commands take them: ``--size WxH`` (camera) and ``--imgsz N|WxH`` (model input)."""
from __future__ import annotations

import argparse

from edgedet.errors import InvalidInputError
from edgedet.input_size import InputSize, check_input_size, parse_wxh


def parse_size(text: str, minimum: int = 1, option: str = "--size") -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)``; both sides at least ``minimum``."""
    pair = parse_wxh(text)
    if not pair or min(pair) < minimum:
        raise InvalidInputError(f"{option} must look like 640x480 (both at least {minimum}), "
                                f"got {text!r}")
    return pair


def _imgsz(text: str) -> InputSize:
    try:
        return check_input_size(text)
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_imgsz_argument(p: argparse.ArgumentParser, default_text: str, **kwargs) -> None:
    """``--imgsz``: a square side (320) or WxH (320x192), multiples of 32."""
    p.add_argument("--imgsz", type=_imgsz, metavar="N|WxH",
                   help=f"input size: N (square) or WxH for camera-shaped models, e.g. 320x192 "
                        f"for 16:9 or 512x384 for 4:3, multiples of 32 ({default_text})", **kwargs)
