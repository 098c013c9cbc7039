"""wayvert.training: learn to drive from demonstrations (installed as ``wayvert.training``).

numpy only: ``data`` (training sets: episodes generated from the synthetic world, logs converted to episodes, the
training targets) and ``config``. They build on the runtime's ground floor: ``wayvert.schema`` (the output
contract), ``wayvert.episodes`` (the episode format), ``wayvert.sim`` (the synthetic world and its expert) and
``wayvert.control`` (plan tracking).

Needs the ``train`` extra (PyTorch): ``data.dataset``, ``models`` (teacher and student), ``losses``, ``metrics``,
``run`` (imitation and distillation loops, checkpoints, torchrun/DDP) and ``evaluate`` (open and closed loop).
The commands are ``wayvert generate | train | distill | eval`` (``cli``); see docs/training.md.
"""
