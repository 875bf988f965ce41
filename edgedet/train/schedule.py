"""Learning-rate schedule: linear warm-up, then cosine decay to zero, stepped per batch."""
from __future__ import annotations

import math

import torch

# The official recipe warms up from a tenth of the peak rate.
WARMUP_START_FACTOR = 0.1


class WarmupCosine:
    """Multiplier of the peak learning rate at a given optimizer step (a picklable callable)."""

    def __init__(self, warmup_steps: int, total_steps: int):
        self.warmup_steps = max(0, int(warmup_steps))
        self.total_steps = max(self.warmup_steps + 1, int(total_steps))

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return WARMUP_START_FACTOR + (1 - WARMUP_START_FACTOR) * step / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int,
                    total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step :class:`WarmupCosine` schedule on ``optimizer``."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(warmup_steps, total_steps))


def build_optimizer(model: torch.nn.Module, lr: float, momentum: float,
                    weight_decay: float) -> torch.optim.SGD:
    """SGD with weight decay on conv/linear weights only (not on norms or biases)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=lr, momentum=momentum)
