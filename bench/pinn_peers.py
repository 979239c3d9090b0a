"""The PyTorch and JAX peers of bench/pinn_step.py: the same PINN training step (Burgers,
tanh MLP, mean-squared residual + IC + BC loss, Adam) written as each library's users write it.

* :class:`TorchPINN`: PyTorch eager, ``u_t, u_x`` from one ``torch.autograd.grad(create_graph=
  True)`` call and ``u_xx`` from a second, ``loss.backward()``, ``torch.optim.Adam``;
* :class:`JaxPINN`: ``jax.jit`` of the whole step, ``u_t`` by ``jax.jvp`` along e_t and
  ``u_x, u_xx`` by nested ``jax.jvp`` along e_x, ``jax.value_and_grad``, Adam written out in
  PyTorch's formulation.

Both take the problem of ``pinn_step.make_problem`` (float32 numpy arrays: ``params`` as a list
of ``(W, b)`` with ``W`` of shape (fan_in, fan_out), points with columns (t, x)) and the
hyperparameters ``hp`` (``nu, lr, beta1, beta2, eps``); torch and jax are imported on
construction only. Each has ``step()`` (one training step; ``last`` holds its loss),
``loss()`` (the loss at the current weights) and ``grads()`` (numpy gradients, leaves in the
order W0, b0, W1, b1, ...).
"""

__all__ = ["TorchPINN", "JaxPINN"]


class TorchPINN:
    """PyTorch eager: two ``autograd.grad(create_graph=True)`` calls, ``torch.optim.Adam``."""

    name = "torch"

    def __init__(self, prob: dict, hp: dict):
        import torch

        self.torch, self.hp = torch, hp
        self.params = [
            (torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True))
            for w, b in prob["params"]
        ]
        self.flat = [p for wb in self.params for p in wb]
        self.opt = torch.optim.Adam(
            self.flat, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"]
        )
        self.x_f = torch.tensor(prob["x_f"], requires_grad=True)
        self.d = {k: torch.tensor(prob[k]) for k in ("x_ic", "u_ic", "x_bc", "u_bc")}
        self.last = None

    def _mlp(self, x):
        h = x
        for w, b in self.params[:-1]:
            h = self.torch.tanh(h @ w + b)
        w, b = self.params[-1]
        return h @ w + b

    def _loss(self):
        torch = self.torch
        x = self.x_f
        u = self._mlp(x)
        du = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)[0]
        u_t, u_x = du[:, 0:1], du[:, 1:2]
        d2 = torch.autograd.grad(u_x, x, torch.ones_like(u_x), create_graph=True)[0]
        u_xx = d2[:, 1:2]
        r = u_t + u * u_x - self.hp["nu"] * u_xx
        e_ic = self._mlp(self.d["x_ic"]) - self.d["u_ic"]
        e_bc = self._mlp(self.d["x_bc"]) - self.d["u_bc"]
        return (r * r).mean() + (e_ic * e_ic).mean() + (e_bc * e_bc).mean()

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = self._loss()
        loss.backward()
        self.opt.step()
        self.last = loss.detach()

    def loss(self) -> float:
        return float(self._loss().detach())

    def grads(self) -> list:
        g = self.torch.autograd.grad(self._loss(), self.flat)
        return [x.numpy() for x in g]


class JaxPINN:
    """JAX: ``jax.jit`` of the whole step, nested ``jax.jvp`` for the derivatives."""

    name = "jax"

    def __init__(self, prob: dict, hp: dict):
        import jax
        import jax.numpy as jnp

        self.jax = jax
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in prob["params"]]
        self.data = {k: jnp.asarray(v) for k, v in prob.items() if k != "params"}
        nu, lr, b1, b2, eps = (hp[k] for k in ("nu", "lr", "beta1", "beta2", "eps"))
        zeros = jax.tree_util.tree_map(jnp.zeros_like, self.params)
        self.state = (jnp.zeros((), jnp.float32), zeros, zeros)

        def mlp(p, x):
            h = x
            for w, b in p[:-1]:
                h = jnp.tanh(h @ w + b)
            w, b = p[-1]
            return h @ w + b

        def loss(p, d):
            x = d["x_f"]
            e_t = jnp.broadcast_to(jnp.array([1.0, 0.0], x.dtype), x.shape)
            e_x = jnp.broadcast_to(jnp.array([0.0, 1.0], x.dtype), x.shape)

            def u_of(z):
                return mlp(p, z)

            u, u_t = jax.jvp(u_of, (x,), (e_t,))
            u_x, u_xx = jax.jvp(lambda z: jax.jvp(u_of, (z,), (e_x,))[1], (x,), (e_x,))
            r = u_t + u * u_x - nu * u_xx
            e_ic = mlp(p, d["x_ic"]) - d["u_ic"]
            e_bc = mlp(p, d["x_bc"]) - d["u_bc"]
            return jnp.mean(r * r) + jnp.mean(e_ic * e_ic) + jnp.mean(e_bc * e_bc)

        def step(p, s, d):
            value, g = jax.value_and_grad(loss)(p, d)
            t, m, v = s
            t = t + 1.0
            step_size = lr / (1.0 - b1**t)
            sqrt_bc2 = jnp.sqrt(1.0 - b2**t)
            tm = jax.tree_util.tree_map
            m = tm(lambda mi, gi: b1 * mi + (1.0 - b1) * gi, m, g)
            v = tm(lambda vi, gi: b2 * vi + (1.0 - b2) * gi * gi, v, g)
            p = tm(
                lambda pi, mi, vi: pi - step_size * mi / (jnp.sqrt(vi) / sqrt_bc2 + eps), p, m, v
            )
            return p, (t, m, v), value

        self.step_fn = jax.jit(step)
        self.loss_fn = jax.jit(loss)
        self.grad_fn = jax.jit(jax.grad(loss))
        self.last = None

    def step(self):
        self.params, self.state, self.last = self.step_fn(self.params, self.state, self.data)
        self.last.block_until_ready()

    def loss(self) -> float:
        return float(self.loss_fn(self.params, self.data))

    def grads(self) -> list:
        import numpy as np

        g = self.grad_fn(self.params, self.data)
        return [np.asarray(x) for wb in g for x in wb]
