"""Training throughput: the training loop's images/s against the model's bare step, in one run.

For each model/size it measures, on the same device and batch:
  * bare: forward + loss + backward + SGD step on a fixed batch already on the device
    (no data loading, no target assignment, no EMA): the ceiling the loop can reach;
  * loop: ``Trainer`` epochs over the first ``--images`` training images (validation off),
    images/s over the epochs after the first, and each epoch's stall (seconds from the
    epoch's start to its first step);
  * both also per CPU-second of the main process: on a machine shared with other jobs the
    wall-clock rates swing with the load, the main process's CPU cost per image much less
    (it leaves out the workers' CPU, which the wall-clock loop rate includes);
  * data: the training data pipeline alone (decode, augment and, where the trainer does it
    there, target assignment), images/s of one worker (made in this process).

Run from a checkout's root so that ``import edgedet`` is that checkout's code; the same script
measures an older trainer by running it from that checkout, e.g.::

    nice python benchmarks/train_throughput.py --data ../shared/datasets/bccd --imgsz 256
    cd ../main && nice python ../wt/i11/benchmarks/train_throughput.py --data ../shared/datasets/bccd
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

try:
    from edgedet.benchmarking.machine import cpu_name
except ImportError:  # an older checkout, measured for a before/after table, lacks the module
    import platform

    def cpu_name() -> str:
        return platform.processor() or platform.machine()


def _subset_voc(root: Path, split: str, count: int, into: Path) -> Path:
    """A VOC folder whose ``train`` split is the first ``count`` ids of ``root``'s ``split``."""
    ids = (root / "ImageSets" / "Main" / f"{split}.txt").read_text().split()[:count]
    (into / "ImageSets" / "Main").mkdir(parents=True)
    for name in ("Annotations", "JPEGImages"):
        (into / name).symlink_to((root / name).resolve())
    (into / "ImageSets" / "Main" / "train.txt").write_text("\n".join(ids) + "\n")
    return into


