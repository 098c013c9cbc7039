"""Evaluation: open loop on held-out episodes and closed loop in the synthetic world, beside two reference
rows (a constant-velocity baseline and the expert)."""
