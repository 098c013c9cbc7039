"""Gates an engine must pass before it is written: accuracy against the fp32 student, and the target profile's
latency and power budget."""
