"""Vehicle control for closed loop (numpy only): follow a planned trajectory with steering and acceleration."""
from .tracking import PlanTracker

__all__ = ["PlanTracker"]
