"""Datasets: COCO / Pascal VOC / YOLO readers into one sample type, and a synthetic generator."""
from edgedet.data.cleaning import DatasetWarning
from edgedet.data.formats import NAMES as FORMATS
from edgedet.data.reading import detect_format, load_dataset
from edgedet.data.types import SPLITS, Dataset, Sample

__all__ = ["Dataset", "DatasetWarning", "FORMATS", "SPLITS", "Sample", "detect_format", "load_dataset"]
