"""MinHash signatures and LSH band hashes of shingle fingerprints, in numpy.

The values are the ones datasketch's `MinHash(num_perm, seed=1, scheme="affine32",
hashfunc=int)` gives when fed the fingerprints' top 32 bits (tests/test_dedupe.py checks it),
so band hashes stored by earlier releases stay valid. Computing them here saves a Python call
per shingle and the second-long import of datasketch (and scipy) that writers paid before.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SEED = 1  # the permutations' seed: stored band hashes depend on it
_U32 = np.uint64(32)
BLOCK = 1024  # shingles permuted at once: a 512 KiB buffer at 128 permutations


@functools.lru_cache(maxsize=4)
def permutations(num_perm: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """(a, b) of the affine permutations h -> a*h + b mod 2^32, a odd: the seeded draws
    datasketch's affine32 scheme makes (a's 31 high bits first, then b), in that order."""
    rng = np.random.RandomState(SEED)
    a = rng.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = rng.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _premix(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """MurmurHash3's 32-bit finaliser, the bijection affine32 applies before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signatures(
    fingerprint_sets: Sequence[npt.NDArray[np.uint64]], num_perm: int
) -> npt.NDArray[np.uint32]:
    """One MinHash signature (num_perm uint32) per non-empty fingerprint set, as rows.

    Each set is permuted BLOCK shingles at a time as a (permutations x shingles) matrix in one
    reused buffer, and reduced along its rows. The permutations a*h + b are one product of
    [a b] by [h 1]: einsum does it in one pass, about twice as fast as a broadcast multiply
    and add (uint32 arithmetic wraps mod 2^32, as affine32's does).
    """
    a, b = permutations(num_perm)
    coefficients = np.stack([a, b], axis=1)
    out = np.empty((len(fingerprint_sets), num_perm), dtype=np.uint32)
    permuted = np.empty((num_perm, BLOCK), dtype=np.uint32)
    hashed = np.ones((2, BLOCK), dtype=np.uint32)  # rows: h, 1
    part = np.empty(num_perm, dtype=np.uint32)
    for row, fingerprints in enumerate(fingerprint_sets):
        if fingerprints.size == 0:
            raise ValueError("a MinHash signature needs at least one fingerprint")
        values = _premix((fingerprints >> _U32).astype(np.uint32))
        signature = out[row]
        for start in range(0, values.size, BLOCK):
            size = min(BLOCK, values.size - start)
            hashed[0, :size] = values[start : start + size]
            np.einsum("ik,kj->ij", coefficients, hashed[:, :size], out=permuted[:, :size])
            np.minimum.reduce(permuted[:, :size], axis=1, out=signature if start == 0 else part)
            if start:
                np.minimum(signature, part, out=signature)
    return out


def band_hashes(signature: npt.NDArray[np.uint32], bands: int, rows: int) -> list[int]:
    """A signature cut into bands, each hashed with its band number to one signed 64-bit
    integer (what SQLite stores)."""
    values = signature.astype("<u4", copy=False)
    return [
        int.from_bytes(
            hashlib.blake2b(
                band.to_bytes(4, "little") + values[band * rows : (band + 1) * rows].tobytes(),
                digest_size=8,
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(bands)
    ]
