"""Closed-loop evaluation of the deployed stack (numpy and the C++ runtime only): a planner's candidate modes go
through the trajectory verifier and the plan tracker into the synthetic world, and the drive is measured against
the expert on the same seed (docs/cli.md, ``wayvert eval --engine``). ``wayvert demo`` drives through the same
loop."""
from .comfort import COMFORT_LIMITS, comfort_of
from .loop import DriveLog, FrameRecord, drive, expert_plan_check
from .planners import ConstantVelocityPlanner, EnginePlanner, ExpertPlanner, Planner
from .routes import EVAL_SEED0, evaluate_engine, evaluate_routes, markdown_report, write_results

__all__ = ["COMFORT_LIMITS", "comfort_of", "DriveLog", "FrameRecord", "drive", "expert_plan_check",
           "ConstantVelocityPlanner", "ExpertPlanner", "EnginePlanner", "Planner", "EVAL_SEED0", "evaluate_engine",
           "evaluate_routes", "markdown_report", "write_results"]
