"""torchrun / DistributedDataParallel plumbing: one process per rank, gloo on CPU, NCCL on GPUs."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int
    world_size: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Ranks:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1); a plain run is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks(0, 1)
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return Ranks(dist.get_rank(), dist.get_world_size())


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def mean_over_ranks(value: float, ranks: Ranks) -> float:
    if ranks.world_size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / ranks.world_size


def barrier(ranks: Ranks) -> None:
    if ranks.world_size > 1:
        dist.barrier()
