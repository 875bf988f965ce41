"""The EfficientDet network (PyTorch). Importing this package imports torch."""
from edgedet.model.efficientdet import EfficientDet, build_model, count_parameters

__all__ = ["EfficientDet", "build_model", "count_parameters"]
