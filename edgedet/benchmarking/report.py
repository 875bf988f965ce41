"""Benchmark rows -> plain table, markdown, JSON and a latency-vs-mAP plot."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from edgedet.benchmarking.latency import ModelResult
from edgedet.fileio import atomic_path

_COLUMNS = ("model file", "format", "precision", "size MB", "detect ms (median)", "p90",
            "preprocess", "inference", "postprocess", "mAP@[.5:.95]", "mAP@.5")


def _cells(row: ModelResult) -> list[str]:
    if not row.ok:
        return [Path(row.path).name, row.format or "?", row.precision or "?", "", "FAILED",
                "", "", "", "", "", ""]
    lat = row.latency
    fmt = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
    return [
        Path(row.path).name, row.format, row.precision, f"{row.size_mb:.1f}",
        f"{lat['total_ms'].median:.1f}", f"{lat['total_ms'].p90:.1f}",
        f"{lat['preprocess_ms'].median:.2f}", f"{lat['inference_ms'].median:.1f}",
        f"{lat['postprocess_ms'].median:.2f}", fmt(row.map), fmt(row.map50),
    ]


def _failures(rows: Sequence[ModelResult]) -> list[str]:
    return [f"FAILED {Path(r.path).name}: {r.error}" for r in rows if not r.ok]


def to_table(rows: Sequence[ModelResult]) -> str:
    """Fixed-width text table (stage columns are medians in ms), failures listed below."""
    cells = [list(_COLUMNS)] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + _failures(rows))


def to_markdown(rows: Sequence[ModelResult]) -> str:
    """Markdown table of the same columns."""
    out = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    out += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    failures = _failures(rows)
    return "\n".join(out + ([""] + failures if failures else []))


def to_json(rows: Sequence[ModelResult]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2, default=str)


def save_plot(rows: Sequence[ModelResult], path: str | Path, title: str = "") -> Path:
    """PNG: median detect() latency vs mAP@[.5:.95] (or a latency bar chart without mAP)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r.ok]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    if ok and all(r.map is not None for r in ok):
        for r in ok:
            ax.scatter(r.latency["total_ms"].median, r.map, s=40)
            ax.annotate(f"{Path(r.path).name}\n{r.format} {r.precision}",
                        (r.latency["total_ms"].median, r.map), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
        ax.set_xlabel("detect() median latency, ms (single thread)")
        ax.set_ylabel("mAP@[.5:.95]")
    else:
        labels = [f"{Path(r.path).name}\n{r.format} {r.precision}" for r in ok]
        ax.barh(labels, [r.latency["total_ms"].median for r in ok])
        ax.set_xlabel("detect() median latency, ms")
        ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title or "edgedet benchmark")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)
