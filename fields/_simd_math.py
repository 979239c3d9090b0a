"""Float32 transcendentals written as vector arithmetic, for the 16-lane SIMD kernels.

On real vectors (``real_matrix_scalarize=False``) ``ti.exp``, ``ti.tanh``, ``ti.sin``, unary
minus, comparisons, ``ti.select`` and casts abort the process, so every function here uses only
``+ - * /``, ``ti.min``/``ti.max`` and ``ti.floor`` on whole vectors, and builds anything else
(integer exponent tricks, special-value selects) lane by lane with ``ti.static(range(lanes))``,
which LLVM re-vectorises. The kernels that use them compile with ``fast_math=False``: with fast
math LLVM folds the range-reduction steps and drops the NaN tests.

Accuracy (float32, against a float64 reference, measured over wide random ranges): exp and
log 1.2e-7 relative, tanh 3.6e-7 relative, sin/cos 6e-8 absolute, sigmoid 1.6e-7 relative.
Special values follow the C library: NaN propagates (the clamps of exp and tanh would map it to
a number, so a lane-wise select restores it), exp overflows to inf and underflows to 0, log(0)
= -inf, log(x < 0) = NaN, sin/cos(inf) = NaN. sin and cos hand a lane group holding ``|x| >
8192`` (beyond the exact range of the reduction), inf or NaN to the scalar C library.

Each factory takes ``(ti, lanes)`` and returns a ``@ti.func`` of one vector.
"""

import math

# exp: Cephes expf. x = n ln2 + r with ln2 split so that n * LN2_HI is exact.
_LOG2E = 1.44269504088896341
_LN2_HI = 0.693359375
_LN2_LO = -2.12194440e-4
_EXP_P = (
    1.9875691500e-4,
    1.3981999507e-3,
    8.3334519073e-3,
    4.1665795894e-2,
    1.6666665459e-1,
    5.0000001201e-1,
)
# Below EXP_LO every result rounds to 0, above EXP_HI to inf; 2^n is applied as two factors so
# n may range over [-151, 129] without leaving the normal exponent range.
_EXP_LO = -104.0
_EXP_HI = 89.0

# tanh: the Eigen/XLA rational approximation, exact to float32 rounding at the clamp.
_TANH_CLAMP = 7.90531110763549805
_TANH_ALPHA = (
    -2.76076847742355e-16,
    2.00018790482477e-13,
    -8.60467152213735e-11,
    5.12229709037114e-08,
    1.48572235717979e-05,
    6.37261928875436e-04,
    4.89352455891786e-03,
)
_TANH_BETA = (
    1.19825839466702e-06,
    1.18534705686654e-04,
    2.26843463243900e-03,
    4.89352518554385e-03,
)

# sin/cos: x = j pi/2 + r, pi/2 in three parts (8, 11 and 24 bits): j * part is exact for
# j < 2^13, so the vector path serves |x| <= 8192 and hands larger lanes to the C library.
_TWO_OVER_PI = 0.636619772367581343
_PIO2 = (1.5703125, 4.837512969970703125e-4, 7.54978995489188216e-8)
_SIN_P = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_COS_P = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
SINCOS_LIMIT = 8192.0

# log: Cephes logf on the mantissa in [sqrt(1/2), sqrt(2)).
_SQRTH = 0.707106781186547524
_LOG_P = (
    7.0376836292e-2,
    -1.1514610310e-1,
    1.1676998740e-1,
    -1.2420140846e-1,
    1.4249322787e-1,
    -1.6668057665e-1,
    2.0000714765e-1,
    -2.4999993993e-1,
    3.3333331174e-1,
)


def exp_f32(ti, lanes: int):
    """``exp`` on a float32 vector: Cephes range reduction and a degree-6 polynomial."""
    p0, p1, p2, p3, p4, p5 = _EXP_P

    @ti.func
    def scale(y, n):
        # y * 2**n for an integral float n in [-252, 254], as two normal powers of two (in
        # this order, so that y * 2**128 overflows only when the result does).
        k = ti.cast(n, ti.i32)
        h = k >> 1
        a = ti.bit_cast((h + 127) << 23, ti.f32)
        b = ti.bit_cast((k - h + 127) << 23, ti.f32)
        return (y * a) * b

    @ti.func
    def f(x):
        xc = ti.min(ti.max(x, _EXP_LO), _EXP_HI)
        n = ti.floor(xc * _LOG2E + 0.5)
        r = xc - n * _LN2_HI
        r = r - n * _LN2_LO
        z = r * r
        p = p0 * r + p1
        p = p * r + p2
        p = p * r + p3
        p = p * r + p4
        p = p * r + p5
        y = p * z + r + 1.0
        return ti.Vector(
            [ti.select(x[j] == x[j], scale(y[j], n[j]), x[j]) for j in ti.static(range(lanes))]
        )

    return f


