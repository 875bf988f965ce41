"""Per-epoch training log: a CSV and a PNG of loss and val mAP, both written atomically."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from edgedet.fileio import atomic_path, atomic_write_text

COLUMNS = ("epoch", "train_loss", "cls_loss", "box_loss", "lr", "val_map", "val_map50",
           "epoch_seconds", "images_per_second")


def read_history(path: Path, up_to_epoch: int) -> list[dict]:
    """Rows of an existing log for epochs <= ``up_to_epoch`` (used when resuming)."""
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        rows = [{k: float(v) if v not in ("", None) else None for k, v in row.items()}
                for row in csv.DictReader(f)]
    rows = [dict(r, epoch=int(r["epoch"])) for r in rows if r.get("epoch") is not None]
    return [r for r in rows if r["epoch"] <= up_to_epoch]


def write_history(path: Path, rows: list[dict]) -> None:
    """Rewrite the whole CSV (atomically) from ``rows``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in COLUMNS})
    atomic_write_text(path, buf.getvalue())


def plot_history(path: Path, rows: list[dict]) -> None:
    """Loss (left) and val mAP (right) per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("train_loss", "total"), ("cls_loss", "class"), ("box_loss", "box (unweighted)")):
        ax_loss.plot(epochs, [r[key] for r in rows], marker=".", label=label)
    ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log", title="loss")
    ax_loss.legend()
    for key, label in (("val_map", "mAP@[.5:.95]"), ("val_map50", "mAP@.5")):
        points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
        if points:
            ax_map.plot(*zip(*points), marker=".", label=label)
    ax_map.set(xlabel="epoch", ylabel="val mAP", ylim=(0, 1), title="validation")
    if ax_map.lines:
        ax_map.legend()
    else:
        ax_map.text(0.5, 0.5, "no validation split", ha="center", transform=ax_map.transAxes)
    for ax in (ax_loss, ax_map):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
