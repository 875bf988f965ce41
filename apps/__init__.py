"""Demo applications built on ``edgedet.Detector``."""
