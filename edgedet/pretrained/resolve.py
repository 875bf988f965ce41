"""What a ``--weights`` (or ``edgedet import``) value names: a file, or a published checkpoint.

An existing file path is used as it is (a file wins over a name). A name from
:mod:`edgedet.pretrained.published` becomes a file in the cache: the effdet download
(``<cache>/tf_efficientdet_d0_34-f153e0cf.pth``) and, for training, the edgedet checkpoint
imported from it (``<cache>/tf_efficientdet_d0_34-f153e0cf.edgedet.pt``), each made once;
a second run reads the imported checkpoint and touches neither the network nor the importer.
"""
from __future__ import annotations

from pathlib import Path

from edgedet.errors import InvalidInputError, ModelLoadError, joined
from edgedet.fileio import atomic_path
from edgedet.pretrained.download import cache_dir, fetch
from edgedet.pretrained.published import NAMES, PublishedWeights, find_published
from edgedet.thirdparty_output import user_stream


def download_path(row: PublishedWeights) -> Path:
    """Where the effdet file of ``row`` is kept (and may be put by hand)."""
    return cache_dir() / row.filename


def imported_path(row: PublishedWeights) -> Path:
    """Where the edgedet checkpoint imported from ``row``'s file is kept."""
    return cache_dir() / f"{Path(row.filename).stem}.edgedet.pt"


def downloaded(row: PublishedWeights, progress: bool = True) -> Path:
    """The verified effdet file of ``row``, downloaded first if the cache lacks it."""
    dest = download_path(row)
    if not dest.is_file():
        print(f"downloading {row.name} ({row.url}) to {dest}", file=user_stream(), flush=True)
    return fetch(row.url, dest, row.sha256_prefix, progress)


def imported(row: PublishedWeights, progress: bool = True) -> Path:
    """The edgedet checkpoint of ``row``: from the cache, else downloaded and imported once."""
    out = imported_path(row)
    if out.is_file():
        return out
    source = downloaded(row, progress)
    from edgedet.pretrained.importer import import_weights  # torch: only when importing

    with atomic_path(out) as tmp:
        meta, _ = import_weights(source, tmp, variant=row.variant, overwrite=True)
        if (meta.model, meta.num_classes) != (row.model, row.num_classes):
            raise ModelLoadError(f"{source} imported as a {meta.model} with {meta.num_classes} classes; "
                                 f"{row.name} should be a {row.model} with {row.num_classes}")
    print(f"imported {row.name} as {out}", file=user_stream(), flush=True)
    return out


def _resolve(value: str, option: str, progress: bool, import_it: bool) -> Path:
    path = Path(value).expanduser()
    if path.is_file():
        return path
    row = find_published(value)
    if row is None:
        raise InvalidInputError(f"{option} {value}: no such file, and not a published checkpoint name "
                                f"({joined(NAMES)})")
    return imported(row, progress) if import_it else downloaded(row, progress)


def weights_checkpoint(value: str, progress: bool = True) -> Path:
    """An edgedet checkpoint for ``--weights``: ``value`` itself if it is a file, else the
    cached import of the published checkpoint it names."""
    return _resolve(value, "--weights", progress, import_it=True)


def import_source(value: str, progress: bool = True) -> Path:
    """A weights file for ``edgedet import``: ``value`` itself if it is a file, else the
    cached effdet download of the published checkpoint it names."""
    return _resolve(value, "source", progress, import_it=False)
