"""wayvert.training: learn to drive from demonstrations (installed as ``wayvert.training``).

numpy only: ``world`` (the synthetic driving world: procedural roads, IDM traffic, the expert driver whose plans
are the demonstrations, a renderer for any rig), ``data`` (the episode format of docs/episode-format.md, its
reader, writer and generator, the training targets), ``schema`` and ``config``.

Needs the ``train`` extra (PyTorch): ``data.dataset``, ``models`` (teacher and student), ``losses``, ``metrics``,
``run`` (imitation and distillation loops, checkpoints, torchrun/DDP) and ``evaluate`` (open and closed loop).
The commands are ``wayvert generate | train | distill | eval`` (``cli``); see docs/training.md.
"""
