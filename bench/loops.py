"""A time-stepping loop under jit: fieldgrad's one-kernel ``fori_loop`` beside PyTorch and JAX.

Workload (keep exact): a damped oscillator per element, ``a = -4 x - 0.1 v; v += 0.01 a;
x += 0.01 v``, ``STEPS`` explicit steps over ``N`` independent float32 elements (x from
linspace(-1, 1, N), v = 0), the whole rollout one call. Implementations:

* ``fg-eager``: ``fg.fori_loop`` outside jit (one kernel per operation and step);
* ``fg-jit-plan``: ``fg.jit`` with the loop body run as its compiled plan once per step (the
  one-kernel form switched off);
* ``fg-jit``: ``fg.jit``, the loop as one generated kernel (``fields/_loop.py``);
* ``torch``: a Python loop of PyTorch eager ops; ``jax``: ``jax.lax.fori_loop`` under
  ``jax.jit``.

One thread, pinned to one core (set before the imports). Every implementation's final x and v
are compared with fieldgrad's eager result (float32 tolerance). Blocks of about ``--block``
seconds are interleaved A B C ...; the table gives medians and min-max; the last line printed
is one JSON object with every figure and the ratios (< 1: fieldgrad's one-kernel loop is
faster).

Usage:
    python bench/loops.py            # N = 5003, 1000 steps
    python bench/loops.py --quick    # fewer repetitions
"""

import argparse
import json
import os
import sys

N, STEPS = 5003, 1000


def _pin():
    core = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {core})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


def _fg(n: int, steps: int):
    import numpy as np

    import fieldgrad as fg

    fg.init(arch="cpu", cpu_max_num_threads=1)

    def body(i, c):
        x, v = c
        a = -x * 4.0 - 0.1 * v
        v = v + 0.01 * a
        return (x + 0.01 * v, v)

    def rollout(x, v):
        return fg.fori_loop(0, steps, body, (x, v))

    x = fg.tensor(np.linspace(-1.0, 1.0, n).astype(np.float32))
    v = fg.zeros_like(x)
    jit_kernel = fg.jit(rollout)
    jit_plan = fg.jit(rollout)
    jit_kernel(x, v)
    jit_plan(x, v)
    (e,) = jit_plan.graph(x, v).eqns
    body_p = e.params["body"]
    body_p.plan()
    kernel_used = bool(body_p._kernel)
    body_p._kernel = False  # private switch, for this comparison only
    ref = [t.numpy().copy() for t in rollout(x, v)]
    impls = {
        "fg-eager": lambda: rollout(x, v),
        "fg-jit-plan": lambda: jit_plan(x, v),
        "fg-jit": lambda: jit_kernel(x, v),
    }
    return impls, ref, kernel_used


def _torch(n: int, steps: int):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    x0 = torch.linspace(-1.0, 1.0, n, dtype=torch.float32)

    def run():
        x, v = x0.clone(), torch.zeros_like(x0)
        for _ in range(steps):
            a = -x * 4.0 - 0.1 * v
            v = v + 0.01 * a
            x = x + 0.01 * v
        return x, v

    return run


def _jax(n: int, steps: int):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_platforms", "cpu")

    def body(i, c):
        x, v = c
        a = -x * 4.0 - 0.1 * v
        v = v + 0.01 * a
        return (x + 0.01 * v, v)

    f = jax.jit(lambda x, v: jax.lax.fori_loop(0, steps, body, (x, v)))
    x0 = jnp.linspace(-1.0, 1.0, n, dtype=jnp.float32)
    v0 = jnp.zeros_like(x0)
    f(x0, v0)[0].block_until_ready()
    return lambda: f(x0, v0)[0].block_until_ready()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=N)
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--block", type=float, default=None)
    ap.add_argument("--reps", type=int, default=None)
    a = ap.parse_args(argv)
    block = a.block or (0.2 if a.quick else 0.5)
    reps = a.reps or (3 if a.quick else 7)
    _pin()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    from _harness import cpu_model, interleaved, ratio, stats

    impls, ref, kernel_used = _fg(a.n, a.steps)
    agree = {}
    for name, fn in [("torch", _torch(a.n, a.steps)), ("jax", _jax(a.n, a.steps))]:
        if fn is None:
            continue
        impls[name] = fn
    for name, fn in impls.items():
        out = fn()
        x = out[0] if isinstance(out, tuple) else out
        x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, np.float64)
        agree[name] = bool(np.allclose(x, ref[0], rtol=1e-4, atol=1e-5))
    samples = interleaved(impls, block, reps)
    res = {
        "benchmark": "loops",
        "n": a.n,
        "steps": a.steps,
        "cpu": cpu_model(),
        "one_kernel": kernel_used,
        "agree": agree,
        "ms": {k: {s: v * 1e3 for s, v in stats(x).items()} for k, x in samples.items()},
        "ratio_fg_jit_over": {k: ratio(samples, "fg-jit", k) for k in impls if k != "fg-jit"},
    }
    print(f"oscillator rollout: {a.n} float32 elements, {a.steps} steps, one pinned core")
    print(f"{'impl':>12s} {'ms median [min-max]':>26s} {'fg-jit / impl':>14s} agree")
    for k in impls:
        m = res["ms"][k]
        r = res["ratio_fg_jit_over"].get(k)
        rs = f"{r:.3f}" if r is not None else "-"
        cell = f"{m['median']:.3f} [{m['min']:.3f}-{m['max']:.3f}]"
        print(f"{k:>12s} {cell:>26s} {rs:>14s} {agree[k]}")
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
