"""wayvert.training: learn to drive from demonstrations (installed as ``wayvert.training``).

``wayvert.training.world`` is the synthetic driving world (numpy only): procedural roads, IDM traffic, the expert
driver whose plans are the demonstrations, and a renderer for any rig. ``wayvert.training.data`` is the episode
format (docs/episode-format.md), its reader, writer and generator, the training targets, and the PyTorch dataset.
Model training and distillation need the ``train`` extra (PyTorch) and are not here yet.
"""
