"""Counter-based randomness: every draw is a pure function of ``(seed, stream, index)``.

Callers may rely on:
- ``u(seed, stream, i)`` (one index, pure Python) and ``u_array(seed, stream, idx)`` (a numpy array of
  indices) return exactly the same floats in ``[0, 1)`` for the same arguments, so an order can be
  regenerated alone or in a vectorised chunk with identical results;
- nothing here keeps state, so no draw depends on how many other draws were made before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_STREAM = 0xD1B54A32D192ED03
_INV53 = 1.0 / (1 << 53)

T = TypeVar("T")


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _C1) & _M64
    z = ((z ^ (z >> 27)) * _C2) & _M64
    return z ^ (z >> 31)


_KEYS: dict[tuple[int, int], int] = {}


def stream_key(seed: int, stream: int) -> int:
    """The 64-bit key of one named stream of one seed."""
    k = _KEYS.get((seed, stream))
    if k is None:
        k = _mix((_mix(seed & _M64) + (stream * _STREAM)) & _M64)
        _KEYS[(seed, stream)] = k
    return k


def h64(seed: int, stream: int, i: int) -> int:
    """A 64-bit hash of ``(seed, stream, i)``."""
    k = _KEYS.get((seed, stream))
    if k is None:
        k = stream_key(seed, stream)
    z = (k + i * _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * _C1) & _M64
    z = ((z ^ (z >> 27)) * _C2) & _M64
    return z ^ (z >> 31)


def u(seed: int, stream: int, i: int) -> float:
    """A uniform float in ``[0, 1)``."""
    return (h64(seed, stream, i) >> 11) * _INV53


def randint(seed: int, stream: int, i: int, lo: int, hi: int) -> int:
    """An integer in ``[lo, hi]`` (inclusive)."""
    return lo + int(u(seed, stream, i) * (hi - lo + 1))


def choice(seed: int, stream: int, i: int, seq: Sequence[T]) -> T:
    return seq[int(u(seed, stream, i) * len(seq))]


_U64 = np.uint64


def h64_array(seed: int, stream: int, idx: np.ndarray) -> np.ndarray:
    """Vectorised ``h64`` over an integer array of indices (returns uint64)."""
    key = _U64(stream_key(seed, stream))
    with np.errstate(over="ignore"):
        z = key + idx.astype(np.uint64) * _U64(_GOLDEN)
        z = (z ^ (z >> _U64(30))) * _U64(_C1)
        z = (z ^ (z >> _U64(27))) * _U64(_C2)
        z = z ^ (z >> _U64(31))
    return z


def u_array(seed: int, stream: int, idx: np.ndarray) -> np.ndarray:
    """Vectorised ``u``: float64 array in ``[0, 1)``."""
    return (h64_array(seed, stream, idx) >> _U64(11)).astype(np.float64) * _INV53


class Draw:
    """Convenience wrapper for the draws of one index: ``Draw(seed, i).u(stream)``."""

    __slots__ = ("i", "seed")

    def __init__(self, seed: int, i: int) -> None:
        self.seed = seed
        self.i = i

    def u(self, stream: int) -> float:
        return u(self.seed, stream, self.i)

    def randint(self, stream: int, lo: int, hi: int) -> int:
        return lo + int(u(self.seed, stream, self.i) * (hi - lo + 1))

    def choice(self, stream: int, seq: Sequence[T]) -> T:
        return seq[int(u(self.seed, stream, self.i) * len(seq))]

    def h(self, stream: int) -> int:
        return h64(self.seed, stream, self.i)
