"""A D0 that finds objects, made in about 20 s: heads fitted on frozen random-trunk features.

Training the whole D0 at 256 px took minutes per step here (a shared 2-core CPU). Instead
the random-weight network takes its BatchNorm statistics from a few images (with the
initial ones, mean 0 and variance 1, its features collapse), its backbone and BiFPN run once
without gradients, and only the class and box heads are fitted to those images with the
training loss. The result finds the labelled objects of its own images (scores spread
between the prior and 1), which is what comparisons of runtimes need; it has learnt nothing
that carries to new images, and its int8 conversion is fragile (output SQNR 4-16 dB).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SIZE = 256
NUM_CLASSES = 3  # synth's first three shapes; its crosses stay in the images as background


def synthetic_images(count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``count`` (BGR image, boxes, class ids) of SIZE x SIZE synthetic shapes; only
    shapes of the first NUM_CLASSES classes are labelled."""
    from edgedet.data.synth import make_image

    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        image, boxes, classes = make_image(rng, SIZE, SIZE, max_objects=4)
        keep = classes < NUM_CLASSES
        samples.append((image, boxes[keep], classes[keep]))
    return samples


def class_names() -> list[str]:
    from edgedet.data.synth import CLASS_NAMES

    return list(CLASS_NAMES[:NUM_CLASSES])


def finetuned_checkpoint(path: Path, images: int = 6, steps: int = 60, lr: float = 1e-2,
                         seed: int = 0) -> Path:
    """Write a D0 (256 px, 3 classes) checkpoint at ``path`` whose heads fit ``images``
    synthetic images (from :func:`synthetic_images` with ``seed``); returns ``path``."""
    return fit_heads(path, synthetic_images(images, seed), class_names(), "synthetic shapes",
                     steps=steps, lr=lr, seed=seed)


def fit_heads(path: Path, samples: list, names: list[str], dataset: str, steps: int = 60,
              lr: float = 1e-2, seed: int = 0, model_name: str = "d0") -> Path:
    """Write a checkpoint at ``path`` whose BatchNorm statistics come from ``samples`` and
    whose class and box heads are fitted to them: (BGR image, boxes, class ids) at the
    model's square input size (SIZE for D0 here), boxes (x1, y1, x2, y2) in its pixels."""
    import torch

    from edgedet.anchors import generate_anchors
    from edgedet.checkpoint import save_checkpoint
    from edgedet.metadata import make_metadata
    from edgedet.model.efficientdet import build_model
    from edgedet.train.loss import detection_loss
    from edgedet.train.reference_matcher import assign_targets

    torch.manual_seed(seed)
    size = samples[0][0].shape[0]
    metadata = make_metadata(model_name, names, input_size=size, dataset=dataset)
    model = build_model(model_name, len(names)).eval()
    anchors = generate_anchors(metadata.anchors)
    rgb = np.stack([im[..., ::-1] for im, _, _ in samples]).transpose(0, 3, 1, 2)
    pixels = torch.from_numpy(np.ascontiguousarray(rgb)).float()
    targets = [assign_targets(anchors, boxes, classes) for _, boxes, classes in samples]
    labels = torch.from_numpy(np.stack([t[0] for t in targets]))
    box_targets = torch.from_numpy(np.stack([t[1] for t in targets]))
    # The backbone and BiFPN run once; only the heads learn. One thread: under load, torch's
    # multi-threaded small kernels were measured here 20x slower than a single thread.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            # BatchNorm statistics of these images first: with the initial ones (mean 0,
            # variance 1) the random trunk's features collapse and the heads learn nothing.
            for module in model.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                    module.momentum = None  # cumulative average
            model.train()(pixels)
            model.eval()
            features = model.fpn(model.backbone((pixels - model.pixel_mean) * model.pixel_inv_std))
        params = list(model.class_net.parameters()) + list(model.box_net.parameters())
        optimizer = torch.optim.Adam(params, lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            loss, _, _ = detection_loss(model.class_net(features), model.box_net(features),
                                        labels, box_targets)
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    save_checkpoint(path, model, metadata)
    return path
