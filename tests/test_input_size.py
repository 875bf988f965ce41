"""Non-square (WxH) inputs: parsing, anchor grids against a brute-force reference, metadata
that records width and height (square files unchanged), letterbox and training crops of that
shape, in-graph box scaling per axis, and the demo's aspect note."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edgedet.anchors import AnchorSpec, generate_anchors
from edgedet.errors import InvalidInputError, ModelLoadError
from edgedet.input_size import InputSize, camera_size, check_input_size, input_size, padding_share
from edgedet.metadata import InGraphNms, ModelMetadata, make_metadata

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("given, expected", [
    (320, InputSize(320, 320)), ("320", InputSize(320, 320)), ("320x192", InputSize(320, 192)),
    (" 512 X 384 ", InputSize(512, 384)), ((320, 192), InputSize(320, 192)),
    ([512, 288], InputSize(512, 288)), (InputSize(256, 192), InputSize(256, 192)),
])
def test_sizes_parse_width_first(given, expected):
    assert check_input_size(given) == expected


@pytest.mark.parametrize("given, message", [
    ("320x", "N .*or WxH"), ("320*192", "N .*or WxH"), (True, "N or WxH"), ((320,), "N .*or WxH"),
    ("336x192", "input width: image size must be a multiple of 32"),
    ("320x96", "input height: .*at least 128"), (336, "multiple of 32 .* got 336"),
])
def test_bad_sizes_say_what_is_expected(given, message):
    with pytest.raises(InvalidInputError, match=message):
        check_input_size(given)


def test_str_and_json_keep_square_sizes_as_before():
    assert (str(InputSize(320, 320)), InputSize(320, 320).to_json()) == ("320", 320)
    assert (str(InputSize(320, 192)), InputSize(320, 192).to_json()) == ("320x192", [320, 192])
    assert InputSize(320, 192).tensor_shape("NHWC") == (1, 192, 320, 3)
    assert InputSize(320, 192).tensor_shape("NCHW") == (1, 3, 192, 320)


def brute_force_anchors(spec: AnchorSpec) -> np.ndarray:
    """google/automl's anchor rule written out one anchor at a time: per level, the grid of
    ceil(side / 2^level) cells spans each axis; centres at (i + 0.5) * stride; an anchor of
    octave o and aspect (a_w, a_h) is anchor_scale * stride * 2^(o / scales) * a wide
    (x stride) and high (y stride)."""
    width, height = spec.image_size.width, spec.image_size.height
    out = []
    for level in range(spec.min_level, spec.max_level + 1):
        rows, cols = -(-height // 2**level), -(-width // 2**level)
        sy, sx = height / rows, width / cols
        for r in range(rows):
            for c in range(cols):
                for octave in range(spec.num_scales):
                    for aw, ah in spec.aspect_shapes():
                        half_w = spec.anchor_scale * sx * 2 ** (octave / spec.num_scales) * aw / 2
                        half_h = spec.anchor_scale * sy * 2 ** (octave / spec.num_scales) * ah / 2
                        cx, cy = (c + 0.5) * sx, (r + 0.5) * sy
                        out.append((cx - half_w, cy - half_h, cx + half_w, cy + half_h))
    return np.asarray(out, dtype=np.float64)


@pytest.mark.parametrize("size", ["320x192", "192x320", "512x384", "256", "320"])
def test_anchor_grid_matches_brute_force_reference(size):
    spec = AnchorSpec(check_input_size(size), anchor_scale=3.0)
    anchors = generate_anchors(spec)
    assert anchors.shape == (spec.num_anchors, 4)
    np.testing.assert_allclose(anchors, brute_force_anchors(spec), rtol=1e-6, atol=1e-3)


def test_non_square_grid_has_rows_and_columns_of_its_own():
    spec = AnchorSpec("320x192")
    assert spec.feature_sizes() == [(24, 40), (12, 20), (6, 10), (3, 5), (2, 3)]
    assert spec.num_anchors == 9 * (24 * 40 + 12 * 20 + 6 * 10 + 3 * 5 + 2 * 3)


def test_metadata_records_width_and_height_and_square_files_stay_as_they_were():
    wide = make_metadata("lite0", ["a", "b"], "320x192")
    record = json.loads(wide.to_json())
    assert record["input_size"] == [320, 192] and record["anchors"]["image_size"] == [320, 192]
    assert record["format_version"] == 3  # older readers ask for an upgrade instead of failing
    again = ModelMetadata.from_json(wide.to_json())
    assert again.input_size == InputSize(320, 192) and again.anchors == wide.anchors
    square = json.loads(make_metadata("lite0", ["a", "b"], 320).to_json())
    assert square["input_size"] == 320 and square["anchors"]["image_size"] == 320
    assert square["format_version"] == 1


def test_with_input_size_moves_the_anchor_grid_with_it():
    meta = make_metadata("d0", ["a"], 256).with_input_size("320x192")
    assert meta.input_size == meta.anchors.image_size == InputSize(320, 192)
    assert meta.model == "d0" and meta.class_names == ["a"]


def test_a_record_whose_anchors_disagree_with_its_input_is_refused():
    record = json.loads(make_metadata("lite0", ["a"], "320x192").to_json())
    record["anchors"]["image_size"] = [320, 320]
    with pytest.raises(ModelLoadError, match="anchors are for 320 px but input_size is 320x192"):
        ModelMetadata.from_dict(record, source="m.tflite")
    record["input_size"] = "320x192"
    with pytest.raises(ModelLoadError, match=r"input_size must be a positive integer or \[width"):
        ModelMetadata.from_dict(record, source="m.tflite")


def test_letterbox_fills_a_wide_input_with_a_16_9_frame():
    from edgedet.runtimes.preprocess import Preprocessor

    frame = np.full((720, 1280, 3), 200, dtype=np.uint8)
    tensor, info = Preprocessor("320x192", "NHWC", input_dtype=np.uint8)(frame, rgb=True)
    assert tensor.shape == (1, 192, 320, 3)
    assert (info.scale_x, info.scale_y) == (0.25, 0.25)
    assert (tensor[0, :180] == 200).all() and (tensor[0, 180:] == 114).all()  # 12 rows of padding
    boxes = info.to_original(np.array([[0, 0, 320, 180]], np.float32))
    np.testing.assert_allclose(boxes, [[0, 0, 1280, 720]])


def test_training_crops_have_the_input_shape_and_keep_boxes_inside():
    from edgedet.data.augment import AugmentConfig, augment

    rng = np.random.default_rng(0)
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    boxes = np.array([[100, 100, 300, 260], [400, 50, 620, 470]], np.float32)
    for _ in range(30):
        out, kept, _ = augment(image, boxes, np.array([0, 1]), (384, 288), AugmentConfig(), rng)
        assert out.shape == (288, 384, 3)
        assert (kept[:, 0::2] <= 384).all() and (kept[:, 1::2] <= 288).all() and (kept >= 0).all()
    # At scale 1 a 4:3 image fills a 4:3 input exactly, as Detector's letterbox does.
    fixed = AugmentConfig(scale_min=1.0, scale_max=1.0, flip_probability=0.0)
    out, kept, _ = augment(image, boxes, np.array([0, 1]), (384, 288), fixed, rng)
    np.testing.assert_allclose(kept, boxes * 0.6, rtol=1e-6)


def test_square_training_crops_are_unchanged_by_the_wxh_rule():
    """The (width, height) window rule reduces to the square one (longest / scale), so square
    runs draw the same crops as before it existed."""
    from edgedet.data.augment import scale_and_crop

    image = np.arange(480 * 640 * 3, dtype=np.uint32).reshape(480, 640, 3).astype(np.uint8)
    boxes = np.array([[10, 20, 200, 300]], np.float32)
    for scale in (0.5, 1.3, 1.9):
        a = scale_and_crop(image, boxes, 256, scale, np.random.default_rng(1), 114)
        b = scale_and_crop(image, boxes, (256, 256), scale, np.random.default_rng(1), 114)
        assert all(np.array_equal(x, y) for x, y in zip(a[:2], b[:2])) and a[2] == b[2]


def test_in_graph_boxes_scale_by_width_and_height():
    from edgedet.runtimes.ingraph_postprocess import InGraphPostprocessor

    baked = InGraphNms(op="TFLite_Detection_PostProcess", score_threshold=0.1, iou_threshold=0.5,
                       max_detections=2)
    post = InGraphPostprocessor("320x192", baked)
    boxes = np.array([[0.25, 0.5, 0.75, 1.0], [0, 0, 0, 0]], np.float32)  # ymin, xmin, ymax, xmax
    got = post(boxes, np.array([1.0, 0.0]), np.array([0.9, 0.0]), np.array([1.0]))
    np.testing.assert_allclose(got.boxes, [[160, 48, 320, 144]])


def test_camera_sizes_and_their_padding():
    assert camera_size(1280, 720, 320) == InputSize(320, 192)
    assert camera_size(1280, 720, 512) == InputSize(512, 288)
    assert camera_size(640, 480, 512) == InputSize(512, 384)
    assert padding_share(1280, 720, InputSize(320, 320)) == pytest.approx(0.4375)
    assert padding_share(1280, 720, InputSize(512, 288)) == pytest.approx(0.0)


def test_demo_names_the_imgsz_that_fits_the_frames():
    from edgedet.commands.demo import aspect_note

    note = aspect_note((1280, 720), input_size(320))
    assert "320x320" in note and "44%" in note and "--imgsz 320x192" in note and "pads 6%" in note
    assert aspect_note((1280, 720), input_size("320x192")) is None
    assert aspect_note((520, 520), input_size(320)) is None
    assert aspect_note(None, input_size(320)) is None
    # 320x192's P7 grid is 1.5 cells high: the note also names the nearest 128-aligned shape.
    assert "multiples of 128" in note and "--imgsz 640x384 pads 6% and needs 240%" in note
    four_three = aspect_note((640, 480), input_size(512))
    assert "--imgsz 512x384" in four_three and "multiples of 128" not in four_three


def test_aligned_camera_sizes():
    from edgedet.input_size import aligned_camera_size

    assert aligned_camera_size(640, 480, 384) == InputSize(512, 384)
    assert aligned_camera_size(640, 480, 512) == InputSize(512, 384)
    assert aligned_camera_size(1280, 720, 320) == InputSize(640, 384)
    assert aligned_camera_size(1280, 720, 320, max_padding=0.01) is None  # none up to 640 wide


def test_cli_imgsz_takes_wxh_and_refuses_bad_sizes(capsys):
    from edgedet.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["convert", "--weights", "m.pt", "--target", "onnx", "--imgsz", "320x192"])
    assert args.imgsz == InputSize(320, 192)
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--data", "d", "--imgsz", "330x192"])
    assert "input width: image size must be a multiple of 32" in capsys.readouterr().err


def test_train_config_holds_the_size_and_writes_it_as_typed(tmp_path):
    from edgedet.train.config import TrainConfig

    cfg = TrainConfig(data=str(tmp_path), model="lite0", imgsz="384x288")
    assert cfg.imgsz == InputSize(384, 288)
    assert cfg.to_dict()["imgsz"] == "384x288"


@pytest.mark.fast
def test_a_square_size_equals_and_hashes_as_its_side():
    assert InputSize(512, 512) == 512 and hash(InputSize(512, 512)) == hash(512)
    assert InputSize(512, 384) != 512 and InputSize(512, 384) != (512, 384)
    assert len({InputSize(320, 320), 320, InputSize(320, 192)}) == 2
