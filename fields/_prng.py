"""The counter-based generator behind :mod:`fieldgrad.fields.random`: Threefry-2x32.

Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC 2011; the generator JAX uses) maps a 64-bit key and a 64-bit counter to 64 random bits with
32-bit additions, rotations and xors only, so every arch computes the same bits. Element ``i``
of a sample draws the block ``threefry(key, (i, stream))`` for small stream numbers, which makes
every element independent of the thread that computes it and of the sample's shape: the first
``m`` elements of a sample of ``n > m`` values equal a sample of ``m`` values.

Key derivation uses counters no sample uses (a second word of ``0xFFFFFFFE`` for ``split``,
``0xFFFFFFFF`` for ``fold_in``), so derived keys never repeat the bits of a sample.

This file holds the Python implementation (for key derivation on the host) and the Taichi
kernels that sample; both are checked against the published known-answer vectors.
"""

import numpy as np

from . import _buffer, _dtypes, _runtime

MASK32 = 0xFFFFFFFF
SPLIT_STREAM = 0xFFFFFFFE
FOLD_STREAM = 0xFFFFFFFF
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK32


def threefry2x32(key: tuple, counter: tuple) -> tuple:
    """Threefry-2x32-20 of a key (k0, k1) and a counter (c0, c1), all 32-bit words."""
    k0, k1 = key
    ks = (k0, k1, _PARITY ^ k0 ^ k1)
    x0 = (counter[0] + ks[0]) & MASK32
    x1 = (counter[1] + ks[1]) & MASK32
    for s in range(5):
        for r in _ROTATIONS[s % 2]:
            x0 = (x0 + x1) & MASK32
            x1 = _rotl(x1, r) ^ x0
        x0 = (x0 + ks[(s + 1) % 3]) & MASK32
        x1 = (x1 + ks[(s + 2) % 3] + s + 1) & MASK32
    return x0, x1


# --- Taichi side --------------------------------------------------------------------------------


def _funcs(ti):
    """``@ti.func`` helpers: threefry on u32 words and bit-to-float conversions."""

    @ti.func
    def rotl(x, r: ti.template()):
        return (x << ti.u32(r)) | ti.bit_shr(x, ti.u32(32 - r))

    @ti.func
    def threefry(k0, k1, c0, c1):
        k2 = ti.u32(_PARITY) ^ k0 ^ k1
        x0 = c0 + k0
        x1 = c1 + k1
        for s in ti.static(range(5)):
            for r in ti.static(_ROTATIONS[s % 2]):
                x0 = x0 + x1
                x1 = rotl(x1, r) ^ x0
            # key injection: x0 += ks[(s+1)%3]; x1 += ks[(s+2)%3] + s + 1
            if ti.static((s + 1) % 3 == 0):
                x0 = x0 + k0
            elif ti.static((s + 1) % 3 == 1):
                x0 = x0 + k1
            else:
                x0 = x0 + k2
            if ti.static((s + 2) % 3 == 0):
                x1 = x1 + k0 + ti.u32(s + 1)
            elif ti.static((s + 2) % 3 == 1):
                x1 = x1 + k1 + ti.u32(s + 1)
            else:
                x1 = x1 + k2 + ti.u32(s + 1)
        return x0, x1

    @ti.func
    def unit_f32(x0):
        # 24 random bits -> [0, 1 - 2**-24], exact in float32
        return ti.cast(ti.bit_shr(x0, ti.u32(8)), ti.f32) * ti.f32(5.9604644775390625e-08)

    @ti.func
    def unit_f64(x0, x1):
        # 53 random bits -> [0, 1 - 2**-53], exact in float64
        hi = ti.cast(ti.bit_shr(x0, ti.u32(11)), ti.f64)
        return (hi * 4294967296.0 + ti.cast(x1, ti.f64)) * ti.f64(1.1102230246251565e-16)

    @ti.func
    def word64(x0, x1):
        return (ti.cast(x0, ti.u64) << ti.u64(32)) | ti.cast(x1, ti.u64)

    return rotl, threefry, unit_f32, unit_f64, word64


def bits_kernel():
    """A kernel writing threefry(key, (i, stream)) words as int64 (for the known-answer test)."""
    ti = _runtime.taichi()
    _, threefry, _, _, _ = _funcs(ti)

    @ti.kernel
    def bits_k(y: ti.types.ndarray(ndim=1), n: ti.i32, k0: ti.u32, k1: ti.u32, c1: ti.u32):
        for i in range(n):
            a, b = threefry(k0, k1, ti.cast(i, ti.u32), c1)
            y[2 * i] = ti.cast(a, ti.i64)
            y[2 * i + 1] = ti.cast(b, ti.i64)

    return bits_k


