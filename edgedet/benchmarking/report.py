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


_STAGE_COLOURS = (("preprocess_ms", "preprocess", "#9ecae1"),
                  ("inference_ms", "inference", "#3182bd"),
                  ("postprocess_ms", "postprocess", "#fd8d3c"))


def save_plot(rows: Sequence[ModelResult], path: str | Path, title: str = "") -> Path:
    """PNG of :func:`plot_figure`, written atomically."""
    import matplotlib.pyplot as plt

    fig = plot_figure(rows, title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def plot_figure(rows: Sequence[ModelResult], title: str = ""):
    """One row per model file, fastest on top; left, median ``detect()`` latency split into
    stages; right (when measured), mAP on an axis from 0, so that small differences look
    small. Every number is written beside its bar; failed rows say FAILED."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = sorted((r for r in rows if r.ok), key=lambda r: r.latency["total_ms"].median)
    shown = ok + [r for r in rows if not r.ok]
    with_map = any(r.map is not None for r in ok)
    names = [f"{Path(r.path).name}  ({r.format or '?'} {r.precision or '?'})" for r in shown]
    y = list(range(len(shown)))
    fig, axes = plt.subplots(1, 2 if with_map else 1, sharey=True, squeeze=False,
                             figsize=(10 if with_map else 7.5, 1.6 + 0.42 * max(1, len(shown))),
                             dpi=120, gridspec_kw={"width_ratios": [3, 2] if with_map else [1]})
    lat_ax = axes[0][0]
    longest = max([r.latency["total_ms"].median for r in ok] or [1.0])
    left = [0.0] * len(ok)
    for key, label, colour in _STAGE_COLOURS:
        widths = [r.latency[key].median for r in ok]
        lat_ax.barh(y[:len(ok)], widths, left=left, color=colour, label=label, height=0.6)
        left = [a + b for a, b in zip(left, widths)]
    for i, r in enumerate(shown):
        text = f"{r.latency['total_ms'].median:.1f} ms" if r.ok else "FAILED"
        lat_ax.text((r.latency["total_ms"].median if r.ok else 0) + longest * 0.01, i, text,
                    va="center", fontsize=8, color="black" if r.ok else "red")
    lat_ax.set_xlim(0, longest * 1.18)
    lat_ax.set_yticks(y, names, fontsize=8)
    lat_ax.invert_yaxis()
    lat_ax.set_xlabel("detect() median latency, ms (single thread)")
    lat_ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, frameon=False)
    lat_ax.grid(axis="x", alpha=0.3)
    if with_map:
        map_ax = axes[0][1]
        strict = [r.map or 0.0 for r in ok]
        loose = [r.map50 or 0.0 for r in ok]
        map_ax.barh(y[:len(ok)], loose, color="#c7e9c0", height=0.6, label="mAP@.5")
        map_ax.barh(y[:len(ok)], strict, color="#31a354", height=0.6, label="mAP@[.5:.95]")
        top = max(loose + strict + [0.01])
        for i, r in enumerate(ok):
            if r.map is not None:
                map_ax.text(max(r.map50 or 0.0, r.map) + top * 0.02, i,
                            f"{r.map:.3f}" + (f" / {r.map50:.3f}" if r.map50 is not None else ""),
                            va="center", fontsize=8)
        map_ax.set_xlim(0, min(1.0, top * 1.45) if top < 0.69 else 1.0)
        map_ax.set_xlabel("mAP (axis from 0)")
        map_ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False,
                      reverse=True)
        map_ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "edgedet benchmark", fontsize=11)
    fig.tight_layout()
    return fig
