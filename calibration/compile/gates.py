"""The compile gates' defaults (importing this module needs no PyTorch: the CLI's help text reads it)."""

#: The default floor on every output's SQNR against the source model (dB): 20 dB is an RMS error of 10% of the
#: output's RMS, the point past which an int8 classifier's top-1 and a regression head's error visibly degrade.
DEFAULT_MIN_SQNR_DB = 20.0
