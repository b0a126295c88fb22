"""History: the observed record, the calibration on it and the hindcast against it.

- :mod:`sim.history.observed`: the observed series in ``data/observed/*.csv`` (trade shares,
  trade in USD, remittances, gas purchases), loaded and validated.
- :mod:`sim.history.abc`: a batched ABC-SMC (approximate Bayesian computation by sequential
  Monte Carlo) that evaluates whole generations of candidate parameters at once, through the
  same executors as sweeps, with a posterior that depends on the seed only.

The history scenario, ``sim calibrate`` and ``sim hindcast`` build on these (issue 11).
"""
