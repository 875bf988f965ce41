"""Records written by edgedet before the typed metadata (commit 231291e) still load, and are
written back byte for byte: the fixture holds one of each kind of file that code wrote."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgedet.metadata import ModelMetadata

RECORDS = json.loads((Path(__file__).parent / "data" / "metadata_231291e.json").read_text())


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_old_record_loads_and_is_written_back_unchanged(name):
    record = RECORDS[name]
    meta = ModelMetadata.from_dict(record, source=name)
    assert meta.to_dict() == record
    assert meta.to_json() == json.dumps(record, sort_keys=True)
    assert ModelMetadata.from_json(meta.to_json()) == meta


def test_old_records_keep_their_meaning():
    int8 = ModelMetadata.from_dict(RECORDS["d0_tflite_int8"])
    assert (int8.layout, int8.precision, int8.format_version) == ("NHWC", "int8", 1)
    nms = ModelMetadata.from_dict(RECORDS["d0_tflite_int8_nms"])
    assert nms.format_version == 2 and nms.postprocess["max_detections"] == 10
    imported = ModelMetadata.from_dict(RECORDS["d1_imported_tf_same"])
    assert imported.model_variant.padding == "tf_same"
    assert imported.anchor_spec.aspect_multipliers == ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))
