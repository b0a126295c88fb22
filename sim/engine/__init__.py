"""The vectorised engine: arrays with a leading run axis and one step function for a batch.

Typical use::

    structure, params = compile_scenario(scenario)
    batch = make_batch(structure, repeat(params, 1000), seeds=np.arange(1000))
    final = simulate(batch)
"""

from sim.engine.params import Params, Structure, compile_scenario, repeat, take, with_values
from sim.engine.state import WorldState, initial_state
from sim.engine.step import Batch, make_batch, simulate, step

__all__ = [
    "Batch",
    "Params",
    "Structure",
    "WorldState",
    "compile_scenario",
    "initial_state",
    "make_batch",
    "repeat",
    "simulate",
    "step",
    "take",
    "with_values",
]
