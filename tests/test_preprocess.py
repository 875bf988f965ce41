"""Preprocessing: every input encoding equals the plain affine quantization of the pixels."""
import numpy as np
import pytest

from edgedet.metadata import TensorQuantization
from edgedet.runtimes.preprocess import Preprocessor

pytestmark = pytest.mark.fast  # no conversion, no training: see README, Testing


@pytest.fixture
def frame():
    return np.random.default_rng(0).integers(0, 256, (90, 200, 3), dtype=np.uint8)


def reference(frame, layout, scale=1.0, zero=0, dtype=np.float32):
    pre = Preprocessor(64, layout)
    x = pre(frame)[0].astype(np.float64)
    if np.dtype(dtype).kind == "f":
        return x
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("dtype, scale, zero", [
    (np.int8, 1.0, -128),  # the XOR fast path
    (np.uint8, 1.0, 0),  # plain copy
    (np.int8, 2.0, 3),  # general affine path
    (np.uint8, 0.5, 10),
])
def test_quantized_inputs_match_affine_reference(frame, layout, dtype, scale, zero):
    q = TensorQuantization(scale, zero, np.dtype(dtype).name)
    got = Preprocessor(64, layout, input_dtype=dtype, quantization=q)(frame)[0]
    assert got.dtype == dtype
    assert np.array_equal(got, reference(frame, layout, scale, zero, dtype))


def test_layouts_hold_the_same_pixels(frame):
    nchw = Preprocessor(64, "NCHW")(frame)[0]
    nhwc = Preprocessor(64, "NHWC")(frame)[0]
    assert np.array_equal(nchw[0].transpose(1, 2, 0), nhwc[0])


def test_buffer_is_reused(frame):
    pre = Preprocessor(64)
    assert pre(frame)[0] is pre(frame[:50])[0]
