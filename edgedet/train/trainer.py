"""The training loop: SGD + warm-up/cosine, EMA, clipping, per-epoch checkpoints and val mAP."""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Optional

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from edgedet.anchors import generate_anchors
from edgedet.checkpoint import read_checkpoint, save_checkpoint
from edgedet.data import Dataset, load_dataset
from edgedet.data.augment import AugmentConfig
from edgedet.errors import EdgedetError, InvalidInputError
from edgedet.metadata import ModelMetadata, make_metadata
from edgedet.model import build_model
from edgedet.train import distributed
from edgedet.train.config import TrainConfig
from edgedet.train.dataset import DetectionDataset
from edgedet.train.ema import ModelEma
from edgedet.train.history import plot_history, read_history, write_history
from edgedet.train.loss import LossConfig, detection_loss
from edgedet.train.schedule import build_optimizer, build_scheduler


class TrainingError(EdgedetError):
    """Training cannot go on (diverged loss, unusable resume checkpoint, ...)."""


def _pick_device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise InvalidInputError("device 'cuda' requested but no CUDA GPU is available")
        return torch.device("cuda", local_rank)
    if name != "cpu":
        raise InvalidInputError(f"device must be auto, cpu or cuda, got {name!r}")
    return torch.device("cpu")


def _worker_context(workers: int):
    """Start DataLoader workers from a clean forkserver, never by forking this process: the
    converters' packages (JAX, OpenVINO) run threads here, and forking a multithreaded
    process crashed a full test run (SIGSEGV) while training after conversions."""
    import multiprocessing

    if workers == 0 or "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("forkserver")


