"""Raspberry Pi camera modules through Picamera2, imported only when ``--source picamera``."""
from __future__ import annotations

from typing import Optional

from edgedet.apps.sources import LiveSource, Size
from edgedet.errors import InvalidInputError, MissingDependencyError

DEFAULT_SIZE: Size = (640, 480)

_INSTALL_HINT = (
    "Picamera2 is a Raspberry Pi OS system package, not a pip one: `sudo apt install "
    "python3-picamera2`, then create the venv with `python3 -m venv --system-site-packages`"
)


def import_picamera2():
    """The ``Picamera2`` class; a MissingDependencyError that says how to install it."""
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise MissingDependencyError(f"--source picamera needs Picamera2 ({exc}). {_INSTALL_HINT}") from exc
    except ValueError as exc:
        # The system picamera2/simplejpeg are built against Raspberry Pi OS's numpy 1.x; a
        # numpy 2 installed into the venv breaks their import with "numpy.dtype size changed".
        raise MissingDependencyError(
            f"Picamera2 failed to import ({exc}). The venv's numpy is newer than the one "
            "Raspberry Pi OS built Picamera2 against: pip install 'numpy<2' "
            "'opencv-python-headless<4.12'"
        ) from exc
    return Picamera2


def open_picamera(size: Optional[Size] = None) -> LiveSource:
    """Start the first Raspberry Pi camera at ``size`` (default 640x480) as a live source."""
    picamera2_class = import_picamera2()
    width, height = size or DEFAULT_SIZE
    try:
        camera = picamera2_class()
        # Picamera2's "RGB888" puts pixels in memory as B, G, R: OpenCV's order, no conversion.
        camera.configure(camera.create_preview_configuration(
            main={"size": (width, height), "format": "RGB888"}))
        camera.start()
    except Exception as exc:  # libcamera reports a missing camera as IndexError/RuntimeError
        raise InvalidInputError(
            f"cannot open the Raspberry Pi camera ({type(exc).__name__}: {exc}). Check the "
            "ribbon cable and that `rpicam-hello --list-cameras` lists the camera."
        ) from exc

    def read():
        return True, camera.capture_array("main")

    def release() -> None:
        camera.stop()
        camera.close()

    return LiveSource(read, release, "picamera")
