"""Trainer and fit: convergence to a known solution, jit tracing, state, freezing, keys,
callbacks (early stopping, checkpoints, user functions), history, progress output, plot."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((50, 3)).astype(np.float32)
W_TRUE = np.array([[1.5], [-2.0], [0.5]], np.float32)
Y = (X @ W_TRUE + 0.25).astype(np.float32)


class Affine(nn.Module):
    weight: fg.Tensor
    bias: fg.Tensor

    def __call__(self, x):
        return x @ self.weight + self.bias


class Counting(nn.Module):
    """An affine map that records how many examples it saw in training (a buffer)."""

    inner: Affine
    seen: fg.Tensor = nn.buffer()
    training: bool = True

    def __call__(self, x):
        if self.training:
            nn.record(self, seen=self.seen + float(x.shape[0]))
        return self.inner(x)


def _affine(seed=1):
    k1, k2 = fg.random.split(fg.random.key(seed))
    return Affine(fg.random.normal(k1, (3, 1)), fg.random.normal(k2, (1,)))


def mse_loss(model, x, y):
    return nn.losses.mse(model(x), y)


def test_fits_linear_regression_to_the_known_solution():
    trainer = nn.Trainer(_affine(), nn.optim.adam(0.05), mse_loss)
    history = trainer.fit((X, Y), epochs=60, batch_size=10, verbose=False)
    np.testing.assert_allclose(trainer.model.weight.numpy(), W_TRUE, atol=2e-3)
    np.testing.assert_allclose(trainer.model.bias.numpy(), [0.25], atol=2e-3)
    assert history["loss"][-1] < 1e-5 < history["loss"][0]
    assert len(history) == 60 and len(history["loss"]) == 60
    assert len(history.step_loss) == 60 * 5
    assert trainer.global_step == 300 and trainer.epoch == 60
    assert int(fg.tree_leaves(trainer.opt_state)[0]) == 300  # the optimiser's step count
    ev = trainer.evaluate((X, Y))
    assert ev["loss"] == pytest.approx(float(mse_loss(trainer.model, fg.tensor(X), Y)), rel=1e-5)
    pred = trainer.predict(X, batch_size=16)
    np.testing.assert_allclose(pred.numpy(), trainer.model(fg.tensor(X)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(trainer.predict(X).numpy(), pred.numpy(), rtol=1e-6)


def test_step_is_traced_once_per_batch_shape():
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    trainer.fit((X, Y), epochs=3, batch_size=16, validation=(X[:20], Y[:20]), verbose=False)
    info = trainer.cache_info()
    assert info["train"]["misses"] == 2  # batches of 16 and the last of 2
    assert info["train"]["hits"] == 3 * 4 - 2
    assert info["eval"]["misses"] == 1


def test_jit_and_eager_steps_agree():
    models = []
    for jit in (True, False):
        trainer = nn.Trainer(_affine(), nn.optim.adam(0.01), mse_loss, jit=jit)
        trainer.fit((X, Y), epochs=2, batch_size=25, verbose=False)
        models.append(trainer.model)
    np.testing.assert_allclose(models[0].weight.numpy(), models[1].weight.numpy(), rtol=1e-5)
    assert not np.allclose(models[0].weight.numpy(), _affine().weight.numpy())


def test_aux_values_validation_and_metrics_in_the_logs():
    def loss_fn(model, x, y):
        err = model(x) - y
        return fg.mean(err * err), {"max_err": fg.max(fg.abs(err))}

    def within(pred, y):
        return fg.mean(fg.astype(fg.less(fg.abs(pred - y), 1.0), "float32"))

    trainer = nn.Trainer(_affine(), nn.optim.adam(0.05), loss_fn, metrics={"within": within})
    h = trainer.fit((X, Y), epochs=4, batch_size=10, validation=(X[:30], Y[:30]), verbose=False)
    assert set(h.keys()) == {"loss", "max_err", "val_loss", "val_max_err", "val_within"}
    assert all(len(v) == 4 for v in h.history.values())
    ev = trainer.evaluate((X[:30], Y[:30]), batch_size=7)
    pred = trainer.model(fg.tensor(X[:30])).numpy()
    assert ev["within"] == pytest.approx(np.mean(np.abs(pred - Y[:30]) < 1.0), abs=1e-6)
    assert ev["loss"] == pytest.approx(np.mean((pred - Y[:30]) ** 2), rel=1e-5)
    assert h["val_loss"][-1] == pytest.approx(ev["loss"], rel=1e-5)


def test_buffers_are_updated_through_apply_and_not_trained():
    model = Counting(_affine(), seen=fg.zeros(()))
    trainer = nn.Trainer(model, nn.optim.sgd(0.01), mse_loss)
    assert "seen" not in nn.named_parameters(trainer.params)
    trainer.fit((X, Y), epochs=2, batch_size=20, verbose=False)
    assert float(trainer.model.seen) == 100.0  # two epochs of 50 examples
    assert trainer.model.training is False  # fit leaves the model in eval mode
    trainer.evaluate((X, Y))
    assert float(trainer.model.seen) == 100.0  # evaluation records nothing


def test_filter_freezes_the_other_parameters():
    model = _affine()
    trainer = nn.Trainer(model, nn.optim.adam(0.05), mse_loss, filter="bias")
    trainer.fit((X, Y), epochs=2, batch_size=10, verbose=False)
    np.testing.assert_array_equal(trainer.model.weight.numpy(), model.weight.numpy())
    assert not np.allclose(trainer.model.bias.numpy(), model.bias.numpy())
    with pytest.raises(ValueError, match="no trainable float parameters"):
        nn.Trainer(model, nn.optim.sgd(0.1), mse_loss, filter="nothing.here")


def test_loss_with_a_key_gets_a_fresh_key_each_step_and_none_in_evaluation():
    seen = []

    def loss_fn(model, x, y, *, key=None):
        if key is None:
            return mse_loss(model, x, y)
        noise = fg.random.uniform(key, (), dtype="float32")
        return mse_loss(model, x, y), {"noise": noise}

    rec = nn.LambdaCallback(on_step_end=lambda step, logs: seen.append(logs["noise"]))
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), loss_fn, callbacks=[rec], seed=3)
    trainer.fit((X, Y), epochs=2, batch_size=10, verbose=False)
    assert len(seen) == 10 and len(set(seen)) == 10 and all(0 <= s < 1 for s in seen)
    assert trainer.cache_info()["train"]["misses"] == 1  # the key is traced, not static
    assert set(trainer.evaluate((X, Y))) == {"loss"}
    again = []
    rec2 = nn.LambdaCallback(on_step_end=lambda step, logs: again.append(logs["noise"]))
    nn.Trainer(_affine(), nn.optim.sgd(0.01), loss_fn, callbacks=[rec2], seed=3).fit(
        (X, Y), epochs=2, batch_size=10, verbose=False
    )
    assert again == seen  # reproducible from the seed


def _scripted(values):
    """A callback that writes values[epoch] into the logs as 'val_score'."""

    def put(epoch, logs):
        logs["val_score"] = values[epoch]

    return nn.LambdaCallback(on_epoch_end=put)


def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best():
    models = []
    keep = nn.LambdaCallback(on_epoch_end=lambda e, logs: models.append(trainer.model))
    stop = nn.EarlyStopping(monitor="val_score", patience=2)
    scores = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 1.0, 0.5]
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    h = trainer.fit(
        (X, Y), epochs=8, batch_size=25, callbacks=[_scripted(scores), keep, stop], verbose=False
    )
    assert stop.best_epoch == 2 and stop.best == 3.0
    assert stop.stopped_epoch == 5 and len(h) == 6 and trainer.epoch == 6
    assert trainer.model.weight is models[2].weight  # restored the best epoch's model
    lazy = nn.EarlyStopping(monitor="val_score", patience=0, min_delta=1.5, restore_best=False)
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    h = trainer.fit(
        (X, Y), epochs=8, batch_size=25, callbacks=[_scripted(scores), lazy], verbose=False
    )
    assert lazy.stopped_epoch == 1 and len(h) == 2  # 5.0 -> 4.0 is less than min_delta
    maxi = nn.EarlyStopping(monitor="val_acc", patience=1, restore_best=False)
    assert maxi.mode == "max"


def test_early_stopping_names_a_missing_monitor():
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    with pytest.raises(KeyError, match="val_loss.*pass validation data"):
        trainer.fit((X, Y), epochs=2, callbacks=[nn.EarlyStopping()], verbose=False)


def test_model_checkpoint_files_are_written_and_loadable(tmp_path):
    every = nn.ModelCheckpoint(tmp_path / "all" / "ep{epoch:02d}.npz", monitor="loss")
    best = nn.ModelCheckpoint(tmp_path / "best.npz", monitor="val_score", save_best_only=True)
    full = nn.ModelCheckpoint(tmp_path / "full", monitor="loss", save_optimizer=True)
    trainer = nn.Trainer(_affine(), nn.optim.adam(0.01), mse_loss)
    scores = [3.0, 2.0, 2.5, 1.0]
    trainer.fit(
        (X, Y),
        epochs=4,
        batch_size=25,
        callbacks=[_scripted(scores), every, best, full],
        verbose=False,
    )
    names = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert names == ["ep01.npz", "ep02.npz", "ep03.npz", "ep04.npz"]
    assert len(best.saved) == 3 and best.best == 1.0  # epochs 1, 2 and 4 improved
    last = nn.load(tmp_path / "all" / "ep04.npz", _affine(9))
    np.testing.assert_array_equal(last.weight.numpy(), trainer.model.weight.numpy())
    np.testing.assert_array_equal(
        nn.load(best.saved[-1], _affine(9)).bias.numpy(), trainer.model.bias.numpy()
    )
    opt = nn.optim.adam(0.01)
    ck = nn.load_checkpoint(full.saved[-1], model=_affine(9), opt_state=opt.init(_affine(9)))
    assert ck["step"] == trainer.global_step == 8


def test_user_callback_sees_every_hook_with_logs():
    calls = []
    cb = nn.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("begin",)),
        on_epoch_begin=lambda e, logs: calls.append(("epoch_begin", e)),
        on_step_end=lambda s, logs: calls.append(("step", s, sorted(logs))),
        on_epoch_end=lambda e, logs: calls.append(("epoch_end", e, sorted(logs))),
        on_train_end=lambda logs: calls.append(("end", sorted(logs))),
    )
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    trainer.fit((X, Y), epochs=2, batch_size=25, validation=(X, Y), callbacks=[cb], verbose=False)
    assert calls[0] == ("begin",) and calls[1] == ("epoch_begin", 0)
    assert calls[2] == ("step", 0, ["loss"]) and calls[3] == ("step", 1, ["loss"])
    assert calls[4] == ("epoch_end", 0, ["loss", "val_loss"])
    assert [c[0] for c in calls].count("step") == 4
    assert calls[-1] == ("end", ["loss", "val_loss"])


def test_a_callback_can_stop_in_the_middle_of_an_epoch():
    def stop_at_3(step, logs):
        if step == 3:
            trainer.stop = True

    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    h = trainer.fit(
        (X, Y),
        epochs=5,
        batch_size=10,
        callbacks=[nn.LambdaCallback(on_step_end=stop_at_3)],
        verbose=False,
    )
    assert trainer.global_step == 4 and len(h) == 1 and len(h.step_loss) == 4


def test_terminate_on_nan():
    def bad_loss(model, x, y):
        return mse_loss(model, x, y) * fg.log(fg.tensor(-1.0))

    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), bad_loss, callbacks=[nn.TerminateOnNaN()])
    trainer.fit((X, Y), epochs=3, batch_size=10, verbose=False)
    assert trainer.global_step == 1


def test_verbose_false_prints_nothing_and_true_draws_a_bar(capsys):
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.01), mse_loss)
    trainer.fit((X, Y), epochs=2, batch_size=10, validation=(X, Y), verbose=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    trainer.fit((X, Y), epochs=1, batch_size=10, validation=(X, Y), verbose=True)
    out = capsys.readouterr()
    assert out.out == ""
    assert "epoch 3/3" in out.err and "5/5" in out.err and "val_loss" in out.err
    assert "steps/s" in out.err and out.err.endswith("\n")


def test_functional_fit_and_history_plot(tmp_path):
    model, history = nn.fit(
        _affine(),
        nn.optim.adam(0.05),
        mse_loss,
        (X, Y),
        epochs=3,
        batch_size=10,
        validation=(X, Y),
        verbose=False,
    )
    assert isinstance(model, Affine) and len(history["val_loss"]) == 3
    fig = history.plot(tmp_path / "curves.png", log_scale=True)
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(KeyError, match="val_loss"):
        history.plot(keys=["nope"])


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="optimizer"):
        nn.Trainer(_affine(), object(), mse_loss)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        nn.Trainer(_affine(), nn.optim.sgd(0.1), "mse")
    trainer = nn.Trainer(_affine(), nn.optim.sgd(0.1), lambda m, x, y: m(x) - y)
    with pytest.raises(TypeError, match="scalar loss"):
        trainer.fit((X, Y), epochs=1, verbose=False)
    loader = nn.DataLoader((X, Y), batch_size=10)
    with pytest.raises(ValueError, match="conflicts"):
        nn.Trainer(_affine(), nn.optim.sgd(0.1), mse_loss).fit(loader, batch_size=5)
    with pytest.raises(ValueError, match="no batch"):
        nn.Trainer(_affine(), nn.optim.sgd(0.1), mse_loss).fit(
            nn.DataLoader((X, Y), batch_size=64, drop_last=True), verbose=False
        )


def test_progress_bar_throttles_redraws_and_is_quiet_off_a_terminal():
    import io

    from fieldgrad.nn.train import ProgressBar

    calls = []

    def logs():
        calls.append(1)
        return {"loss": 0.5}

    out = io.StringIO()
    bar = ProgressBar(1000, desc="epoch 1/1", stream=out, interactive=True, max_rate=10)
    for _ in range(1000):
        bar.update(1, logs=logs)
    bar.close({"loss": 0.25})
    assert 2 <= out.getvalue().count("\r") <= 10 and len(calls) <= 9  # not one per step
    assert out.getvalue().endswith("\n") and "1000/1000 loss 0.25" in out.getvalue()
    quiet = io.StringIO()
    bar = ProgressBar(5, stream=quiet)  # a StringIO is no terminal: final line only
    for _ in range(5):
        bar.update(1, logs=logs)
    bar.close({"loss": 1.0})
    assert quiet.getvalue().count("\r") == 1 and quiet.getvalue().count("\n") == 1
    off = io.StringIO()
    bar = ProgressBar(5, stream=off, enabled=False, interactive=True)
    bar.update(5)
    bar.close({"loss": 1.0})
    assert off.getvalue() == ""


def test_reduce_lr_on_plateau_changes_the_rate_in_the_jitted_step_without_retrace():
    import fieldgrad as fg
    from fieldgrad import nn

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]
    model = nn.Linear(3, 1, key=fg.random.key(0))
    opt = nn.optim.scale_learning_rate(nn.optim.sgd(0.05))
    seen = []
    cb = nn.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0)
    spy = nn.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(nn.optim.get_lr_scale(tr.opt_state))
    )
    tr = nn.Trainer(model, opt, lambda m, a, b: nn.losses.mse(m(a), b), callbacks=[cb, spy])
    tr.fit((x, y), epochs=3, batch_size=64, verbose=False)
    tr.opt_state = nn.optim.set_lr_scale(tr.opt_state, 1e-30)  # the rate now lives in the state
    before = tr.model.weight.numpy().copy()
    tr.fit((x, y), epochs=1, batch_size=64, verbose=False)
    np.testing.assert_allclose(tr.model.weight.numpy(), before, atol=1e-12)
    assert tr.cache_info()["train"]["misses"] == 1
    assert all(s <= 1.0 for s in seen)


def test_lr_callbacks_need_a_scaled_optimiser():
    import fieldgrad as fg
    from fieldgrad import nn

    tr = nn.Trainer(
        nn.Linear(2, 1, key=fg.random.key(0)),
        nn.optim.sgd(0.1),
        lambda m, a, b: nn.losses.mse(m(a), b),
        callbacks=[nn.ReduceLROnPlateau(monitor="loss")],
    )
    x = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match="scale_learning_rate"):
        tr.fit((x, np.zeros((4, 1), np.float32)), epochs=1, verbose=False)
