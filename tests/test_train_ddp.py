"""Two CPU processes (gloo) train with DistributedDataParallel and end with equal weights."""
from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp

from edgedet.data.synth import generate_dataset


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    from edgedet.train.config import TrainConfig
    from edgedet.train.trainer import Trainer

    trainer = Trainer(TrainConfig(data=data, out=out, model="d0", imgsz=128, epochs=1, batch=2,
                                  workers=0, threads=1, progress=False, val_split=None))
    assert trainer.dist.world_size == world and trainer.dist.rank == rank
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    after = trainer.model.state_dict()
    changed = any(not torch.equal(before[k], after[k]) for k in after)
    params = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    torch.save({"params": params, "changed": changed, "steps": trainer.steps_per_epoch},
               os.path.join(out, f"rank{rank}.pt"))


def test_two_process_gloo_run_keeps_ranks_in_sync(tmp_path):
    data = generate_dataset(tmp_path / "ds", 10, "voc", seed=2, image_size=(160, 128))  # 8 train
    out = tmp_path / "run"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(data), str(out)), nprocs=2, join=True)
    r0 = torch.load(out / "rank0.pt", weights_only=True)
    r1 = torch.load(out / "rank1.pt", weights_only=True)
    assert r0["changed"] and r1["changed"]
    assert r0["steps"] == 2  # 8 images / 2 ranks / batch 2: each rank saw a different half
    for name, value in r0["params"].items():
        torch.testing.assert_close(r1["params"][name], value, rtol=0, atol=0, msg=name)
    # Only rank 0 writes run files.
    assert (out / "last.pt").is_file() and (out / "results.csv").is_file()
