"""How a sweep's runs are numbered, seeded and cut into chunks (pure functions of the file).

Run ``r`` is seed replicate ``r % seeds`` of sample ``r // seeds``. A chunk holds whole
samples: chunk ``i`` is samples ``[i * chunk_samples, (i + 1) * chunk_samples)``. Neither the
number of workers nor the executor enters these functions, so a restarted sweep maps the same
runs to the same chunks and every run gets the same seed.

Run seeds: run ``r``'s seed is the ``(r + 1)``-th output of a SplitMix64 generator (Steele, Lea
and Flood 2014) whose state starts at ``mix(sweep_seed x 0x9E3779B97F4A7C15)``, shifted right
by one bit so it fits a scenario seed (below 2**63)::

    seed(r) = mix(mix(sweep_seed * G) + (r + 1) * G) >> 1      (uint64 arithmetic, G golden)

where ``mix`` is SplitMix64's finaliser, the same one the engine's random numbers use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.random import _GOLDEN, _mix


def run_seeds(sweep_seed: int, run_ids: np.ndarray) -> np.ndarray:
    """Return the seed of each run, from the sweep seed and the run ids (uint64, below 2**63)."""
    state = _mix(np.array([sweep_seed], dtype=np.uint64) * _GOLDEN)
    counter = (np.asarray(run_ids, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
    return _mix(state + counter) >> np.uint64(1)


@dataclass(frozen=True)
class Chunk:
    """One chunk of a sweep: whole samples, all their seeds.

    Attributes:
        index: Chunk number (0-based).
        first_sample: First sample id.
        n_samples: Number of samples.
        seeds_per_sample: Seeds per sample.

    """

    index: int
    first_sample: int
    n_samples: int
    seeds_per_sample: int

    @property
    def n_runs(self) -> int:
        """Number of runs in the chunk."""
        return self.n_samples * self.seeds_per_sample

    @property
    def run_ids(self) -> np.ndarray:
        """The chunk's run ids (int64), in order."""
        first = self.first_sample * self.seeds_per_sample
        return np.arange(first, first + self.n_runs, dtype=np.int64)

    @property
    def sample_ids(self) -> np.ndarray:
        """The sample id of each run (int64)."""
        return self.run_ids // self.seeds_per_sample


def chunks(n_samples: int, chunk_samples: int, seeds_per_sample: int) -> list[Chunk]:
    """Cut samples into chunks of ``chunk_samples`` (the last one may be smaller)."""
    return [
        Chunk(i, start, min(chunk_samples, n_samples - start), seeds_per_sample)
        for i, start in enumerate(range(0, n_samples, chunk_samples))
    ]


def locate(run_id: int, seeds_per_sample: int, chunk_samples: int) -> tuple[int, int, int]:
    """Return (sample id, seed index, chunk index) of a run."""
    sample = run_id // seeds_per_sample
    return sample, run_id % seeds_per_sample, sample // chunk_samples
