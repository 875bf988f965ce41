"""``convert``: check a conversion request, load the checkpoint, run the target format's
converter (its row in :data:`~edgedet.runtimes.formats.REGISTRY`) and measure parity."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from edgedet.errors import InvalidInputError, with_article
from edgedet.fileio import PathLike, move_into_place, staging_folder
from edgedet.input_size import check_input_size
from edgedet.runtimes.formats import PRECISIONS, REGISTRY, SUPPORTED, TARGETS, TORCH, sniff_format

if TYPE_CHECKING:
    from edgedet.converters.parity import ParityReport
    from edgedet.input_size import SizeLike
    from edgedet.converters.tflite_nms import NmsOptions

log = logging.getLogger(__name__)


def check_dependencies(target: str, precision: str) -> None:
    """Raise MissingDependencyError (naming the pip extra) if a needed package is absent."""
    from edgedet.errors import require

    for needed in REGISTRY[target].needs(precision):
        require(*needed)


def check_request(target: str, precision: str, out: Optional[PathLike]) -> tuple[str, str]:
    """Validate target, precision and output suffix; returns normalized (target, precision)."""
    target, precision = str(target).lower(), str(precision).lower()
    if target not in TARGETS:
        raise InvalidInputError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    if precision not in PRECISIONS:
        raise InvalidInputError(
            f"unknown precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision not in SUPPORTED[target]:
        able = [t for t, p in SUPPORTED.items() if precision in p]
        raise InvalidInputError(
            f"target {target} cannot be written in {precision}: it supports "
            f"{', '.join(SUPPORTED[target])} ({precision} is available for {', '.join(able)})")
    suffix = REGISTRY[target].suffix
    if out is not None and Path(out).suffix.lower() != suffix:
        raise InvalidInputError(
            f"output {out} has suffix {Path(out).suffix or '(none)'!r} but a {target} file must "
            f"end in {suffix}")
    return target, precision


def _check_weights(weights: PathLike) -> Path:
    from edgedet.fileio import existing_file

    path = existing_file(weights, "checkpoint")
    kind = sniff_format(path)
    if kind != TORCH.name:
        raise InvalidInputError(
            f"{path} is {with_article(kind)} model file, not a PyTorch "
            "checkpoint; convert takes the .pt file written by `edgedet train` or `edgedet init`")
    return path


def convert_with_report(weights: PathLike, target: str, out: Optional[PathLike] = None,
                        precision: str = "fp32", calib: Optional[PathLike] = None,
                        calib_size: int = 200, overwrite: bool = False,
                        report: bool = True, nms: Optional["NmsOptions"] = None,
                        input_size: Optional["SizeLike"] = None,
                        ) -> tuple[Path, Optional["ParityReport"]]:
    """Convert a checkpoint; returns ``(written path, parity report or None)``.

    Every check on the request (target, precision, paths, calibration data) runs before any
    slow work. One pipeline serves every format: the row's converter writes the network into
    a staging folder beside ``out``; ``nms`` (formats with an ``in_graph_nms`` step) turns
    those bytes into a file that ends in decoding + NMS, with MediaPipe / Task Library
    metadata; the result is moved into place (companion files first) and the parity report
    measured on the network as converted. Nothing is left on disk if a step before the move
    fails; Ctrl-C during the report keeps the written file and says so.
    ``input_size`` (N or WxH) writes the file for that input instead of the checkpoint's:
    the same weights with the anchor grid of that shape.
    """
    from edgedet.converters import calibration

    target, precision = check_request(target, precision, out)
    size = None if input_size is None else check_input_size(input_size)
    row = REGISTRY[target]
    finish = None if nms is None else row.load_in_graph_nms()
    weights = _check_weights(weights)
    out = Path(out) if out else weights.with_suffix(row.suffix)
    row.check_free(out, overwrite)
    if precision == "int8":
        calibration.require_calibration(calib, target)
    from edgedet.thirdparty_output import captured, describe, log_path_for, user_stream

    # The exporters and quantizers print pages of their own (some on import): that goes to a
    # log beside `out`.
    log = log_path_for(out)
    with captured(log, f"import the {target} converter libraries"):
        check_dependencies(target, precision)

    from edgedet.checkpoint import load_checkpoint

    model, metadata = load_checkpoint(weights)
    if size is not None:
        metadata = metadata.with_input_size(size)
    images = None
    if calib is not None:
        images = calibration.load_calibration_images(calib, metadata.input_size, calib_size)
    what = f"{target} {precision}" + (" with in-graph NMS" if nms is not None else "")
    print(describe(f"converting {weights.name} to {what}", log), file=user_stream())
    with staging_folder(out) as stage:
        network = stage / f"network{row.suffix}"
        with captured(log, f"convert {weights} to {what}"):
            row.load_converter()(model, metadata, network, precision=precision, images=images)
            finished = network
            if finish is not None:
                finished = stage / f"finished{row.suffix}"
                finished.write_bytes(finish(network.read_bytes(), nms))
        row.check_free(out, overwrite)  # nothing appeared there while converting
        staged, targets = row.files(finished), row.files(out)
        move_into_place(list(zip(staged, targets))[::-1])
        if not report:
            return out, None
        # The finishing step appends float, exact ops: parity compares the raw head outputs
        # of the network as converted (the file itself when there was no finishing step).
        measured = network if finish is not None else out
        return out, _parity_report(model, metadata, measured, out, target, precision, images, log)


def _parity_report(model, metadata, measured: Path, written: Path, target: str, precision: str,
                   images, log: Path) -> "ParityReport":
    from dataclasses import replace

    from edgedet.converters.parity import measure_parity
    from edgedet.errors import InterruptedAfterWriting
    from edgedet.thirdparty_output import captured, user_stream

    print(f"measuring parity of {written.name} against PyTorch", file=user_stream())
    try:
        with captured(log, f"parity report of {written}"):
            result = measure_parity(model, metadata, measured, target, precision, images)
    except KeyboardInterrupt as exc:
        raise InterruptedAfterWriting(str(written), "the parity report") from exc
    return replace(result, file=str(written))


def convert(weights: PathLike, target: str, out: Optional[PathLike] = None,
            precision: str = "fp32", calib: Optional[PathLike] = None, calib_size: int = 200,
            overwrite: bool = False, report: bool = True,
            nms: Optional["NmsOptions"] = None,
            input_size: Optional["SizeLike"] = None) -> Path:
    """Convert a checkpoint to ``target`` in ``precision``; returns the written path.

    Args:
        weights: edgedet checkpoint (.pt).
        target: one of :data:`TARGETS`.
        out: output path (default: ``weights`` with the target's suffix).
        precision: one of the target's entries in :data:`SUPPORTED`.
        calib: image folder or dataset for int8 calibration (and the parity report).
        calib_size: most calibration images used.
        overwrite: replace existing output files.
        report: measure the parity report; it is logged (INFO) here, and returned by
            :func:`convert_with_report`, which the CLI uses to print it.
        nms: formats with an in-graph NMS step (TFLite): end the graph in
            TFLite_Detection_PostProcess with these options, and add the metadata MediaPipe's
            ObjectDetector reads.
        input_size: N or WxH (e.g. "320x192" for 16:9 frames) to write the file at that input
            size instead of the checkpoint's; each side a multiple of 32.
    """
    written, result = convert_with_report(weights, target, out, precision, calib, calib_size,
                                          overwrite, report, nms, input_size)
    if result is not None:
        log.info("parity of %s against PyTorch:\n%s", written, result.format())
    return written
