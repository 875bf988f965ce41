"""Object-detector metadata for MediaPipe Tasks ``ObjectDetector`` and the TFLite Task Library.

Those runtimes read a ``ModelMetadata`` flatbuffer (file identifier ``M001``, schema
``metadata_schema.fbs`` from tflite-support / MediaPipe) stored in the model's metadata
entry ``TFLITE_METADATA``, plus associated files (here the label list) in a zip archive
appended to the model file. No Python package that writes this schema installs cleanly here
(MediaPipe's writers need numpy<2 or fail to import; tflite-support has no wheels for every
platform), so the few tables an object detector needs are written with ``flatbuffers``'
builder; field slots follow the schema's declaration order (noted per table below).

What MediaPipe's ObjectDetector checks (``object_detector_graph.cc``): four outputs whose
tensor metadata are named "location", "category", "score", "number of detections"; the
location tensor carries BoundingBoxProperties (BOUNDARIES, RATIO, ``index`` giving where
left/top/right/bottom sit); labels are a TENSOR_VALUE_LABELS file on the category tensor; a
float input needs NormalizationOptions (our float graph takes 0-255 pixels, so mean 0 and
std 1), a uint8 input needs none.
"""
from __future__ import annotations

import io
import zipfile
from typing import Optional, Sequence

import flatbuffers

from edgedet.input_size import InputSize

METADATA_NAME = "TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
LABELS_FILE = "labels.txt"
MIN_PARSER_VERSION = "1.0.0"  # no field added after 1.0.0 is used
OUTPUT_TENSOR_NAMES = ("location", "category", "score", "number of detections")

# Enum and union values of metadata_schema.fbs.
_COLOR_RGB = 1
_BOX_BOUNDARIES, _COORD_RATIO = 1, 0
_LABELS_TENSOR_VALUE = 3
_CONTENT_FEATURE, _CONTENT_IMAGE, _CONTENT_BOX = 1, 2, 3
_UNIT_NORMALIZATION = 1
# The op writes (ymin, xmin, ymax, xmax): positions of left, top, right, bottom.
_BOX_INDEX = (1, 0, 3, 2)


class _Writer:
    """Thin helpers over ``flatbuffers.Builder``: children are built before their parent."""

    def __init__(self):
        self.b = flatbuffers.Builder(1024)

    def string(self, text: str) -> int:
        return self.b.CreateString(text)

    def vector(self, kind: str, items: Sequence) -> int:
        b = self.b
        b.StartVector(4, len(items), 4)
        prepend = {"offset": b.PrependUOffsetTRelative, "float": b.PrependFloat32,
                   "uint": b.PrependUint32}[kind]
        for item in reversed(items):
            prepend(item)
        return b.EndVector()

    def table(self, fields: dict[int, tuple[str, object]]) -> int:
        """A table from ``{slot: (kind, value)}``; kinds: offset, byte, ubyte, int."""
        b = self.b
        b.StartObject(max(fields) + 1 if fields else 0)
        for slot, (kind, value) in fields.items():
            if kind == "offset":
                b.PrependUOffsetTRelativeSlot(slot, value, 0)
            elif kind == "byte":
                b.PrependInt8Slot(slot, value, 0)
            elif kind == "ubyte":
                b.PrependUint8Slot(slot, value, 0)
            else:
                b.PrependInt32Slot(slot, value, 0)
        return b.EndObject()

    def finish(self, root: int) -> bytes:
        self.b.Finish(root, file_identifier=FILE_IDENTIFIER)
        return bytes(self.b.Output())


def _content(w: _Writer, kind: int, properties: int, with_range: bool) -> int:
    # Content: content_properties_type (0), content_properties (1), range (2).
    # ValueRange: min (0), max (1). Range (2, 2) is what Google's detector metadata writers
    # state for the location, category and score tensors.
    fields = {0: ("ubyte", kind), 1: ("offset", properties)}
    if with_range:
        fields[2] = ("offset", w.table({0: ("int", 2), 1: ("int", 2)}))
    return w.table(fields)


def _tensor(w: _Writer, name: str, description: str, content: Optional[int] = None,
            process_units: Optional[int] = None, stats: Optional[int] = None,
            files: Optional[int] = None) -> int:
    # TensorMetadata: name (0), description (1), dimension_names (2), content (3),
    # process_units (4), stats (5), associated_files (6).
    fields = {0: ("offset", w.string(name)), 1: ("offset", w.string(description))}
    for slot, value in ((3, content), (4, process_units), (5, stats), (6, files)):
        if value is not None:
            fields[slot] = ("offset", value)
    return w.table(fields)


