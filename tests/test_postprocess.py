"""NMS and the score filter: vectorized code equals a brute-force reference."""
import numpy as np
import pytest

from edgedet.anchors import AnchorSpec, decode_boxes, generate_anchors
from edgedet.runtimes.nms import batched_nms, nms
from edgedet.metadata import TensorQuantization
from edgedet.runtimes.options import DetectorOptions
from edgedet.runtimes.postprocess import Postprocessor, score_to_logit

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


def _iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def brute_force_nms(boxes, scores, classes, thr):
    """Textbook per-class greedy NMS with Python loops."""
    kept = []
    for c in sorted(set(classes.tolist())):
        idx = [i for i in range(len(boxes)) if classes[i] == c]
        idx.sort(key=lambda i: -scores[i])
        alive = list(idx)
        while alive:
            best = alive.pop(0)
            kept.append(best)
            alive = [i for i in alive if _iou(boxes[best], boxes[i]) <= thr]
    return sorted(kept, key=lambda i: -scores[i])


def random_boxes(rng, n):
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(5, 40, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


@pytest.mark.parametrize("seed", range(5))
def test_batched_nms_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 300)
    scores = rng.permutation(300).astype(np.float32) / 300  # distinct: order is unambiguous
    classes = rng.integers(0, 4, 300)
    for thr in (0.3, 0.5, 0.7):
        got = batched_nms(boxes, scores, classes, thr).tolist()
        assert got == brute_force_nms(boxes, scores, classes, thr)


def test_nms_across_blocks_with_negative_coordinates_ties_and_zero_scores():
    # Hundreds kept (several of the NMS's blocks), boxes partly outside the image, tied and
    # zero scores: ties go to the lower index, zero scores are still boxes.
    rng = np.random.default_rng(11)
    xy = rng.uniform(-60, 600, (700, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 40, (700, 2))], 1).astype(np.float32)
    scores = np.round(rng.uniform(0, 1, 700), 1).astype(np.float32)
    classes = rng.integers(0, 3, 700)
    order = np.lexsort((np.arange(700), -scores))
    rank = np.empty(700)
    rank[order] = np.arange(700, 0, -1)  # distinct scores with the same order as (score, -index)
    got = batched_nms(boxes, scores, classes, 0.5)
    assert got.size > 300
    assert got.tolist() == brute_force_nms(boxes, rank, classes, 0.5)


def test_nms_max_keep_returns_the_top_of_the_full_result():
    rng = np.random.default_rng(7)
    boxes = random_boxes(rng, 200)
    scores = rng.permutation(200).astype(np.float32)
    full = nms(boxes, scores, 0.5)
    assert nms(boxes, scores, 0.5, max_keep=10).tolist() == full[:10].tolist()


def test_empty_input():
    empty = np.zeros((0, 4), np.float32)
    assert batched_nms(empty, np.zeros(0), np.zeros(0, int), 0.5).size == 0


def reference_postprocess(cls_logits, box_regression, anchors, score_thr, iou_thr, max_results):
    """Sigmoid over everything, decode everything, then brute-force NMS."""
    scores = 1 / (1 + np.exp(-cls_logits.astype(np.float64)))
    anchor_idx, class_idx = np.nonzero(scores > score_thr)
    s = scores[anchor_idx, class_idx]
    boxes = decode_boxes(box_regression[anchor_idx], anchors[anchor_idx])
    keep = brute_force_nms(boxes, s, class_idx, iou_thr)[:max_results]
    return boxes[keep], s[keep], class_idx[keep]


def test_postprocessor_equals_full_sigmoid_reference():
    rng = np.random.default_rng(3)
    anchors = generate_anchors(AnchorSpec(128))
    n = len(anchors)
    cls_logits = rng.normal(-4, 1.5, (n, 3)).astype(np.float32)
    box_regression = rng.normal(0, 0.2, (n, 4)).astype(np.float32)
    post = Postprocessor(anchors, DetectorOptions(0.3, 0.5, 50, pre_nms_top_k=n * 3))
    got = post(cls_logits, box_regression)
    boxes, scores, classes = reference_postprocess(cls_logits, box_regression, anchors, 0.3, 0.5, 50)
    assert len(got.scores) == len(scores) > 0
    assert np.allclose(got.boxes, boxes, atol=1e-3)
    assert np.allclose(got.scores, scores, atol=1e-6)
    assert got.class_ids.tolist() == classes.tolist()


def test_top_k_caps_candidates_before_nms():
    anchors = generate_anchors(AnchorSpec(128))
    cls_logits = np.zeros((len(anchors), 2), np.float32)  # every pair scores 0.5
    box_regression = np.zeros((len(anchors), 4), np.float32)
    got = Postprocessor(anchors, DetectorOptions(0.3, 1.0, max_results=10_000, pre_nms_top_k=25))(cls_logits, box_regression)
    assert len(got.scores) == 25  # iou 1.0 suppresses nothing; only the cap limits


