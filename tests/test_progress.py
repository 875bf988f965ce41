"""edgedet.progress: tqdm's bar when installed, plain lines otherwise; both take postfix fields."""
from __future__ import annotations

import builtins

import pytest

from edgedet import progress as progress_module
from edgedet.progress import progress, progress_bar

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def test_bar_iterates_and_takes_postfix_fields():
    bar = progress_bar(range(4), total=4, desc="epoch 1/1", unit="batch", leave=True)
    seen = []
    for i in bar:
        seen.append(i)
        bar.set_postfix(loss=f"{i / 2:.2f}")
    assert seen == [0, 1, 2, 3]
    assert list(progress(range(3), total=3, desc="x", unit="img", leave=True)) == [0, 1, 2]
    assert list(progress(iter(range(2)), enabled=False)) == [0, 1]


def test_without_tqdm_lines_carry_the_postfix(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    monkeypatch.setattr(progress_module, "user_stream", lambda: __import__("sys").stderr)
    bar = progress_bar(range(3), total=3, desc="epoch 2/5", unit="batch")
    for i in bar:
        bar.set_postfix(loss=i)
    assert capsys.readouterr().err.strip().splitlines()[-1] == "epoch 2/5 3/3  eta 0s  loss=2"
