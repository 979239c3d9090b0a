"""Float64 exp, tanh and the logistic function as vector arithmetic, for the 8-lane SIMD kernels.

The same rules as the float32 bodies of ``_simd_math.py`` (only ``+ - * /``, ``ti.min``,
``ti.max`` and ``ti.floor`` on whole vectors; anything else lane by lane), with the double
precision Cephes approximations:

* exp: ``x = n ln2 + r`` (ln2 in two parts), ``exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2))``
  (a degree 2/3 Pade form), then ``2^n`` applied as two normal powers of two;
* tanh: ``x + x^3 P(x^2) / Q(x^2)`` for ``|x| < 0.625``, else ``1 - 2 / (exp(2|x|) + 1)`` with
  the sign of x;
* logistic: ``1 / (1 + e)`` or ``e / (1 + e)`` from ``e = exp(-|x|)``.

Accuracy against numpy (tests/fields/test_simd.py): about 2e-16 relative for exp and the
logistic function, 3e-16 for tanh. NaN propagates; exp overflows to inf above 709.8 and
underflows to 0 below -745.2.
"""

_LOG2E = 1.4426950408889634074
_C1 = 6.93145751953125e-1
_C2 = 1.42860682030941723212e-6
_EXP_P = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
_EXP_Q = (
    3.00198505138664455042e-6,
    2.52448340349684104192e-3,
    2.27265548208155028766e-1,
    2.00000000000000000009e0,
)
_EXP_LO = -746.0
_EXP_HI = 710.0

_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)
_TANH_SMALL = 0.625


def exp_f64(ti, lanes: int):
    """``exp`` on a float64 vector (Cephes range reduction and Pade form)."""
    p0, p1, p2 = _EXP_P
    q0, q1, q2, q3 = _EXP_Q

    @ti.func
    def scale(y, n):
        # y * 2**n for an integral float n in [-1077, 1025], as two normal powers of two.
        k = ti.cast(n, ti.i64)
        h = k >> 1
        a = ti.bit_cast((h + 1023) << 52, ti.f64)
        b = ti.bit_cast((k - h + 1023) << 52, ti.f64)
        return (y * a) * b

    @ti.func
    def f(x):
        xc = ti.min(ti.max(x, _EXP_LO), _EXP_HI)
        n = ti.floor(xc * _LOG2E + 0.5)
        r = xc - n * _C1
        r = r - n * _C2
        z = r * r
        p = p0 * z + p1
        p = p * z + p2
        p = p * r
        q = q0 * z + q1
        q = q * z + q2
        q = q * z + q3
        y = 1.0 + 2.0 * (p / (q - p))
        return ti.Vector(
            [ti.select(x[j] == x[j], scale(y[j], n[j]), x[j]) for j in ti.static(range(lanes))]
        )

    return f


def tanh_f64(ti, lanes: int):
    """``tanh`` on a float64 vector: a rational form near 0, ``exp`` beyond 0.625."""
    exp = exp_f64(ti, lanes)
    p0, p1, p2 = _TANH_P
    q0, q1, q2 = _TANH_Q

    @ti.func
    def f(x):
        ax = ti.max(x, 0.0 - x)
        z = x * x
        p = p0 * z + p1
        p = p * z + p2
        q = z + q0
        q = q * z + q1
        q = q * z + q2
        small = x + x * z * (p / q)
        big = 1.0 - 2.0 / (exp(2.0 * ax) + 1.0)
        return ti.Vector(
            [
                ti.select(
                    ax[j] < _TANH_SMALL,
                    small[j],
                    ti.select(x[j] < 0.0, 0.0 - big[j], big[j]),
                )
                for j in ti.static(range(lanes))
            ]
        )

    return f


def sigmoid_f64(ti, lanes: int):
    """The logistic function on a float64 vector, from ``e = exp(-|x|)`` (never overflows)."""
    exp = exp_f64(ti, lanes)

    @ti.func
    def f(x):
        e = exp(ti.min(x, -1.0 * x))
        q = 1.0 / (1.0 + e)
        eq = e * q
        return ti.Vector([ti.select(x[j] >= 0.0, q[j], eq[j]) for j in ti.static(range(lanes))])

    return f
