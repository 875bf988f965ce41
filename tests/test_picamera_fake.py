"""``--source picamera`` through apps/picamera.py against a FAKE picamera2 module.

tests/fakes/picamera2 is a stand-in written for these tests (the real Picamera2 needs
libcamera and a camera); it implements only the calls edgedet makes and logs each one.
The same fake drives the demo inside the emulated arm64 system (benchmarks/pi_emulated.py).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from edgedet.apps.sources import open_source
from edgedet.errors import MissingDependencyError

FAKES = Path(__file__).parent / "fakes"
pytestmark = pytest.mark.fast


@pytest.fixture
def fake_picamera2(monkeypatch, tmp_path):
    """Import the FAKE picamera2 (never the real one); yields its call log's path."""
    monkeypatch.syspath_prepend(str(FAKES))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_PICAMERA2_LOG", str(log))
    monkeypatch.delenv("FAKE_PICAMERA2_VIDEO", raising=False)
    import picamera2

    assert picamera2.FAKE
    yield log
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_picamera_source_makes_exactly_the_documented_calls(fake_picamera2):
    source = open_source("picamera", size=(320, 240))
    frames = [source.read() for _ in range(3)]
    source.close()
    assert source.live and source.frame_size == (320, 240)
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    log = calls(fake_picamera2)
    assert [c["call"] for c in log] == ["Picamera2", "create_preview_configuration", "configure",
                                        "start", "stop", "close"]
    assert log[1]["main"] == {"size": [320, 240], "format": "RGB888"}
    assert log[4]["frames"] >= 3


def test_picamera_default_size_is_640x480(fake_picamera2):
    source = open_source("picamera")
    assert source.frame_size == (640, 480)
    source.close()


def test_picamera2_built_against_another_numpy_says_to_pin(monkeypatch):
    """What a numpy-1.x-built system simplejpeg raises under numpy 2 (seen in the emulated
    Bookworm: "numpy.dtype size changed, may indicate binary incompatibility")."""
    class Raising:
        def __getattr__(self, name):
            raise ValueError("numpy.dtype size changed, may indicate binary incompatibility")

    monkeypatch.setitem(sys.modules, "picamera2", Raising())
    with pytest.raises(MissingDependencyError, match="numpy.dtype size changed.*numpy<2"):
        open_source("picamera")
