"""Synthetic driving world (numpy only): procedural roads, IDM/MOBIL traffic, an expert driver, demonstrations,
the world's labels (``labels``: route command, scenario, lead gap) and a renderer for any rig (``render``)."""
from .expert import EgoState, bicycle_step, demonstration, expert_action, perturb_start
from .road import LANE_WIDTH, Junction, Polyline, Road, frenet, make_road
from .sim import World, boxes_overlap
from .traffic import CAR, OBSTACLE, PEDESTRIAN, TRUCK, Agent, IDMParams, idm_accel, leader
from .variety import draw_variety

__all__ = ["World", "EgoState", "bicycle_step", "demonstration", "expert_action", "perturb_start", "LANE_WIDTH",
           "Junction", "Polyline", "Road", "frenet", "make_road", "boxes_overlap", "CAR", "TRUCK", "OBSTACLE",
           "PEDESTRIAN", "Agent", "IDMParams", "idm_accel", "draw_variety"]
