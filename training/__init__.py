"""wayvert.training: learn to drive from demonstrations (installed as ``wayvert.training``).

``wayvert.training.world`` is the synthetic driving world (numpy only): procedural roads, IDM traffic, the expert
driver whose plans are the demonstrations, and a renderer for any rig. Model training and distillation need the
``train`` extra (PyTorch) and are not here yet.
"""
