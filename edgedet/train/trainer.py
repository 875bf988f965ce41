"""The training loop: SGD + warm-up/cosine, EMA, clipping, per-epoch checkpoints and val mAP."""
from __future__ import annotations

import math
import os
import time
from dataclasses import replace
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
from edgedet.torch_settings import torch_settings
from edgedet.train import distributed
from edgedet.train.assign import TargetAssigner
from edgedet.train.config import TrainConfig
from edgedet.train.dataset import DetectionDataset
from edgedet.train.ema import ModelEma
from edgedet.train.history import plot_history, read_history, write_history
from edgedet.train.loader import (EpochSampler, build_train_loader, collate_samples,
                                  set_opencv_threads, start_worker_server)
from edgedet.train.loss import LossConfig, detection_loss
from edgedet.train.preflight import prepare_run_folder, require_training_packages
from edgedet.train.schedule import build_optimizer, build_scheduler
from edgedet.train.validation import validate


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


def _use_amp(requested: Optional[bool], device: torch.device) -> bool:
    """bf16 autocast: on by default on CUDA, off on the CPU unless asked for."""
    if requested is None:
        return device.type == "cuda"
    if requested and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise InvalidInputError("--amp needs a GPU with bfloat16 support; this one has none")
    return bool(requested)


class Trainer:
    """One training run. ``Trainer(config).fit()`` returns the path of ``best.pt``.

    Files in ``config.out`` (rank 0 only, each written atomically): ``last.pt`` every epoch
    before validation (weights, EMA, optimizer, scheduler, epoch, RNG, and the epoch's stats
    until they are in results.csv), ``best.pt`` by val mAP@[.5:.95], ``results.csv`` and
    ``results.png``.
    """

    def __init__(self, config: TrainConfig):
        self.cfg = cfg = config
        self.device = _pick_device(cfg.device, int(os.environ.get("LOCAL_RANK", "0")))
        self.dist = distributed.init_distributed(self.device)
        self.out = Path(cfg.out)
        self.last_path, self.best_path = self.out / "last.pt", self.out / "best.pt"
        self.csv_path, self.png_path = self.out / "results.csv", self.out / "results.png"
        self._check_out_dir()
        start_worker_server(cfg.workers)

        train_set = load_dataset(cfg.data, cfg.format, cfg.train_split)
        self.val_set = self._load_val(train_set)
        require_training_packages(validation=self.val_set is not None,
                                  progress=cfg.progress and self.dist.is_main)
        # The weights come from cfg.seed without touching the caller's random state; the
        # loop's state (drop-connect, loader seeds) starts from here, or from last.pt's.
        with torch.random.fork_rng(devices=self._rng_devices):
            torch.manual_seed(cfg.seed)
            self._build_model(train_set)
            self.rng_state = self._get_rng_state()
        self._build_data(train_set)
        self._build_optimizer()
        self.loss_config = LossConfig()
        self.start_epoch = 0
        self.completed_epochs = 0
        self.best_map = -math.inf
        self.history: list[dict] = []
        # Stats of the last trained epoch until its row is in results.csv; stored in last.pt
        # so that a run stopped during validation finishes that epoch's log on --resume.
        self._unlogged_stats: Optional[dict] = None
        if cfg.resume:
            self._restore()
        self._backbone_frozen = cfg.freeze_backbone
        self._wrap_model()

    def _wrap_model(self) -> None:
        """``self.net``: the model, or its DistributedDataParallel wrapper, which has to be
        made again whenever the set of trained parameters changes."""
        self.net = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)

    # -- building -----------------------------------------------------------------------
    def _build_model(self, train_set: Dataset) -> None:
        """The network (fresh, fine-tuned from --weights, or with a pretrained backbone), its
        metadata and its EMA, on the training device."""
        cfg = self.cfg
        if cfg.weights:
            from edgedet.train.finetune import model_from_weights

            log = print if self.dist.is_main else (lambda _: None)
            model, self.metadata = model_from_weights(cfg.weights, train_set.class_names, cfg.imgsz,
                                                      dataset=train_set.name, log=log)
            self.model = model.to(self.device)
        else:
            self.metadata = make_metadata(cfg.model, train_set.class_names, cfg.imgsz, dataset=train_set.name)
            self.model = build_model(cfg.model, len(train_set.class_names)).to(self.device)
        if cfg.auto_anchors:
            self._fit_anchors(train_set)
        if cfg.freeze_backbone:
            from edgedet.train.finetune import freeze_backbone

            frozen = freeze_backbone(self.model)
            if self.dist.is_main:
                print(f"edgedet train: backbone frozen ({frozen:,} parameters, BatchNorm in eval mode)")
        if cfg.pretrained_backbone and not cfg.resume:
            from edgedet.model.lite_weights import load_backbone_weights

            load_backbone_weights(self.model, cfg.pretrained_backbone)
        for module in self.model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.momentum = cfg.bn_momentum
        self.ema = ModelEma(self.model, cfg.ema_decay)
        self.amp = _use_amp(cfg.amp, self.device)
        if self.device.type == "cuda":  # NHWC convolutions are the fast ones on tensor cores
            self.model.to(memory_format=torch.channels_last)

    def _fit_anchors(self, train_set: Dataset) -> None:
        from edgedet.train.anchor_fit import fit_anchors

        before, after = fit_anchors(train_set, self.metadata.anchors)
        self.metadata = replace(self.metadata, anchors=after.spec)
        if self.dist.is_main:
            names = train_set.class_names
            print(f"edgedet train: anchors before: {before.describe(names)}")
            print(f"edgedet train: anchors {'fitted' if after is not before else 'kept'}: "
                  f"{after.describe(names)}")

    def _build_data(self, train_set: Dataset) -> None:
        """The augmenting dataset, the epoch sampler (this process's share) and the matcher."""
        cfg = self.cfg
        augment_config = AugmentConfig(cfg.scale_min, cfg.scale_max, cfg.flip, cfg.mosaic,
                                       (cfg.hsv_h, cfg.hsv_s, cfg.hsv_v))
        self.data = DetectionDataset(train_set, cfg.imgsz, augment_config,
                                     self.metadata.letterbox.pad_value, cfg.seed,
                                     mosaic_epochs=max(0, cfg.epochs - cfg.no_mosaic_epochs))
        self.collate = collate_samples
        self.assigner = TargetAssigner(generate_anchors(self.metadata.anchors), self.device)
        self.sampler = EpochSampler(DistributedSampler(self.data, num_replicas=self.dist.world_size,
                                                       rank=self.dist.rank, shuffle=True, seed=cfg.seed))
        if len(self.sampler) < max(2, cfg.batch):
            raise InvalidInputError(
                f"split {cfg.train_split!r} has {len(train_set)} images ({len(self.sampler)} per "
                f"process): fewer than the batch size {cfg.batch} (and 2 are needed for BatchNorm)"
            )
        self.steps_per_epoch = len(self.sampler) // cfg.batch
        self._train_loader: Optional[DataLoader] = None

    def _build_optimizer(self) -> None:
        cfg = self.cfg
        self.optimizer = build_optimizer(self.model, cfg.peak_lr(self.dist.world_size),
                                         cfg.momentum, cfg.weight_decay)
        self.scheduler = build_scheduler(self.optimizer, round(cfg.warmup_epochs * self.steps_per_epoch),
                                         cfg.epochs * self.steps_per_epoch)

    @property
    def _rng_devices(self) -> list[int]:
        """The CUDA device whose generator the run forks (none on the CPU)."""
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _get_rng_state(self) -> dict:
        state = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _set_rng_state(self, state: dict) -> None:
        torch.set_rng_state(state["cpu"])
        if "cuda" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda"], self.device)

    # -- set-up -------------------------------------------------------------------------
    def _check_out_dir(self) -> None:
        removed = prepare_run_folder(self.out, clean=self.dist.is_main)
        if removed:
            print(f"edgedet train: removed {len(removed)} partial file(s) an interrupted run left "
                  f"in {self.out}: {', '.join(p.name for p in removed)}")
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
                                   ("input size", meta.input_size, ours.input_size),
                                   ("anchor spec", meta.anchors, ours.anchors)):
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
        self.rng_state = {**self.rng_state, "cpu": state["torch_rng"]}
        self.start_epoch = self.completed_epochs = int(state["epoch"])
        self.history = read_history(self.csv_path, self.start_epoch)
        unlogged = state.get("unlogged_epoch")
        if unlogged and int(unlogged["epoch"]) == self.start_epoch and \
                all(int(row["epoch"]) != self.start_epoch for row in self.history):
            self._unlogged_stats = dict(unlogged)
        if self.best_path.is_file():
            self.best_map = float(read_checkpoint(self.best_path).get("val_map", -math.inf))

    # -- loop ---------------------------------------------------------------------------
    def fit(self) -> Path:
        """Train from ``start_epoch`` to ``config.epochs``; returns the path of best.pt.

        torch's thread count (``config.threads``) and random state are the run's only while
        it runs: the caller's are put back on return.
        """
        with torch_settings(self.cfg.threads, flush_denormal=False), \
                torch.random.fork_rng(devices=self._rng_devices):
            self._set_rng_state(self.rng_state)
            return self._fit()

    def _fit(self) -> Path:
        if self.start_epoch >= self.cfg.epochs and self.dist.is_main:
            print(f"edgedet train: {self.last_path} already has {self.start_epoch} epochs; "
                  "raise --epochs to go on")
        # With --workers 0 this process decodes and augments: one OpenCV thread, as in a worker.
        opencv_threads = set_opencv_threads(1) if self.cfg.workers == 0 else None
        try:
            if self._unlogged_stats is not None and self.dist.is_main:
                print(f"edgedet train: validating and logging epoch {self.start_epoch}, which the "
                      "interrupted run had trained but not logged", flush=True)
                self._log_epoch(self.start_epoch - 1, self._unlogged_stats)
            distributed.barrier(self.dist)
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
            self._train_loader = None  # stops its persistent workers
            if opencv_threads is not None:
                set_opencv_threads(opencv_threads)
            distributed.shutdown(self.dist)
        return self.best_path

    def _loader(self, epoch: int) -> DataLoader:
        # Made once: re-creating it every epoch re-started its workers (measured ~28 s of
        # stall per epoch on a 16-core machine).
        if self._train_loader is None:
            self._train_loader = build_train_loader(self.data, self.sampler, self.cfg.batch,
                                                    self.cfg.workers, self.device.type == "cuda",
                                                    self.collate)
        self.sampler.set_epoch(epoch)
        self.data.set_epoch(epoch)
        return self._train_loader

    def _schedule_backbone(self, epoch: int) -> None:
        """With ``freeze_backbone_epochs``: frozen before that epoch, trained from it on (also
        on --resume, where the epoch alone decides)."""
        frozen = epoch < self.cfg.freeze_backbone_epochs
        if not self.cfg.freeze_backbone_epochs or frozen == self._backbone_frozen:
            return
        from edgedet.train.finetune import set_backbone_frozen

        count = set_backbone_frozen(self.model, frozen)
        self._backbone_frozen = frozen
        self._wrap_model()
        if self.dist.is_main:
            state = ("frozen until epoch " + str(self.cfg.freeze_backbone_epochs + 1)) if frozen \
                else "unfrozen: the whole network trains from now on"
            print(f"edgedet train: backbone {state} ({count:,} parameters)", flush=True)

    def _train_epoch(self, epoch: int) -> dict:
        self._schedule_backbone(epoch)
        self.net.train()
        loader = self._loader(epoch)
        if self.cfg.progress and self.dist.is_main:
            from edgedet.progress import progress_bar

            loader = progress_bar(loader, total=self.steps_per_epoch, unit="batch", leave=True,
                                  desc=f"epoch {epoch + 1}/{self.cfg.epochs}")
        totals = torch.zeros(3, dtype=torch.float64)
        start = time.perf_counter()
        for step, (images, boxes, class_ids) in enumerate(loader):
            losses = self._step(images, boxes, class_ids)
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

    def _step(self, images: torch.Tensor, boxes: torch.Tensor, class_ids: torch.Tensor) -> tuple:
        """One optimizer step on a collated batch (boxes padded, see ``collate_samples``)."""
        images = images.to(self.device, non_blocking=True).float()
        if self.device.type == "cuda":
            images = images.contiguous(memory_format=torch.channels_last)
        labels, box_targets = self.assigner(boxes, class_ids)
        # Weights stay fp32 (and so do checkpoints); autocast runs the convolutions in bf16.
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            cls_logits, box_regression = self.net(images)
        # The loss in fp32: focal terms of well-classified anchors underflow in bf16.
        loss, cls_loss, box_loss = detection_loss(cls_logits.float(), box_regression.float(),
                                                  labels, box_targets, self.loss_config)
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
            "train_config": self.cfg.to_dict(), "unlogged_epoch": self._unlogged_stats,
        })

    def _validate(self) -> Optional[dict]:
        if self.val_set is None:
            return None
        return validate(self.ema.module, self.metadata, self.val_set, self.device, self.cfg.batch)

    def _end_epoch(self, epoch: int, stats: dict) -> None:
        self._unlogged_stats = stats
        self._save_last(self.completed_epochs)
        self._log_epoch(epoch, stats)

    def _log_epoch(self, epoch: int, stats: dict) -> None:
        """Validate the epoch just trained, update best.pt, results.csv/png, print its line."""
        self._unlogged_stats = stats
        due = (epoch + 1) % self.cfg.val_every == 0 or epoch + 1 >= self.cfg.epochs
        result = self._validate() if due else None
        if result is not None:
            stats.update(val_map=result["map"], val_map50=result["map50"])
        score = result["map"] if result is not None else epoch
        if score > self.best_map and (result is not None or self.val_set is None):
            self.best_map = score
            save_checkpoint(self.best_path, self.model, self.metadata, extra={
                "ema": self.ema.state_dict(), "epoch": epoch + 1,
                "val_map": float(score), "val_map50": float(result["map50"]) if result else -1.0,
            })
        self.history.append(stats)
        write_history(self.csv_path, self.history)
        self._unlogged_stats = None
        plot_history(self.png_path, self.history)
        val = f"  val mAP {result['map']:.4f}  mAP@.5 {result['map50']:.4f}" if result else ""
        print(f"epoch {epoch + 1}/{self.cfg.epochs}  loss {stats['train_loss']:.4f}"
              f" (cls {stats['cls_loss']:.4f}, box {stats['box_loss']:.5f}){val}"
              f"  {stats['epoch_seconds']:.0f} s, {stats['images_per_second']:.1f} img/s", flush=True)