def bare_step_rate(trainer, steps: int) -> tuple[float, float]:
    """Images per wall second and per CPU second of this process, of forward + loss +
    backward + optimizer step on one batch kept on the device."""
    from edgedet.anchors import generate_anchors
    from edgedet.model import build_model
    from edgedet.train.loss import detection_loss
    try:
        from edgedet.train.reference_matcher import assign_targets
    except ImportError:  # a checkout from before 2026-12-07
        from edgedet.train.targets import assign_targets
    import numpy as np

    cfg, device = trainer.cfg, trainer.device
    model = build_model(cfg.model, trainer.metadata.num_classes).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    anchors = generate_anchors(trainer.metadata.anchors)
    # InputSize since 2026-12-06 (an int in older checkouts).
    width, height = (cfg.imgsz.width, cfg.imgsz.height) if hasattr(cfg.imgsz, "width") else (cfg.imgsz,) * 2
    box = np.array([[10, 10, width // 3, height // 4]], dtype=np.float32)
    labels, targets = assign_targets(anchors, box, np.array([0]))
    labels = torch.from_numpy(labels).expand(cfg.batch, -1).to(device)
    targets = torch.from_numpy(targets).expand(cfg.batch, -1, -1).to(device)
    images = torch.randint(0, 256, (cfg.batch, 3, height, width), dtype=torch.uint8, device=device)

    def step():
        cls, reg = model(images.float())
        loss = detection_loss(cls, reg, labels, targets)[0]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()

    step()  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    images = steps * cfg.batch
    return images / (time.perf_counter() - start), images / (time.process_time() - cpu)


def loop_rate(trainer) -> tuple[float, float, list[float]]:
    """Run ``trainer.fit()``; images per wall second and per CPU second of this process over
    its epochs after the first, and every epoch's stall."""
    epoch_times, cpu_times, stalls, pending = [], [], [], {}
    train_epoch, train_step = trainer._train_epoch, trainer._step

    def timed_epoch(epoch):
        pending["start"], cpu = time.perf_counter(), time.process_time()
        pending["first"] = None
        stats = train_epoch(epoch)
        epoch_times.append(time.perf_counter() - pending["start"])
        cpu_times.append(time.process_time() - cpu)
        stalls.append(pending["first"] - pending["start"])
        return stats

    def timed_step(*args):
        if pending["first"] is None:
            pending["first"] = time.perf_counter()
        return train_step(*args)

    trainer._train_epoch, trainer._step = timed_epoch, timed_step
    trainer.fit()
    images = trainer.steps_per_epoch * trainer.cfg.batch
    later, later_cpu = epoch_times[1:] or epoch_times, cpu_times[1:] or cpu_times
    return images * len(later) / sum(later), images * len(later_cpu) / sum(later_cpu), stalls


def data_rate(trainer, passes: int = 2) -> float:
    """Images/s of one data worker: the training dataset's samples (decode, augment and,
    where the trainer does it there, target assignment) made in this process, in order."""
    data = trainer.data
    data[0]  # warm-up (first imports, OpenCV's first calls)
    start, count = time.perf_counter(), 0
    for epoch in range(passes):
        data.set_epoch(epoch)
        for index in range(len(data)):
            data[index]
            count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/datasets/bccd", help="a VOC dataset (BCCD)")
    p.add_argument("--split", default="train")
    p.add_argument("--models", nargs="+", default=["d0"])
    p.add_argument("--imgsz", type=int, nargs="+", default=[256])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--images", type=int, default=48, help="training images per epoch")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--bare-steps", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--extra", nargs="*", default=[], metavar="KEY=VALUE",
                   help="more TrainConfig fields for the loop (e.g. amp=true), where the code has them")
    args = p.parse_args()

    import edgedet
    from edgedet.train import TrainConfig
    from edgedet.train.trainer import Trainer

    torch.set_num_threads(args.threads)
    extra = {k: {"true": True, "false": False}.get(v.lower(), v)
             for k, v in (item.split("=", 1) for item in args.extra)}
    print(f"edgedet from {Path(edgedet.__file__).parent}; torch {torch.__version__}; "
          f"{cpu_name()}, {args.threads} torch threads, {args.workers} workers")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = _subset_voc(Path(args.data), args.split, args.images, Path(tmp) / "data")
        for model in args.models:
            for size in args.imgsz:
                cfg = TrainConfig(data=str(data), format="voc", model=model, imgsz=size,
                                  epochs=args.epochs, batch=args.batch, out=f"{tmp}/{model}_{size}",
                                  workers=args.workers, threads=args.threads, device=args.device,
                                  val_split=None, progress=False, **extra)
                trainer = Trainer(cfg)
                bare, bare_cpu = bare_step_rate(trainer, args.bare_steps)
                loop, loop_cpu, stalls = loop_rate(trainer)
                pipeline = data_rate(trainer)
                rows.append((model, size, trainer.device.type, bare, loop, bare_cpu, loop_cpu,
                             stalls, pipeline))
                print(f"{model} {size}: bare {bare:.2f} img/s, loop {loop:.2f} img/s "
                      f"({loop / bare:.0%}); per CPU-second of this process: bare {bare_cpu:.2f}, "
                      f"loop {loop_cpu:.2f}; stalls {[round(s, 2) for s in stalls]} s; data "
                      f"{pipeline:.1f} img/s per worker", flush=True)
    print("\n| model | size | device | batch | bare fwd+bwd img/s | loop img/s | loop/bare "
          "| loop/bare per CPU-s | epoch stalls s | data img/s per worker |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, size, device, bare, loop, bare_cpu, loop_cpu, stalls, pipeline in rows:
        print(f"| {model} | {size} | {device} | {args.batch} | {bare:.2f} | {loop:.2f} | "
              f"{loop / bare:.0%} | {loop_cpu / bare_cpu:.0%} | "
              f"{', '.join(f'{s:.2f}' for s in stalls)} | {pipeline:.1f} |")


if __name__ == "__main__":
    main()
