"""An OpenCV window for the demo, and the check for whether one can exist here."""
from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

import cv2
import numpy as np

_QUIT_KEYS = (ord("q"), ord("Q"), 27)  # 27: Esc


def no_display_reason() -> Optional[str]:
    """Why no window can be shown (``None`` if a display seems available)."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


class Window:
    """A window showing annotated frames; :meth:`show` returns False once the user quits
    (``q`` or Esc, or closing the window)."""

    def __init__(self, title: str):
        self.title = title
        self._was_visible = False
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)

    def show(self, image: np.ndarray) -> bool:
        cv2.imshow(self.title, image)
        key = cv2.waitKey(1) & 0xFF
        if key in _QUIT_KEYS:
            return False
        # Some GUI backends do not report visibility (they return -1 or 0 throughout), so only
        # a window that was once reported visible and no longer is counts as closed.
        visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        if visible:
            self._was_visible = True
        return visible or not self._was_visible

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
        except cv2.error:
            pass  # already gone (closed by the user)


def open_window(title: str) -> Tuple[Optional[Window], Optional[str]]:
    """A :class:`Window`, or ``(None, reason)`` when this machine or OpenCV build has no GUI."""
    reason = no_display_reason()
    if reason:
        return None, reason
    try:
        return Window(title), None
    except cv2.error:
        return None, ("this OpenCV has no GUI support (opencv-python-headless); "
                      "pip install opencv-python for a window")