def float_kernel(dist: str, dt: np.dtype, serial: bool):
    """Uniform or normal samples: y[i] = a + b * z_i (z uniform in [0,1) or standard normal).

    For "uniform" the result is clamped to ``below``, the largest value under ``maxval``.
    """
    ti = _runtime.taichi()
    _, threefry, unit_f32, unit_f64, _ = _funcs(ti)
    f64 = dt == _dtypes.float64
    ft = ti.f64 if f64 else ti.f32
    normal = dist == "normal"
    two_pi = 6.283185307179586

    @ti.kernel
    def sample_k(
        y: ti.types.ndarray(ndim=1),
        n: ti.i32,
        k0: ti.u32,
        k1: ti.u32,
        a: ft,
        b: ft,
        below: ft,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            c = ti.cast(i, ti.u32)
            x0, x1 = threefry(k0, k1, c, ti.u32(0))
            v = ft(0.0)
            if ti.static(normal):
                # Box-Muller; u1 in (0, 1] so log(u1) is finite
                u1 = ft(0.0)
                u2 = ft(0.0)
                if ti.static(f64):
                    y0, y1 = threefry(k0, k1, c, ti.u32(1))
                    u1 = ti.f64(1.0) - unit_f64(x0, x1)
                    u2 = unit_f64(y0, y1)
                else:
                    u1 = ti.f32(1.0) - unit_f32(x0)
                    u2 = unit_f32(x1)
                z = ti.sqrt(ft(-2.0) * ti.log(u1)) * ti.cos(ft(two_pi) * u2)
                v = a + b * z
            else:
                u = ft(0.0)
                if ti.static(f64):
                    u = unit_f64(x0, x1)
                else:
                    u = unit_f32(x0)
                v = ti.min(a + u * (b - a), below)
            y[i] = v

    return sample_k


def integer_kernel(dt: np.dtype, serial: bool):
    """Integers low + (w mod r) from 64-bit words w, rejecting w < thresh (no modulo bias).

    ``r == 0`` stands for a range of 2**64 (every word is kept).
    """
    ti = _runtime.taichi()
    _, threefry, _, _, word64 = _funcs(ti)
    out_t = _buffer._ti_dtype(ti, dt)

    @ti.kernel
    def integers_k(
        y: ti.types.ndarray(ndim=1),
        n: ti.i32,
        k0: ti.u32,
        k1: ti.u32,
        low: ti.u64,
        r: ti.u64,
        thresh: ti.u64,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            c = ti.cast(i, ti.u32)
            x0, x1 = threefry(k0, k1, c, ti.u32(0))
            w = word64(x0, x1)
            s = ti.u32(0)
            while w < thresh:
                s += ti.u32(1)
                x0, x1 = threefry(k0, k1, c, s)
                w = word64(x0, x1)
            m = w
            if r != ti.u64(0):
                m = w % r
            y[i] = ti.cast(ti.cast(low + m, ti.i64), out_t)

    return integers_k


def bernoulli_kernel(serial: bool):
    """Booleans x0 < thresh for 32-bit words x0: probability exactly thresh / 2**32."""
    ti = _runtime.taichi()
    _, threefry, _, _, _ = _funcs(ti)

    @ti.kernel
    def bernoulli_k(y: ti.types.ndarray(ndim=1), n: ti.i32, k0: ti.u32, k1: ti.u32, thresh: ti.u64):
        ti.loop_config(serialize=serial)
        for i in range(n):
            x0, _x1 = threefry(k0, k1, ti.cast(i, ti.u32), ti.u32(0))
            y[i] = ti.cast(ti.cast(x0, ti.u64) < thresh, ti.u8)

    return bernoulli_k


def permutation_kernel(serial: bool):
    """A Fisher-Yates shuffle of 0..n-1 (one serial loop: a true permutation by construction).

    Step ``i`` (from n-1 down to 1) swaps y[i] with y[j], j uniform in [0, i] drawn from the
    words threefry(key, (i, s)) with rejection of the biased low range.
    """
    ti = _runtime.taichi()
    _, threefry, _, _, _ = _funcs(ti)

    @ti.kernel
    def permutation_k(y: ti.types.ndarray(ndim=1), n: ti.i32, k0: ti.u32, k1: ti.u32):
        ti.loop_config(serialize=serial)
        for i in range(n):
            y[i] = i
        ti.loop_config(serialize=True)
        for t in range(n - 1):
            i = n - 1 - t
            r = ti.cast(i + 1, ti.u32)
            thresh = (ti.u32(0) - r) % r
            s = ti.u32(0)
            x0, _x1 = threefry(k0, k1, ti.cast(i, ti.u32), s)
            while x0 < thresh:
                s += ti.u32(1)
                x0, _x1 = threefry(k0, k1, ti.cast(i, ti.u32), s)
            j = ti.cast(x0 % r, ti.i32)
            tmp = y[i]
            y[i] = y[j]
            y[j] = tmp

    return permutation_k
