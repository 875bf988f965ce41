"""Zero Pads in front of convolutions move into the Conv's own pads (TF-SAME exports)."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch import nn

from edgedet.converters.onnx_pads import fold_pads_into_convs
from edgedet.model.apply_variant import SameConv2d, SameMaxPool2d

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = SameConv2d(3, 8, 3, 2)
        self.b = SameConv2d(8, 8, 5, 2, groups=8)
        self.pool = SameMaxPool2d(3, 2)

    def forward(self, x):
        return self.pool(self.b(torch.relu(self.a(x))))


def test_pads_fold_into_convs_with_equal_outputs():
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.onnx.export(_Net().eval(), (torch.zeros(1, 3, 32, 32),), buffer, dynamo=False, opset_version=17,
                      input_names=["x"])
    model = onnx.load_from_string(buffer.getvalue())
    before = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert fold_pads_into_convs(model) == 2
    onnx.checker.check_model(model)
    assert not [n for n in model.graph.node if n.op_type in ("Pad", "ConstantOfShape")]
    pads = [list(a.ints) for n in model.graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "pads"]
    assert pads == [[0, 0, 1, 1], [1, 1, 2, 2]]  # TF SAME on even sizes: the extra pixel after
    after = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(before.run(None, {"x": x})[0], after.run(None, {"x": x})[0])