def tanh_f32(ti, lanes: int):
    """``tanh`` on a float32 vector: the 13/6 rational approximation clamped at +-7.9053.

    The clamp maps NaN to a finite value, so a lane-wise select restores NaN.
    """
    a13, a11, a9, a7, a5, a3, a1 = _TANH_ALPHA
    b6, b4, b2, b0 = _TANH_BETA

    @ti.func
    def f(x):
        xc = ti.min(ti.max(x, -_TANH_CLAMP), _TANH_CLAMP)
        x2 = xc * xc
        p = x2 * a13 + a11
        p = x2 * p + a9
        p = x2 * p + a7
        p = x2 * p + a5
        p = x2 * p + a3
        p = x2 * p + a1
        p = xc * p
        q = x2 * b6 + b4
        q = x2 * q + b2
        q = x2 * q + b0
        y = p / q
        return ti.Vector([ti.select(x[j] == x[j], y[j], x[j]) for j in ti.static(range(lanes))])

    return f


def _sincos_f32(ti, lanes: int, cosine: bool):
    s0, s1, s2 = _SIN_P
    c0, c1, c2 = _COS_P
    d1, d2, d3 = _PIO2
    shift = 1.0 if cosine else 0.0

    @ti.func
    def vector_path(x):
        j = ti.floor(x * _TWO_OVER_PI + 0.5)
        r = x - j * d1
        r = r - j * d2
        r = r - j * d3
        z = r * r
        s = ((s0 * z + s1) * z + s2) * z * r + r
        c = ((c0 * z + c1) * z + c2) * z * z - 0.5 * z + 1.0
        q = j + shift  # quadrant; cos(x) = sin(x + pi/2)
        q = q - 4.0 * ti.floor(q * 0.25)  # 0, 1, 2, 3
        half = ti.floor(q * 0.5)  # 0 for quadrants 0-1, 1 for 2-3: the sign flips
        odd = q - 2.0 * half  # 1 in quadrants 1 and 3: the cosine polynomial
        sign = 1.0 - 2.0 * half
        return ti.Vector(
            [ti.select(odd[k] > 0.5, c[k], s[k]) * sign[k] for k in ti.static(range(lanes))]
        )

    @ti.func
    def f(x):
        ok = 1
        for k in ti.static(range(lanes)):
            ok = ok & ti.cast(ti.abs(x[k]) <= SINCOS_LIMIT, ti.i32)
        y = x
        if ok == 1:
            y = vector_path(x)
        else:
            for k in ti.static(range(lanes)):
                if ti.static(cosine):
                    y[k] = ti.cos(x[k])
                else:
                    y[k] = ti.sin(x[k])
        return y

    return f


def sin_f32(ti, lanes: int):
    """``sin`` on a float32 vector: 3-part Cody-Waite reduction by pi/2, Cephes polynomials."""
    return _sincos_f32(ti, lanes, False)


def cos_f32(ti, lanes: int):
    """``cos`` on a float32 vector (as :func:`sin_f32`, one quadrant on)."""
    return _sincos_f32(ti, lanes, True)


def log_f32(ti, lanes: int):
    """``log`` on a float32 vector: Cephes logf, the exponent split off by integer operations.

    Classification and the subnormal split use the bit pattern, not float comparisons, so the
    result does not depend on the denormals-are-zero mode Taichi sets on its threads (the C
    library's ``logf`` does not either).
    """
    p = _LOG_P
    inf = math.inf
    nan = math.nan

    @ti.func
    def f(x):
        m = x  # mantissa - 1, for a mantissa in [sqrt(1/2), sqrt(2))
        e = x  # exponent
        for j in ti.static(range(lanes)):
            b = ti.bit_cast(x[j], ti.i32)
            sub = b < 0x00800000  # (for b > 0) subnormal: x = b * 2**-149, b exact in float32
            w = ti.select(sub, ti.bit_cast(ti.cast(b, ti.f32), ti.i32), b)
            ej = ti.cast((w >> 23) - 126, ti.f32) - ti.select(sub, 149.0, 0.0)
            mj = ti.bit_cast((w & 0x007FFFFF) | 0x3F000000, ti.f32)  # in [0.5, 1)
            low = mj < _SQRTH
            e[j] = ej - ti.select(low, 1.0, 0.0)
            m[j] = ti.select(low, mj + mj, mj) - 1.0
        z = m * m
        y = p[0] * m + p[1]
        for k in ti.static(range(2, 9)):
            y = y * m + p[k]
        y = y * m * z
        y = y + e * _LN2_LO
        y = y - 0.5 * z
        r = m + y
        r = r + e * _LN2_HI
        out = r
        for j in ti.static(range(lanes)):
            b = ti.bit_cast(x[j], ti.i32)
            special = ti.select((b & 0x7FFFFFFF) == 0, -inf, nan)  # log(+-0), log(x < 0)
            special = ti.select(b == 0x7F800000, inf, special)
            special = ti.select(b > 0x7F800000, x[j], special)  # NaN stays NaN
            out[j] = ti.select((b > 0) & (b < 0x7F800000), r[j], special)
        return out

    return f


def sigmoid_f32(ti, lanes: int):
    """The logistic function on a float32 vector, from ``e = exp(-|x|)`` (never overflows):
    ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` below (relative accuracy for x << 0)."""
    exp = exp_f32(ti, lanes)

    @ti.func
    def f(x):
        e = exp(ti.min(x, -1.0 * x))
        q = 1.0 / (1.0 + e)
        eq = e * q
        return ti.Vector([ti.select(x[j] >= 0.0, q[j], eq[j]) for j in ti.static(range(lanes))])

    return f
