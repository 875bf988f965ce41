"""What a caller may set on a ``Detector`` (:class:`DetectorOptions`) and the checks on each
value: they name the option, what it must be and what it got, so a wrong value fails at
construction instead of inside ``detect()``."""
from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass, fields
from typing import Iterable, Optional, Sequence

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


def check_names(name: str, names: object) -> Optional[tuple[str, ...]]:
    """None, or a non-empty list of distinct strings (a lone string is refused: it is not a list)."""
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise InvalidInputError(
            f"{name} must be a list of class names such as ['person'] (or None for every class), "
            f"got {names!r}")
    if not names:
        raise InvalidInputError(f"{name} is empty; pass None for every class")
    not_names = [c for c in names if not isinstance(c, str)]
    if not_names:
        raise InvalidInputError(f"{name} must be class names (strings), got {not_names}")
    repeated = sorted({c for c in names if list(names).count(c) > 1})
    if repeated:
        raise InvalidInputError(f"{name} lists {repeated} more than once; name each class once")
    return tuple(names)


def check_categories(categories: Optional[Sequence[str]], class_names: Sequence[str],
                     denied: Optional[Sequence[str]] = None) -> Optional[list[int]]:
    """Class ids to report: the allow-list ``categories`` (None: every class) less ``denied``;
    None when that is every class."""
    allowed = check_names("categories", categories)
    denied = check_names("denied_categories", denied) or ()
    for name, given in (("categories", allowed or ()), ("denied_categories", denied)):
        unknown = [c for c in given if c not in class_names]
        if unknown:
            raise InvalidInputError(f"unknown {name} {unknown}; this model knows {list(class_names)}")
    if allowed is None and not denied:
        return None
    kept = [c for c in (allowed or class_names) if c not in denied]
    if not kept:
        raise InvalidInputError("categories and denied_categories leave no class, so nothing "
                                "could ever be reported")
    return [list(class_names).index(c) for c in kept]


@dataclass(frozen=True)
class DetectorOptions:
    """What a caller may set on a :class:`~edgedet.runtimes.detector.Detector`, checked here.

    Args:
        score_threshold: minimum class probability to report.
        iou_threshold: NMS overlap above which the lower-scoring box of a class is dropped.
        max_results: most detections returned per frame.
        num_threads: CPU threads for inference (1 by default, for predictable latency).
        categories: allow-list of class names; others are never reported (None: all).
        denied_categories: class names never reported.
        pre_nms_top_k: most candidates passed from the score filter to NMS.
        class_agnostic_nms: NMS across classes: an overlapping box of another class is
            dropped too, so one object gets one label (default: per class, as COCO scoring
            expects).

    These are the only defaults of detector settings: ``Detector``'s keywords, the CLI flags
    and training's validation all read them from here.
    """

    score_threshold: float = 0.3
    iou_threshold: float = 0.5
    max_results: int = 100
    num_threads: int = 1
    categories: Optional[tuple[str, ...]] = None
    denied_categories: Optional[tuple[str, ...]] = None
    pre_nms_top_k: int = 1000
    class_agnostic_nms: bool = False

    def __post_init__(self) -> None:
        checked = {
            "score_threshold": check_fraction("score_threshold", self.score_threshold),
            "iou_threshold": check_fraction("iou_threshold", self.iou_threshold),
            "max_results": check_count("max_results", self.max_results),
            "num_threads": check_count("num_threads", self.num_threads),
            "categories": check_names("categories", self.categories),
            "denied_categories": check_names("denied_categories", self.denied_categories),
            "pre_nms_top_k": check_count("pre_nms_top_k", self.pre_nms_top_k),
            "class_agnostic_nms": check_flag("class_agnostic_nms", self.class_agnostic_nms),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def class_ids(self, class_names: Sequence[str]) -> Optional[list[int]]:
        """Ids of the classes to report for a model with ``class_names`` (None: all)."""
        return check_categories(self.categories, class_names, self.denied_categories)


def refuse_unknown(given: Iterable[str], valid: Sequence[str], where: str, takes: str) -> None:
    """A clear error for option names not in ``valid``, with the closest valid name;
    ``takes`` lists what is valid, in words."""
    unknown = sorted(set(given) - set(valid))
    if not unknown:
        return
    hints = [f"{u} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(u, valid, 1))
             else u for u in unknown]
    raise InvalidInputError(f"unknown option(s) {', '.join(hints)} for {where}; {takes}")
