"""The heads' last linears run in float: an int8 grid over a whole trajectory head (x up to 60 m in one scale) is
centimetres coarse laterally, and the verifier read the staircase as lateral jerk (found by the demo: the top mode
failed lateral_jerk on every frame of a straight road)."""


def test_trajectory_and_mode_heads_are_float_and_lead_distance_keeps_its_int8_clamp(lowered):
    builder, report = lowered("entropy")
    dtype = {layer.name: layer.dtype for layer in report.graph}
    assert dtype["heads.trajectory"] == "float32"
    assert dtype["heads.mode"] == "float32"
    assert dtype["heads.lead_distance"] == "int8"          # clamp [0, 80] m: float kernels fuse only ReLU/ReLU6
