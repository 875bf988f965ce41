"""Runtime: ``Detector`` over any model file, with pre/post-processing in numpy.

Never imports torch at import time; the PyTorch backend imports it only when a checkpoint
is opened.
"""
from edgedet.runtimes.detections import Detection, Detections
from edgedet.runtimes.detector import Detector

__all__ = ["Detector", "Detections", "Detection"]
