"""Checks on what a caller may set on a ``Detector``: each names the option, what it must be
and what it got, so a wrong value fails at construction instead of inside ``detect()``."""
from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence

import numpy as np

from edgedet.errors import InvalidInputError


def check_fraction(name: str, value: object, low: float = 0.0, high: float = 1.0) -> float:
    """A real number in ``[low, high]`` (``True``/``False`` are not numbers here)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or math.isnan(float(value)) or not low <= float(value) <= high):
        raise InvalidInputError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def check_count(name: str, value: object, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (``True``/``False`` and floats such as 10.0 are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_flag(name: str, value: object) -> bool:
    """A real ``bool`` (a string such as "no" would otherwise count as true)."""
    if not isinstance(value, (bool, np.bool_, numbers.Integral)) or value not in (0, 1):
        raise InvalidInputError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_categories(categories: Optional[Sequence[str]], class_names: Sequence[str]) -> Optional[list[int]]:
    """Class ids of an allow-list of class names (None: every class)."""
    if categories is None:
        return None
    if isinstance(categories, (str, bytes)) or not isinstance(categories, Sequence):
        raise InvalidInputError(
            f"categories must be a list of class names such as [{class_names[0]!r}] (or None for "
            f"every class), got {categories!r}")
    if not categories:
        raise InvalidInputError("categories is empty, so nothing could ever be reported; pass "
                                "None for every class")
    not_names = [c for c in categories if not isinstance(c, str)]
    if not_names:
        raise InvalidInputError(f"categories must be class names (strings), got {not_names}")
    repeated = sorted({c for c in categories if list(categories).count(c) > 1})
    if repeated:
        raise InvalidInputError(f"categories lists {repeated} more than once; name each class once")
    unknown = [c for c in categories if c not in class_names]
    if unknown:
        raise InvalidInputError(f"unknown categories {unknown}; this model knows {list(class_names)}")
    return [list(class_names).index(c) for c in categories]
