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
_S11, _S40 = np.uint64(11), np.uint64(40)
_TO_UNIT = 2.0**-53
_TO_UNIT32 = 2.0**-24
_MASK = 2**64 - 1

STREAM_STABILITY = 1
STREAM_RECEPTION = 2
STREAM_EVENTS = 3
STREAM_OBSERVATION = 4
"""Observation noise added to simulated summaries by a noisy calibration (step 0, one draw per
observed cell); the engine itself never draws from it."""


def _mix(x: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """SplitMix64 finaliser on an array of uint64 (wrapping arithmetic), in place.

    ``scratch``, an array of x's shape and dtype, holds the shifted values (a new one each
    call when None).
    """
    if scratch is None:
        scratch = np.empty_like(x)
    x ^= np.right_shift(x, _S30, out=scratch)
    x *= _M1
    x ^= np.right_shift(x, _S27, out=scratch)
    x *= _M2
    x ^= np.right_shift(x, _S31, out=scratch)
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


def _bits(seeds: np.ndarray, step: int, stream: int, n: int) -> np.ndarray:
    """Return n 64-bit hashes per run, (R, n): draw i is mix(key + (i + 1) x golden)."""
    keys = run_keys(seeds, step, stream)
    index = (np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)[None, :]
    return _mix(keys[:, None] + index)


def _unit(bits: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Map 64-bit hashes to [0, 1) with as many bits as the dtype's mantissa holds exactly.

    ``bits`` is overwritten (with the shifted hashes).
    """
    # The shifted hashes fit a signed integer exactly (24 and 53 bits), and numpy converts
    # signed integers to floats much faster than unsigned 64-bit ones (the same values).
    if np.dtype(dtype) == np.float32:
        shifted = np.right_shift(bits, _S40, out=bits).astype(np.int32)
        return shifted.astype(np.float32) * np.float32(_TO_UNIT32)
    shifted = np.right_shift(bits, _S11, out=bits).view(np.int64)
    return shifted.astype(np.float64) * _TO_UNIT


def uniform(
    seeds: np.ndarray, step: int, stream: int, shape: tuple[int, ...],
    dtype: np.dtype = np.float64,
) -> np.ndarray:
    """Uniform draws in [0, 1), shape (R, *shape), each a function of its counter only.

    float64 draws carry 53 random bits, float32 draws 24 (both exact in their type).
    """
    n = int(np.prod(shape)) if shape else 1
    return _unit(_bits(seeds, step, stream, n), dtype).reshape((len(seeds), *shape))


BLOCK_HASHES = 1 << 15
"""Hashes drawn at a time by :func:`normal` (256 KB of uint64: the temporaries stay in cache)."""


def normal(
    seeds: np.ndarray, step: int, stream: int, shape: tuple[int, ...], dtype: np.dtype = np.float64
) -> np.ndarray:
    """Standard normal draws, shape (R, *shape), by the Box-Muller transform (both halves).

    The pair (u1, u2) of draws i and half + i gives normals i (cosine) and half + i (sine).
    Computed in ``dtype``: float32 halves the cost of the transcendental functions. The runs are
    drawn a block at a time (each draw depends on its own counter only, so the numbers are the
    same; the block's temporaries stay in the processor's cache).
    """
    n = int(np.prod(shape)) if shape else 1
    half = (n + 1) // 2
    out = np.empty((len(seeds), 2 * half), dtype=np.dtype(dtype))
    rows = max(1, BLOCK_HASHES // (2 * half))
    for start in range(0, len(seeds), rows):
        _box_muller(seeds[start:start + rows], step, stream, half, out[start:start + rows])
    return out[:, :n].reshape((len(seeds), *shape))


def _box_muller(seeds: np.ndarray, step: int, stream: int, half: int, out: np.ndarray) -> None:
    """Fill ``out`` (R, 2 half) with the runs' normals: cosines first, then sines."""
    u = _unit(_bits(seeds, step, stream, 2 * half), out.dtype)
    radius = np.log1p(-u[:, :half])
    radius *= -2.0
    np.sqrt(radius, out=radius)
    angle = u[:, half:] * (2.0 * np.pi)
    np.multiply(radius, np.cos(angle), out=out[:, :half])
    np.multiply(radius, np.sin(angle), out=out[:, half:])
