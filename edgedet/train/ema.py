"""Exponential moving average of model weights (what checkpoints serve for inference)."""
from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEma:
    """Keeps ``decay``-averaged copies of a model's parameters and buffers.

    As in TensorFlow's ``ExponentialMovingAverage(num_updates=step)`` used by the official
    recipe, the effective decay is ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates,
    so short runs are not dominated by the random initialization.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9998):
        if not 0.0 <= decay < 1.0:
            from edgedet.errors import InvalidInputError

            raise InvalidInputError(f"EMA decay must be in [0, 1), got {decay!r}")
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Blend ``model``'s current weights into the average (call after each step)."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for ema_value, value in zip(self.module.state_dict().values(), model.state_dict().values()):
            if ema_value.dtype.is_floating_point:
                ema_value.mul_(d).add_(value.detach(), alpha=1 - d)
            else:
                ema_value.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu() for k, v in self.module.state_dict().items()}

    def load_state_dict(self, weights: dict[str, torch.Tensor], updates: int) -> None:
        self.module.load_state_dict(weights)
        self.updates = int(updates)
