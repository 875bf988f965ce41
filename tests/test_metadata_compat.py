"""Records written by edgedet before the typed metadata (commit 231291e) still load, and are
written back byte for byte: the fixture holds one of each kind of file that code wrote."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgedet.metadata import ModelMetadata

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing

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
    assert nms.format_version == 2 and nms.postprocess.max_detections == 10
    imported = ModelMetadata.from_dict(RECORDS["d1_imported_tf_same"])
    assert imported.variant.padding == "tf_same"
    assert imported.anchors.aspect_multipliers == ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))


def test_new_code_writes_the_same_records_as_the_old():
    from edgedet.metadata import make_metadata
    from edgedet.variant import ModelVariant

    names = ["circle", "square", "triangle"]
    assert make_metadata("d0", names, 256, dataset="synthetic").to_dict() == RECORDS["d0_checkpoint"]
    assert make_metadata("lite0", names).to_dict() == RECORDS["lite0"]
    imported = make_metadata("d1", [f"c{i}" for i in range(5)], dataset="coco",
                             variant=ModelVariant("tf_same", 1e-5),
                             aspect_multipliers=((1.0, 1.0), (1.4, 0.7), (0.7, 1.4)))
    assert imported.to_dict() == RECORDS["d1_imported_tf_same"]


def test_nms_file_record_is_written_as_before():
    from dataclasses import replace

    from edgedet.converters.tflite_nms import NmsOptions, nms_file_metadata

    plain = ModelMetadata.from_dict(RECORDS["d0_tflite_int8"])
    assert nms_file_metadata(plain, NmsOptions(0.2, 0.5, 10)).to_dict() == RECORDS["d0_tflite_int8_nms"]
    fp32 = replace(ModelMetadata.from_dict(RECORDS["d0_checkpoint"]), layout="NHWC")
    assert nms_file_metadata(fp32, NmsOptions()).to_dict() == RECORDS["d0_tflite_fp32_nms"]
