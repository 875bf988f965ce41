"""Converters: one module per target format; :func:`convert` (in :mod:`.conversion`) writes
one deployable file from a checkpoint and returns its path.

Which formats exist, their suffixes, precisions and needed packages are rows of
:data:`edgedet.runtimes.formats.REGISTRY`; the names below are views of it.
"""
from __future__ import annotations

from edgedet.converters.conversion import (
    check_dependencies, check_request, convert, convert_with_report)
from edgedet.runtimes.formats import PRECISIONS, SUFFIXES, SUPPORTED, TARGETS

__all__ = ["TARGETS", "PRECISIONS", "SUPPORTED", "SUFFIXES", "check_dependencies", "check_request",
           "convert", "convert_with_report"]
