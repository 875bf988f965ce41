"""Datasets: COCO / Pascal VOC / YOLO readers into one sample type, and a synthetic generator."""
from edgedet.data.loader import detect_format, load_dataset
from edgedet.data.cleaning import DatasetWarning
from edgedet.data.types import FORMATS, SPLITS, Dataset, Sample

__all__ = ["Dataset", "DatasetWarning", "FORMATS", "SPLITS", "Sample", "detect_format", "load_dataset"]
