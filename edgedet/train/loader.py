"""The training DataLoader: created once, workers kept for the whole run, augmentation still
a function of (seed, epoch, index) only."""
from __future__ import annotations

import multiprocessing
from typing import Iterator

import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler


class EpochSampler(Sampler):
    """Wraps a :class:`DistributedSampler` and yields ``(epoch, index)`` keys.

    Persistent workers hold their own copy of the dataset made when they started, so an epoch
    set on the dataset in the main process never reaches them. The sampler, though, is
    iterated in the main process at the start of every epoch: carrying the epoch inside each
    key is what lets a worker seed a sample's augmentation by (seed, epoch, index).
    """

    def __init__(self, sampler: DistributedSampler):
        self.sampler = sampler
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        return ((epoch, index) for index in self.sampler)

    def __len__(self) -> int:
        return len(self.sampler)


def worker_context(workers: int):
    """Start DataLoader workers from a clean forkserver, never by forking this process: the
    converters' packages (JAX, OpenVINO) run threads here, and forking a multithreaded
    process crashed a full test run (SIGSEGV) while training after conversions."""
    if workers == 0 or "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("forkserver")


# What a worker imports to make a sample; done once in the forkserver, which workers fork from.
WORKER_IMPORTS = ["torch", "cv2", "numpy", "edgedet.train.dataset", "edgedet.train.loader"]


def start_worker_server(workers: int) -> None:
    """Start the workers' forkserver now, importing :data:`WORKER_IMPORTS` there.

    Called before the model is built, so that the server's imports (seconds: torch and
    OpenCV) overlap with that work; when the first epoch starts its workers, each is a fork
    of an already-importing server instead of a fresh interpreter importing them itself,
    which stalled the first epoch's first step by 5-11 s. The server lives as long as this
    process, as Python's forkserver always does; starting it is all this does.
    """
    if worker_context(workers) is None:
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(WORKER_IMPORTS)
    forkserver.ensure_running()


def set_opencv_threads(count: int) -> int:
    """Set OpenCV's thread count for this process; returns the previous one.

    Decoding and augmenting a sample gains little from OpenCV's pool (one thread per CPU by
    default), while that pool's threads compete for the cores with torch's own, in every
    worker, and in the main process when it loads the data itself (``--workers 0``).
    """
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(count)
    return previous


def _init_worker(worker_id: int) -> None:
    set_opencv_threads(1)


def build_train_loader(dataset: torch.utils.data.Dataset, sampler: EpochSampler, batch: int,
                       workers: int, pin_memory: bool, collate_fn=None) -> DataLoader:
    """One DataLoader for the whole run; call ``sampler.set_epoch(e)`` before each epoch."""
    options: dict = dict(batch_size=batch, sampler=sampler, num_workers=workers, drop_last=True,
                         pin_memory=pin_memory, collate_fn=collate_fn)
    if workers > 0:
        options.update(persistent_workers=True, worker_init_fn=_init_worker,
                       multiprocessing_context=worker_context(workers))
    return DataLoader(dataset, **options)


def collate_samples(samples: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(image, boxes, class_ids)`` samples -> ``images [B, 3, S, S]`` uint8 and boxes /
    class ids padded to one length (see :func:`edgedet.train.assign.pad_boxes`)."""
    from edgedet.train.assign import pad_boxes

    images, boxes, class_ids = zip(*samples)
    return (torch.stack(images), *pad_boxes(list(boxes), list(class_ids)))


def sample_key(key, default_epoch: int) -> tuple[int, int]:
    """``(epoch, index)`` from a sampler key, or from a plain index and ``default_epoch``."""
    if isinstance(key, tuple):
        epoch, index = key
        return int(epoch), int(index)
    return default_epoch, int(key)


