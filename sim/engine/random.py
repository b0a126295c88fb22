"""Counter-based random numbers: every draw is a pure function of (seed, step, stream, index).

Nothing is carried from draw to draw, so run k of a batch gets exactly the numbers it would get
alone, whatever the batch size, chunking or number of workers. The generator hashes the counter
with SplitMix64's finaliser (Steele, Lea and Flood 2014), the mixing function behind Java's
SplittableRandom and numpy's seeding, applied twice to the run key and once per draw.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 2.0**-53
_MASK = 2**64 - 1

STREAM_STABILITY = 1
STREAM_RECEPTION = 2
STREAM_EVENTS = 3


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on an array of uint64 (wrapping arithmetic), in place."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def run_keys(seeds: np.ndarray, step: int, stream: int) -> np.ndarray:
    """Return one 64-bit key per run for a (step, stream) pair.

    Args:
        seeds: Run seeds, shape (R,), non-negative integers below 2**63.
        step: The step number.
        stream: Which kind of draw (a STREAM_* constant).
    """
    counter = np.uint64((((step << 8) | stream) * int(_GOLDEN)) & _MASK)
    key = np.asarray(seeds, dtype=np.uint64) * _GOLDEN
    key ^= counter
    return _mix(_mix(key))


def uniform(seeds: np.ndarray, step: int, stream: int, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform draws in [0, 1), float64, shape (R, *shape), each a function of its counter only."""
    keys = run_keys(seeds, step, stream)
    n = int(np.prod(shape)) if shape else 1
    index = (np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)[None, :]
    bits = _mix(keys[:, None] + index)
    return ((bits >> _S11).astype(np.float64) * _TO_UNIT).reshape((len(keys), *shape))


def normal(
    seeds: np.ndarray, step: int, stream: int, shape: tuple[int, ...], dtype: np.dtype = np.float64
) -> np.ndarray:
    """Standard normal draws, shape (R, *shape), by the Box-Muller transform (both halves)."""
    n = int(np.prod(shape)) if shape else 1
    half = (n + 1) // 2
    u = uniform(seeds, step, stream, (2, half))
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 0]))
    angle = (2.0 * np.pi) * u[:, 1]
    pair = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return pair[:, :n].reshape((len(seeds), *shape)).astype(dtype, copy=False)
