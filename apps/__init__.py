"""Demo applications built on ``edgedet.Detector``.

The camera/video demo (``edgedet demo``) is a chain of small parts, each usable alone:
``sources`` (video file, image folder, camera, ``picamera``) with ``capture`` (the
latest-frame thread) -> ``Detector`` -> ``overlay`` -> ``sinks`` (annotated video, JSONL)
and ``display`` (a window); ``demo.run_demo`` is the loop and ``stats`` the latency summary.
"""
