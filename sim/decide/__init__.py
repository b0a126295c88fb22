"""Decision tools over many runs: optimise (robust policy search) and discover (PRIM).

- :mod:`sim.decide.discover`: scenario discovery, the conditions (boxes over a sweep's
  parameters) under which an outcome happens (``sim discover SWEEP_DIR --outcome EXPR``).
"""
