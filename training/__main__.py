"""``python -m wayvert.training COMMAND``: the trainer's commands without the rest of the ``wayvert`` CLI
(torchrun launches modules: ``torchrun --nproc_per_node 2 -m wayvert.training train ...``)."""
import sys

from wayvert.training.cli import main

sys.exit(main())