def object_detector_metadata(model_name: str, description: str, version: str,
                             input_size: InputSize, float_input: bool) -> bytes:
    """The ``M001`` metadata flatbuffer of an object detector with our four outputs."""
    w = _Writer()
    # ImageProperties: color_space (0), default_size (1); ImageSize: width (0), height (1).
    size = w.table({0: ("int", input_size.width), 1: ("int", input_size.height)})
    image = _content(w, _CONTENT_IMAGE, w.table({0: ("byte", _COLOR_RGB), 1: ("offset", size)}),
                     with_range=False)
    units = stats = None
    if float_input:
        # NormalizationOptions: mean (0), std (1). The graph normalizes itself: feed 0-255.
        norm = w.table({0: ("offset", w.vector("float", [0.0, 0.0, 0.0])),
                        1: ("offset", w.vector("float", [1.0, 1.0, 1.0]))})
        # ProcessUnit: options_type (0), options (1).
        units = w.vector("offset", [w.table({0: ("ubyte", _UNIT_NORMALIZATION), 1: ("offset", norm)})])
    # Stats: max (0), min (1).
    stats = w.table({0: ("offset", w.vector("float", [255.0])),
                     1: ("offset", w.vector("float", [0.0]))})
    shape = "a square" if input_size.is_square else f"{input_size.width}:{input_size.height}"
    image_tensor = _tensor(w, "image", f"RGB image, {input_size.width}x{input_size.height}, "
                           f"0-255 pixels (no letterbox inside: pad frames to {shape} first to "
                           "keep their aspect ratio)",
                           content=image, process_units=units, stats=stats)

    # BoundingBoxProperties: index (0), type (1), coordinate_type (2).
    box = w.table({0: ("offset", w.vector("uint", list(_BOX_INDEX))),
                   1: ("byte", _BOX_BOUNDARIES), 2: ("byte", _COORD_RATIO)})
    location = _tensor(w, OUTPUT_TENSOR_NAMES[0], "boxes (ymin, xmin, ymax, xmax) as fractions "
                       "of the input", content=_content(w, _CONTENT_BOX, box, with_range=True))
    # AssociatedFile: name (0), description (1), type (2).
    labels = w.table({0: ("offset", w.string(LABELS_FILE)),
                      1: ("offset", w.string("class names, one per line, by class index")),
                      2: ("byte", _LABELS_TENSOR_VALUE)})
    category = _tensor(w, OUTPUT_TENSOR_NAMES[1], "class index of each detection",
                       content=_content(w, _CONTENT_FEATURE, w.table({}), with_range=True),
                       files=w.vector("offset", [labels]))
    score = _tensor(w, OUTPUT_TENSOR_NAMES[2], "score (probability) of each detection",
                    content=_content(w, _CONTENT_FEATURE, w.table({}), with_range=True))
    count = _tensor(w, OUTPUT_TENSOR_NAMES[3], "number of valid detections",
                    content=_content(w, _CONTENT_FEATURE, w.table({}), with_range=False))

    # SubGraphMetadata: name (0), description (1), input_tensor_metadata (2),
    # output_tensor_metadata (3).
    subgraph = w.table({
        0: ("offset", w.string("ObjectDetector")),
        2: ("offset", w.vector("offset", [image_tensor])),
        3: ("offset", w.vector("offset", [location, category, score, count])),
    })
    # ModelMetadata: name (0), description (1), version (2), subgraph_metadata (3),
    # author (4), license (5), associated_files (6), min_parser_version (7).
    root = w.table({
        0: ("offset", w.string(model_name)), 1: ("offset", w.string(description)),
        2: ("offset", w.string(version)), 3: ("offset", w.vector("offset", [subgraph])),
        4: ("offset", w.string("edgedet")),
        7: ("offset", w.string(MIN_PARSER_VERSION)),
    })
    return w.finish(root)


def append_associated_files(model_content: bytes, files: dict[str, bytes]) -> bytes:
    """``model_content`` followed by a zip archive (stored, not deflated) of ``files``.

    Interpreters read the flatbuffer from the start and ignore the trailer; metadata readers
    open the trailer as a zip (the way tflite-support's MetadataPopulator packs files).
    """
    stream = io.BytesIO(model_content)
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    return stream.getvalue()


def labels_file(class_names: Sequence[str]) -> bytes:
    """The TENSOR_VALUE_LABELS file: one class name per line, in class index order."""
    bad = [n for n in class_names if "\n" in n or "\r" in n]
    if bad:
        from edgedet.errors import InvalidInputError

        raise InvalidInputError(f"class names must not contain line breaks, got {bad!r}")
    return ("\n".join(class_names) + "\n").encode("utf-8")