class Trainer:
    """One training run. ``Trainer(config).fit()`` returns the path of ``best.pt``.

    Files in ``config.out`` (rank 0 only, each written atomically): ``last.pt`` every epoch
    (weights, EMA, optimizer, scheduler, epoch, RNG), ``best.pt`` by val mAP@[.5:.95],
    ``results.csv`` and ``results.png``.
    """

    def __init__(self, config: TrainConfig):
        self.cfg = cfg = config
        self.device = _pick_device(cfg.device, int(os.environ.get("LOCAL_RANK", "0")))
        self.dist = distributed.init_distributed(self.device)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        self.out = Path(cfg.out)
        self.last_path, self.best_path = self.out / "last.pt", self.out / "best.pt"
        self.csv_path, self.png_path = self.out / "results.csv", self.out / "results.png"
        self._check_out_dir()

        train_set = load_dataset(cfg.data, cfg.format, cfg.train_split)
        self.val_set = self._load_val(train_set)
        self.metadata = make_metadata(cfg.model, train_set.class_names, cfg.imgsz, dataset=train_set.name)
        self.model = build_model(cfg.model, len(train_set.class_names)).to(self.device)
        if cfg.pretrained_backbone and not cfg.resume:
            from edgedet.model.lite_weights import load_backbone_weights

            load_backbone_weights(self.model, cfg.pretrained_backbone)
        for module in self.model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.momentum = cfg.bn_momentum
        self.ema = ModelEma(self.model, cfg.ema_decay)
        pad = int(self.metadata.letterbox["pad_value"])
        self.data = DetectionDataset(train_set, generate_anchors(self.metadata.anchor_spec), cfg.imgsz,
                                     AugmentConfig(cfg.scale_min, cfg.scale_max, cfg.flip), pad, cfg.seed)
        self.sampler = DistributedSampler(self.data, num_replicas=self.dist.world_size,
                                          rank=self.dist.rank, shuffle=True, seed=cfg.seed)
        if len(self.sampler) < max(2, cfg.batch):
            raise InvalidInputError(
                f"split {cfg.train_split!r} has {len(train_set)} images ({len(self.sampler)} per "
                f"process): fewer than the batch size {cfg.batch} (and 2 are needed for BatchNorm)"
            )
        self.steps_per_epoch = len(self.sampler) // cfg.batch
        self.optimizer = build_optimizer(self.model, cfg.peak_lr(self.dist.world_size),
                                         cfg.momentum, cfg.weight_decay)
        self.scheduler = build_scheduler(self.optimizer, round(cfg.warmup_epochs * self.steps_per_epoch),
                                         cfg.epochs * self.steps_per_epoch)
        self.loss_config = LossConfig()
        self.start_epoch = 0
        self.completed_epochs = 0
        self.best_map = -math.inf
        self.history: list[dict] = []
        if cfg.resume:
            self._restore()
        self.net = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)

    # -- set-up -------------------------------------------------------------------------
    def _check_out_dir(self) -> None:
        if self.cfg.resume and not self.last_path.is_file():
            raise InvalidInputError(f"nothing to resume: {self.last_path} not found")
        if not self.cfg.resume and self.last_path.exists() and not self.cfg.exist_ok:
            raise InvalidInputError(
                f"{self.out} already holds a training run ({self.last_path.name}); pass --resume "
                "to continue it, or --force / another --out to start afresh"
            )

    def _load_val(self, train_set: Dataset) -> Optional[Dataset]:
        if not self.cfg.val_split:
            return None
        try:
            return load_dataset(self.cfg.data, self.cfg.format, self.cfg.val_split,
                                class_names=train_set.class_names)
        except InvalidInputError as exc:
            if self.dist.is_main:
                print(f"edgedet train: no validation ({exc}); best.pt will follow last.pt")
            return None

    def _restore(self) -> None:
        state = read_checkpoint(self.last_path)
        meta = ModelMetadata.from_dict(state["metadata"], source=str(self.last_path))
        ours = self.metadata
        for what, theirs, mine in (("model", meta.model, ours.model),
                                   ("class list", meta.class_names, ours.class_names),
                                   ("input size", meta.input_size, ours.input_size)):
            if theirs != mine:
                raise TrainingError(
                    f"cannot resume from {self.last_path}: its {what} is {theirs!r} but this run "
                    f"has {mine!r}; use the same --model/--imgsz/dataset or another --out"
                )
        missing = [k for k in ("optimizer", "scheduler", "epoch", "ema") if k not in state]
        if missing:
            raise TrainingError(f"cannot resume from {self.last_path}: no training state ({missing})")
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"], state.get("ema_updates", 0))
        self.optimizer.load_state_dict(state["optimizer"])
        # The schedule's shape follows this run's --epochs; only its position is restored.
        sched = dict(state["scheduler"], lr_lambdas=[None] * len(self.scheduler.lr_lambdas))
        self.scheduler.load_state_dict(sched)
        torch.set_rng_state(state["torch_rng"])
        self.start_epoch = self.completed_epochs = int(state["epoch"])
        self.history = read_history(self.csv_path, self.start_epoch)
        if self.best_path.is_file():
            self.best_map = float(read_checkpoint(self.best_path).get("val_map", -math.inf))

    # -- loop ---------------------------------------------------------------------------
    def fit(self) -> Path:
        """Train from ``start_epoch`` to ``config.epochs``; returns the path of best.pt."""
        if self.start_epoch >= self.cfg.epochs and self.dist.is_main:
            print(f"edgedet train: {self.last_path} already has {self.start_epoch} epochs; "
                  "raise --epochs to go on")
        try:
            for epoch in range(self.start_epoch, self.cfg.epochs):
                stats = self._train_epoch(epoch)
                self.completed_epochs = epoch + 1
                if self.dist.is_main:
                    self._end_epoch(epoch, stats)
                distributed.barrier(self.dist)
        except KeyboardInterrupt:
            if self.dist.is_main:
                # Mid-epoch weights are kept, but the epoch counts as not done: --resume
                # restarts it.
                self._save_last(self.completed_epochs)
                print(f"\nedgedet train: interrupted; saved {self.last_path} after "
                      f"{self.completed_epochs} complete epoch(s); continue with --resume")
            raise
        finally:
            distributed.shutdown(self.dist)
        return self.best_path

    def _loader(self, epoch: int) -> DataLoader:
        self.sampler.set_epoch(epoch)
        self.data.set_epoch(epoch)
        return DataLoader(self.data, batch_size=self.cfg.batch, sampler=self.sampler,
                          num_workers=self.cfg.workers, drop_last=True,
                          pin_memory=self.device.type == "cuda",
                          multiprocessing_context=_worker_context(self.cfg.workers))

    def _train_epoch(self, epoch: int) -> dict:
        self.net.train()
        loader = self._loader(epoch)
        if self.cfg.progress and self.dist.is_main:
            from tqdm import tqdm

            loader = tqdm(loader, desc=f"epoch {epoch + 1}/{self.cfg.epochs}", unit="batch",
                          total=self.steps_per_epoch, dynamic_ncols=True)
        totals = torch.zeros(3, dtype=torch.float64)
        start = time.perf_counter()
        for step, (images, labels, box_targets) in enumerate(loader):
            losses = self._step(images, labels, box_targets)
            if not all(math.isfinite(v) for v in losses):
                raise TrainingError(
                    f"loss became non-finite at epoch {epoch + 1}, step {step + 1} ({losses}); "
                    "lower --lr or check the dataset"
                )
            totals += torch.tensor(losses, dtype=torch.float64)
            if hasattr(loader, "set_postfix"):
                loader.set_postfix(loss=f"{totals[0].item() / (step + 1):.4f}",
                                   lr=f"{self.optimizer.param_groups[0]['lr']:.4g}")
        seconds = time.perf_counter() - start
        steps = max(1, self.steps_per_epoch)
        loss, cls_loss, box_loss = (totals / steps).tolist()
        images_seen = steps * self.cfg.batch * self.dist.world_size
        return {"epoch": epoch + 1, "train_loss": loss, "cls_loss": cls_loss, "box_loss": box_loss,
                "lr": self.optimizer.param_groups[0]["lr"], "epoch_seconds": round(seconds, 2),
                "images_per_second": round(images_seen / seconds, 2)}

    def _step(self, images: torch.Tensor, labels: torch.Tensor, box_targets: torch.Tensor) -> tuple:
        images = images.to(self.device, non_blocking=True).float()
        cls_logits, box_regression = self.net(images)
        loss, cls_loss, box_loss = detection_loss(cls_logits, box_regression, labels.to(self.device),
                                                  box_targets.to(self.device), self.loss_config)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip_grad)
        self.optimizer.step()
        self.scheduler.step()
        self.ema.update(self.model)
        return loss.item(), cls_loss.item(), box_loss.item()

    # -- files (rank 0) -----------------------------------------------------------------
    def _save_last(self, completed_epochs: int) -> None:
        save_checkpoint(self.last_path, self.model, self.metadata, extra={
            "ema": self.ema.state_dict(), "ema_updates": self.ema.updates,
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "epoch": completed_epochs, "torch_rng": torch.get_rng_state(),
            "train_config": self.cfg.to_dict(),
        })

    def _validate(self) -> Optional[dict]:
        if self.val_set is None:
            return None
        from edgedet.evaluation import EVAL_MAX_RESULTS, EVAL_SCORE_THRESHOLD, evaluate
        from edgedet.runtimes import Detector

        threads = torch.get_num_threads()
        detector = Detector(self.last_path, score_threshold=EVAL_SCORE_THRESHOLD,
                            max_results=EVAL_MAX_RESULTS, num_threads=threads)
        result = evaluate(detector, self.val_set, progress=False)
        torch.set_num_threads(threads)
        return result

    def _end_epoch(self, epoch: int, stats: dict) -> None:
        self._save_last(self.completed_epochs)
        result = self._validate()
        if result is not None:
            stats.update(val_map=result["map"], val_map50=result["map50"])
        score = result["map"] if result is not None else epoch
        if score > self.best_map:
            self.best_map = score
            save_checkpoint(self.best_path, self.model, self.metadata, extra={
                "ema": self.ema.state_dict(), "epoch": epoch + 1,
                "val_map": float(score), "val_map50": float(result["map50"]) if result else -1.0,
            })
        self.history.append(stats)
        write_history(self.csv_path, self.history)
        plot_history(self.png_path, self.history)
        val = f"  val mAP {result['map']:.4f}  mAP@.5 {result['map50']:.4f}" if result else ""
        print(f"epoch {epoch + 1}/{self.cfg.epochs}  loss {stats['train_loss']:.4f}"
              f" (cls {stats['cls_loss']:.4f}, box {stats['box_loss']:.5f}){val}"
              f"  {stats['epoch_seconds']:.0f} s, {stats['images_per_second']:.1f} img/s", flush=True)