def test_category_allow_list():
    anchors = generate_anchors(AnchorSpec(128))
    cls_logits = np.full((len(anchors), 3), -10.0, np.float32)
    cls_logits[5, 0] = cls_logits[9, 2] = 3.0
    post = Postprocessor(anchors, DetectorOptions(0.3, 0.5, 10), class_ids=[2])
    got = post(cls_logits, np.zeros((len(anchors), 4), np.float32))
    assert got.class_ids.tolist() == [2]


def test_score_to_logit_edges():
    assert score_to_logit(0.5) == 0.0
    assert score_to_logit(0.0) == -np.inf
    assert score_to_logit(1.0) == np.inf


@pytest.mark.parametrize("score_threshold", [0.05, 0.3, 0.6])
def test_quantized_domain_filter_equals_float_filter(score_threshold):
    rng = np.random.default_rng(11)
    anchors = generate_anchors(AnchorSpec(128))
    cls_q = TensorQuantization(scale=0.05, zero_point=40)
    box_q = TensorQuantization(scale=0.01, zero_point=-3)
    q_cls = rng.integers(-128, 128, (len(anchors), 3)).astype(np.int8)
    q_box = rng.integers(-128, 128, (len(anchors), 4)).astype(np.int8)
    post = Postprocessor(anchors, DetectorOptions(score_threshold, pre_nms_top_k=300),
                         output_quantization=(cls_q, box_q))
    in_int8 = post(q_cls, q_box)
    in_float = post(cls_q.dequantize(q_cls), box_q.dequantize(q_box))
    assert len(in_int8.scores) > 0
    assert np.array_equal(in_int8.class_ids, in_float.class_ids)
    assert np.allclose(in_int8.boxes, in_float.boxes) and np.allclose(in_int8.scores, in_float.scores)


def test_quantized_threshold_is_exact_at_the_boundary():
    q = TensorQuantization(scale=0.5, zero_point=0)
    t = q.threshold(1.0, np.dtype(np.int8))  # real 1.0 is q = 2 exactly: must not pass
    assert t == 2.0
    assert q.threshold(1.2, np.dtype(np.int8)) == 2.0  # q = 3 (1.5) passes, q = 2 (1.0) not
    assert q.threshold(1000.0, np.dtype(np.int8)) == 127  # nothing can pass
    assert q.threshold(-1000.0, np.dtype(np.int8)) == -129  # everything passes


@pytest.mark.parametrize("mean", [-4.0, 0.0, 2.0])
def test_sampled_prefilter_only_skips_work(mean):
    """The sampled threshold path must select exactly what a plain sort would."""
    rng = np.random.default_rng(5)
    anchors = generate_anchors(AnchorSpec(256))
    cls_logits = np.round(rng.normal(mean, 1, (len(anchors), 20)), 1).astype(np.float32)  # ties
    box_regression = rng.normal(0, 0.2, (len(anchors), 4)).astype(np.float32)
    post = Postprocessor(anchors, DetectorOptions(0.3, 0.5, 1000, pre_nms_top_k=200))
    flat = cls_logits.reshape(-1)
    passing = np.flatnonzero(flat > post.logit_threshold)
    # reference: stable sort by value (desc), lower index first among equals
    expected = np.sort(passing[np.argsort(-flat[passing], kind="stable")[:200]])
    assert np.array_equal(post._candidates(flat, post.logit_threshold), expected)


def _two_labels_on_one_object(anchors):
    """Anchor 40 scores class 0 at 0.95 and class 1 at 0.6 (one object, two labels); anchor
    41 overlaps it (same box codes, neighbouring anchor) with class 1 at 0.55; a far anchor
    scores class 1 at 0.9."""
    cls_logits = np.full((len(anchors), 2), -10.0, np.float32)
    cls_logits[40] = (score_to_logit(0.95), score_to_logit(0.6))
    cls_logits[40 + 9, 1] = score_to_logit(0.55)  # 9 anchors per location: the next cell
    far = len(anchors) - 1
    cls_logits[far, 1] = score_to_logit(0.9)
    return cls_logits, np.zeros((len(anchors), 4), np.float32), far


@pytest.mark.parametrize("agnostic", [False, True])
def test_class_agnostic_nms_lets_one_class_suppress_another(agnostic):
    anchors = generate_anchors(AnchorSpec(128))
    cls_logits, codes, far = _two_labels_on_one_object(anchors)
    iou = _iou(anchors[40], anchors[49])
    assert iou > 0.5  # the neighbour overlaps enough to be suppressed within a class
    got = Postprocessor(anchors, DetectorOptions(class_agnostic_nms=agnostic))(cls_logits, codes)
    boxes, scores, classes = reference_postprocess(cls_logits, codes, anchors, 0.3, 0.5, 100)
    if agnostic:
        # one NMS over all classes: the 0.6 and 0.55 boxes of class 1 lose to the 0.95 box
        assert got.class_ids.tolist() == [0, 1]
        assert np.allclose(got.scores, [0.95, 0.9])
        assert np.allclose(got.boxes, anchors[[40, far]], atol=1e-3)
    else:
        # per class (the reference): class 1 keeps its 0.6 box on top of class 0's 0.95 box
        assert sorted(got.scores.tolist()) == pytest.approx(sorted(scores.tolist()))
        assert sorted(got.class_ids.tolist()) == [0, 1, 1]
