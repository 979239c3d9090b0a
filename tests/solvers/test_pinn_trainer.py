"""PINNTrainer and its helpers: a tiny diffusion run whose loss falls, L-BFGS, adaptive and
causal weights, RAR, resampling, callbacks, save/load and the post-processing functions."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn
from fieldgrad.solvers.pinn import (
    IC,
    RAR,
    AdaptiveWeights,
    CausalWeighting,
    DirichletBC,
    PINNTrainer,
    PointSetBC,
    Problem,
    balance_weights,
    causal_weights,
    chunk_losses,
    geometry,
    plot_loss,
    plot_solution,
    predict,
    relative_l2_error,
    worst_points,
)

SPACE_TIME = geometry.GeometryXTime(geometry.Interval(-1.0, 1.0), geometry.TimeDomain(0.0, 1.0))


def diffusion(num_domain=128, **kw):
    """u_t = u_xx - e^{-t} (sin(pi x) - pi^2 sin(pi x)), exact u = e^{-t} sin(pi x)."""

    def pde(x, u):
        s = fg.sin(math.pi * x["x"])
        return u.d("t") - u.d("xx") + fg.exp(-x["t"]) * (s - math.pi**2 * s)

    return Problem(
        SPACE_TIME,
        pde,
        [IC(lambda x: np.sin(np.pi * x[:, 0])), DirichletBC()],
        num_domain=num_domain,
        num_boundary=32,
        num_initial=32,
        **kw,
    )


def net(width=16, seed=0, dtype=None):
    return nn.MLP([2, width, width, 1], key=fg.random.key(seed), dtype=dtype)


def exact(x, t):
    return np.exp(-t) * np.sin(np.pi * x)


def test_tiny_diffusion_run_loss_falls_and_lbfgs_continues():
    prob = diffusion(num_domain=256)
    tr = PINNTrainer(prob, net(), optimizer=nn.optim.adam(5e-3), verbose=False, log_every=50)
    h = tr.train(adam_steps=300)
    assert len(h["loss"]) == 6 and tr.log_steps == [50, 100, 150, 200, 250, 300]
    assert h["loss"][-1] < 0.05 * h["loss"][0], h["loss"]
    assert set(h.keys()) == {"loss", "pde_loss", "ic_loss", "dirichlet_loss"}
    assert len(h.step_loss) == 300
    assert tr._step.cache_info()["misses"] == 1
    before = h["loss"][-1]
    tr.train(lbfgs_steps=60)
    assert tr.lbfgs_result.iterations > 0 and tr.global_step == 300 + tr.lbfgs_result.iterations
    assert h["loss"][-1] < before
    xs, ts = np.linspace(-1, 1, 21), np.linspace(0, 1, 11)
    pred = tr.predict(grid=[xs, ts])
    X, T = np.meshgrid(xs, ts, indexing="ij")
    assert pred.shape == (21, 11) and relative_l2_error(pred, exact(X, T)) < 0.2


def test_adaptive_weights_balance_gradient_norms():
    prob = diffusion()
    tr = PINNTrainer(prob, net(), adaptive=AdaptiveWeights(every=1, alpha=0.0), verbose=False)
    norms = tr._grad_norms(tr.params, tr.rest, tr.points, tr._hyper()).numpy()
    spread = np.std(norms) / np.mean(norms)
    weights = tr.update_weights()
    lam = np.array([weights[n] for n in tr.term_names])
    np.testing.assert_allclose(lam, norms.sum() / norms, rtol=1e-5)
    balanced = lam * norms
    assert np.std(balanced) / np.mean(balanced) < 1e-5 < spread
    # with a moving average the weights move part of the way
    tr2 = PINNTrainer(
        diffusion(), net(), adaptive=AdaptiveWeights(every=5, alpha=0.5), verbose=False, log_every=5
    )
    h = tr2.train(adam_steps=10)
    assert "pde_weight" in h and h["ic_weight"][0] != 1.0
    w = np.array([tr2.weights[n] for n in tr2.term_names])
    assert np.all(w > 0) and not np.allclose(w, 1.0)


def test_balance_weights_formula_and_edge_cases():
    np.testing.assert_allclose(
        balance_weights([1.0, 2.0, 4.0], [1.0, 1.0, 1.0], 0.0), [7.0, 3.5, 1.75]
    )
    np.testing.assert_allclose(
        balance_weights([1.0, 3.0], [2.0, 2.0], 0.9), [0.9 * 2 + 0.1 * 4, 0.9 * 2 + 0.1 * 4 / 3]
    )
    np.testing.assert_allclose(balance_weights([0.0, 2.0], [5.0, 1.0], 0.0), [5.0, 1.0])
    with pytest.raises(ValueError, match="alpha"):
        AdaptiveWeights(alpha=1.0)


def test_causal_weights_formula_and_no_gradient():
    L = fg.tensor([0.5, 1.0, 2.0, 0.1], dtype="float64")
    w = causal_weights(L, 2.0).numpy()
    np.testing.assert_allclose(w, np.exp(-2.0 * np.array([0.0, 0.5, 1.5, 3.5])), rtol=1e-12)
    # the weights carry no gradient: d/dL sum(w L) = w
    g = fg.grad(lambda L: fg.sum(causal_weights(L, 2.0) * L))(L).numpy()
    np.testing.assert_allclose(g, w, rtol=1e-12)
    r2 = fg.tensor([1.0, 3.0, 5.0, 7.0, 9.0], dtype="float64")
    t = fg.tensor([0.0, 0.2, 0.6, 0.7, 1.0], dtype="float64")
    np.testing.assert_allclose(chunk_losses(r2, t, 2, 0.0, 1.0).numpy(), [2.0, 7.0])
    np.testing.assert_allclose(chunk_losses(r2, t, 4, 0.0, 1.0).numpy(), [2.0, 0.0, 6.0, 9.0])


def test_causal_training_runs():
    tr = PINNTrainer(
        diffusion(),
        net(),
        causal=CausalWeighting(num_chunks=4, eps=1.0),
        verbose=False,
        log_every=10,
    )
    h = tr.train(adam_steps=20)
    assert all(np.isfinite(h["loss"])) and h["loss"][-1] < h["loss"][0]


def test_rar_adds_the_worst_points(monkeypatch):
    prob = diffusion()
    tr = PINNTrainer(
        prob, net(), rar=RAR(every=10, num_candidates=50, num_add=4, max_points=6), verbose=False
    )
    cand = SPACE_TIME.sample_interior(50, seed=123)
    monkeypatch.setattr(prob, "sample_domain", lambda n, seed: cand)
    (r,) = prob.pde_residuals(tr.net, fg.tensor(cand, dtype=tr.dtype))
    want = cand[np.argsort(-(r.numpy() ** 2))[:4]]
    added = tr.refine()
    np.testing.assert_allclose(added, want)
    assert prob.data["pde"]["x"].shape == (132, 2) and tr.points["pde"]["x"].shape == (132, 2)
    np.testing.assert_allclose(prob.anchors, want)
    assert len(tr.refine()) == 2 and len(tr.refine()) == 0  # max_points=6
    assert worst_points(cand, r.numpy() ** 2, 4).shape == (4, 2)


def test_rar_and_resampling_during_training():
    prob = diffusion()
    first = prob.data["pde"]["x"].copy()
    tr = PINNTrainer(
        prob,
        net(),
        rar=RAR(every=10, num_candidates=64, num_add=3),
        resample_every=7,
        verbose=False,
    )
    tr.train(adam_steps=25)
    assert tr.rar_added == 6 and prob.anchors.shape == (6, 2)
    assert prob.seed == 3  # resampled at steps 7, 14, 21
    assert not np.array_equal(prob.data["pde"]["x"][:128], first)


def test_inverse_coefficient_is_trained():
    xs = np.linspace(0, 1, 16)[:, None]
    prob = Problem(
        geometry.Interval(0.0, 1.0),
        lambda x, u, lam: u.d("xx") + u.value * lam * math.pi**2,
        [PointSetBC(xs, np.sin(np.pi * xs[:, 0]))],
        num_domain=32,
        variables=("x",),
        parameters={"lam": 0.5},
    )
    tr = PINNTrainer(
        prob, nn.MLP([1, 8, 1], key=fg.random.key(1)), optimizer=nn.optim.adam(1e-2), verbose=False
    )
    tr.train(adam_steps=20)
    assert float(tr.coefficients["lam"]) != 0.5


def test_callbacks_stop_and_step_hooks():
    seen, steps = [], []

    def on_epoch_end(epoch, logs):
        seen.append((epoch, logs["step"], logs["loss"]))
        if epoch == 1:
            cb.trainer.stop = True

    cb = nn.LambdaCallback(on_epoch_end=on_epoch_end, on_step_end=lambda s, logs: steps.append(s))
    tr = PINNTrainer(diffusion(), net(), callbacks=[cb], verbose=False, log_every=5)
    h = tr.train(adam_steps=50, lbfgs_steps=10)
    assert [s for _, s, _ in seen] == [5, 10] and len(h) == 2 and tr.global_step == 10
    assert steps == list(range(10)) and tr.lbfgs_result is None
    es = nn.EarlyStopping(monitor="loss", patience=100)
    PINNTrainer(diffusion(), net(), callbacks=[es], verbose=False, log_every=5).train(10)
    assert es.best_epoch == 1


def test_save_and_load_roundtrip(tmp_path):
    prob = diffusion(parameters={"a": 2.0})
    tr = PINNTrainer(prob, net(), verbose=False, adaptive=AdaptiveWeights(every=5))
    tr.train(adam_steps=6)
    path = tr.save(tmp_path / "pinn")
    other = PINNTrainer(prob, net(seed=5), verbose=False, adaptive=AdaptiveWeights(every=5))
    other.load(path)
    assert other.global_step == 6 and other.weights == pytest.approx(tr.weights)
    for a, b in zip(fg.tree_leaves(other.net), fg.tree_leaves(tr.net)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(fg.tree_leaves(other.opt_state), fg.tree_leaves(tr.opt_state)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert float(other.coefficients["a"]) == float(tr.coefficients["a"])
    assert other.evaluate() == pytest.approx(tr.evaluate())


def test_progress_output(capsys):
    PINNTrainer(diffusion(), net(), verbose=False).train(adam_steps=3, lbfgs_steps=2)
    assert capsys.readouterr().err == ""
    PINNTrainer(diffusion(), net(), verbose=True).train(adam_steps=3)
    assert "adam" in capsys.readouterr().err


def test_predict_plots_and_errors(tmp_path):
    m = net(dtype="float64")
    pts = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 0.2]])
    p = predict(m, pts)
    assert p.shape == (3,) and p.dtype == np.float64
    np.testing.assert_allclose(p, m(fg.tensor(pts)).numpy()[:, 0])
    grid = predict(m, (np.linspace(0, 1, 4), np.linspace(0, 1, 3)), batch_size=5)
    assert grid.shape == (4, 3)
    np.testing.assert_allclose(grid[1, 2], predict(m, [[1 / 3, 1.0]])[0], rtol=1e-12)
    hard = Problem(
        SPACE_TIME,
        lambda x, u: u.d("t"),
        num_domain=4,
        output_transform=lambda x, y: (1 - x["x"] ** 2) * y,
    )
    assert np.allclose(predict(m, [[1.0, 0.3], [-1.0, 0.1]], problem=hard), 0.0)
    with pytest.raises(ValueError, match="exactly one"):
        predict(m)
    with pytest.raises(ValueError, match="shapes"):
        relative_l2_error(np.zeros(3), np.ones(4))
    assert relative_l2_error(np.ones((3, 1)), np.ones(3)) == 0.0
    ref = np.outer(np.linspace(0, 1, 8), np.ones(5))
    path = plot_solution(ref + 0.01, ref, (0, 1, 0, 1), tmp_path / "sol.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    tr = PINNTrainer(diffusion(), net(), verbose=False, log_every=2)
    tr.train(adam_steps=6)
    path = plot_loss(tr.history, tmp_path / "loss.png", steps=tr.log_steps)
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="2-D grid"):
        plot_solution(np.zeros(4), None, None, tmp_path / "x.png")


def test_trainer_errors():
    prob = diffusion()
    with pytest.raises(TypeError, match="Problem"):
        PINNTrainer(None, net())
    with pytest.raises(TypeError, match="AdaptiveWeights"):
        PINNTrainer(prob, net(), adaptive=5)
    with pytest.raises(ValueError, match="unknown term"):
        PINNTrainer(prob, net(), loss_weights={"bc": 1.0})
    with pytest.raises(ValueError, match="resample_every"):
        PINNTrainer(prob, net(), resample_every=0)
    with pytest.raises(ValueError, match="num_add"):
        RAR(num_candidates=3, num_add=5)
    with pytest.raises(ValueError, match=">= 0"):
        PINNTrainer(prob, net(), verbose=False).train(adam_steps=-1)


def test_buffers_stay_fixed_and_eager_matches_jit():
    k1, k2 = fg.random.split(fg.random.key(3))
    model = nn.Sequential([nn.FourierFeatures(2, 4, sigma=1.0, key=k1), nn.MLP([8, 8, 1], key=k2)])
    tr = PINNTrainer(diffusion(), model, verbose=False, log_every=1)
    tr.train(adam_steps=3)
    np.testing.assert_array_equal(tr.net.layers[0].B.numpy(), model.layers[0].B.numpy())
    assert not np.array_equal(
        tr.net.layers[1].layers[0].weight.numpy(), model.layers[1].layers[0].weight.numpy()
    )
    eager = PINNTrainer(diffusion(), model, verbose=False, log_every=1, jit=False)
    eager.train(adam_steps=3)
    np.testing.assert_allclose(eager.history["loss"], tr.history["loss"], rtol=1e-5)
