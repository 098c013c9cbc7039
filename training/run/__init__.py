"""Running training: imitation and distillation loops, checkpoints, resume, torchrun/DDP (needs PyTorch)."""
