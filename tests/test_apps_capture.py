"""Latest-frame-only capture: drops under a slow consumer, ends cleanly on disconnect."""
from __future__ import annotations

import numpy as np
import pytest
from demo_media import FakeCamera, wait_until

from edgedet.apps.capture import LatestFrameGrabber

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def test_slow_consumer_gets_newest_frame_and_drops_the_rest():
    camera = FakeCamera()
    grabber = LatestFrameGrabber(camera.read)
    try:
        taken = [grabber.get(timeout_s=20)]
        for _ in range(5):
            # A deliberately slow consumer: it "works" until 6 more frames were captured.
            target = taken[-1].sequence + 6
            wait_until(lambda: grabber.captured >= target)
            newest_at_wake = grabber.captured - 1
            frame = grabber.get(timeout_s=20)
            assert frame.sequence >= newest_at_wake  # the newest frame, not a queued old one
            taken.append(frame)
    finally:
        grabber.stop()
    steps = np.diff([f.sequence for f in taken])
    assert (steps >= 5).all(), steps
    # Every captured frame up to the last one taken was either handed out or counted dropped.
    assert grabber.dropped + len(taken) == taken[-1].sequence + 1
    assert grabber.dropped >= 5 * 4


def test_every_frame_until_the_end_is_handed_out_or_counted_dropped():
    camera = FakeCamera(fail_after=30)
    grabber = LatestFrameGrabber(camera.read, max_failures=3, retry_delay_s=0.001)
    sequences = []
    while (frame := grabber.get(timeout_s=20)) is not None:
        sequences.append(frame.sequence)
    grabber.stop()
    assert sequences == sorted(set(sequences))
    assert grabber.dropped + len(sequences) == sequences[-1] + 1


def test_disconnect_ends_the_stream_with_a_reason():
    camera = FakeCamera(fail_after=5)
    grabber = LatestFrameGrabber(camera.read, max_failures=3, retry_delay_s=0.001)
    wait_until(lambda: grabber.ended)
    last = grabber.get(timeout_s=1)
    assert last is not None and last.sequence == 4  # the newest frame is still delivered
    assert grabber.get(timeout_s=1) is None
    assert "disconnected" in grabber.end_reason
    grabber.stop()


def test_driver_exception_ends_the_stream_and_is_reported():
    def broken_read():
        raise OSError("device gone")

    grabber = LatestFrameGrabber(broken_read)
    assert grabber.get(timeout_s=20) is None
    assert "OSError" in grabber.end_reason and "device gone" in grabber.end_reason
    grabber.stop()
