"""``--size WxH`` as the commands take it."""
from __future__ import annotations

import re

from edgedet.errors import InvalidInputError


def parse_size(text: str, minimum: int = 1, option: str = "--size") -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)``; both sides at least ``minimum``."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match[1]) < minimum or int(match[2]) < minimum:
        raise InvalidInputError(f"{option} must look like 640x480 (both at least {minimum}), "
                                f"got {text!r}")
    return int(match[1]), int(match[2])
