"""Decision tools over many runs: optimise (robust policy search) and discover (PRIM).

- :mod:`sim.decide.optimise`: the robust search for a power's best spend per state and kind of
  move and visibility per state (``sim optimise FILE``), with pymoo. The FILE's schema is
  :mod:`sim.decide.policy_file`, the plan it resolves to (base scenario, uncertainty, the
  decision's encoding) :mod:`sim.decide.policy_plan`, its engine runs
  :mod:`sim.decide.policy_runs` and its output files :mod:`sim.decide.optimise_files`.
- :mod:`sim.decide.discover`: scenario discovery, the conditions (boxes over a sweep's
  parameters) under which an outcome happens (``sim discover SWEEP_DIR --outcome EXPR``).
"""
