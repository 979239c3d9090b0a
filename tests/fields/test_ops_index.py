"""Indexing beyond the op-spec table: out-of-range and unsupported indices, functional updates
leaving their input unchanged, duplicate-index accumulation, and the clamp of traced indices."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _core, _index_kernels
from fieldgrad.fields._core import Trace, Tracer, new_main
from fieldgrad.fields._ops_gather import gather_p


def _t(shape, dtype="float32"):
    return fg.tensor(np.arange(int(np.prod(shape))).reshape(shape).astype(dtype))


# --- out of range ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index,message",
    [
        (3, "index 3 is out of bounds for axis 0 with size 3"),
        (-4, "index -4 is out of bounds for axis 0 with size 3"),
        ((0, 4), "index 4 is out of bounds for axis 1 with size 4"),
        ((slice(None), -5), "index -5 is out of bounds for axis 1 with size 4"),
        (([0, 3],), "index 3 is out of bounds for axis 0 with size 3"),
        ((slice(None), [1, -5]), "index -5 is out of bounds for axis 1 with size 4"),
        ((0, [7]), "index 7 is out of bounds for axis 1 with size 4"),
        ((fg.tensor([0, 9]),), "index 9 is out of bounds for axis 0 with size 3"),
        ((1, fg.tensor(np.array([-5], np.int64))), "index -5 is out of bounds for axis 1"),
    ],
)
def test_out_of_range_index_names_index_and_size(index, message):
    x = _t((3, 4))
    with pytest.raises(IndexError, match=message):
        x[index]
    with pytest.raises(IndexError, match=message):
        x.at[index].set(0.0)


def test_take_and_friends_out_of_range():
    x = _t((3, 4))
    with pytest.raises(IndexError, match="index 12 is out of bounds for axis 0 with size 12"):
        fg.take(x, [12])
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        fg.take(x, fg.tensor([[0, 4]]), axis=1)
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        fg.take_along_axis(x, fg.tensor([[-4]]), axis=0)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        fg.index_add(x, 0, [3], np.ones((1, 4)))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1 with size 4"):
        fg.gather(x, [[0, 5]])
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        fg.scatter_add(x, fg.tensor([[-4]]), 1.0)


def test_index_range_kernel():
    idx = fg.tensor(np.array([3, -7, 2, 11, 0], np.int64))
    assert _index_kernels.index_range(idx) == (-7, 11)
    big = fg.tensor(np.arange(300000, dtype=np.int32) - 5)
    assert _index_kernels.index_range(big) == (-5, 299994)


def test_traced_indices_are_clamped_by_the_kernel():
    # What a traced (unchecked) index does: the kernel clamps instead of reading outside.
    x = fg.tensor([10.0, 20.0, 30.0])
    idx = fg.tensor([[5], [-1], [-9]])
    out = gather_p.bind(x, idx, axes=(0,), x_dims=(-1,), idx_dims=(0,))
    np.testing.assert_array_equal(out.numpy(), [30.0, 30.0, 10.0])


# --- unsupported indices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mask",
    [
        lambda: fg.tensor([True, False, True]),
        lambda: np.array([True, False, True]),
        lambda: [True, False, True],
        lambda: True,
    ],
)
def test_bool_mask_is_rejected_pointing_to_where(mask):
    x = _t((3,))
    with pytest.raises(TypeError, match="fg.where"):
        x[mask()]


def test_other_bad_indices():
    x = _t((3, 4))
    with pytest.raises(IndexError, match="too many indices.*2-dimensional, but 3"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(IndexError, match="integer type"):
        x[[0.5]]
    with pytest.raises(IndexError, match="integer type"):
        x[fg.tensor([0.5])]
    with pytest.raises(TypeError, match="invalid index of type str"):
        x["a"]
    with pytest.raises(TypeError, match="invalid index of type float"):
        x[1.0]
    with pytest.raises(IndexError, match="could not be broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    with pytest.raises(ValueError, match="only 'raise'"):
        fg.take(x, [0], mode="clip")


def test_setitem_points_to_at():
    x = _t((3,))
    with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
        x[0] = 1.0


# --- indexing details -----------------------------------------------------------------------------


def test_newaxis_and_iteration():
    x = _t((2, 3))
    assert fg.newaxis is None
    assert x[fg.newaxis, :, fg.newaxis].shape == (1, 2, 1, 3)
    rows = [r.tolist() for r in x]
    assert rows == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_slices_beyond_the_bounds_and_long_steps():
    a = np.arange(30).reshape(5, 6)
    x = fg.tensor(a)
    for index in [np.s_[10:-10:-3], np.s_[-100:100:4, ::-5], np.s_[4:1:-2, 7:], np.s_[..., -1::-7]]:
        np.testing.assert_array_equal(x[index].numpy(), a[index])


def test_index_dtypes_int64_and_numpy_integers():
    a = np.arange(12).reshape(3, 4)
    x = fg.tensor(a)
    i64 = fg.tensor(np.array([2, 0], np.int64))
    np.testing.assert_array_equal(x[i64, np.int64(1)].numpy(), a[[2, 0], 1])
    np.testing.assert_array_equal(x[np.int32(-1)].numpy(), a[-1])
    np.testing.assert_array_equal(x[np.array(1)].numpy(), a[1])


def test_getitem_result_is_a_new_tensor_with_the_dtype():
    x = _t((3, 4), "int32")
    y = x[1:, [0, 0]]
    assert y.dtype == fg.int32 and y.shape == (2, 2)


# --- functional updates ---------------------------------------------------------------------------

UPDATES = [
    lambda x: x.at[1].set(-1.0),
    lambda x: x.at[:, ::-2].add(5.0),
    lambda x: x.at[[0, 0, 2]].add(1.0),
    lambda x: x.at[1:, [1, 3]].multiply(2.0),
    lambda x: x.at[..., fg.tensor([0, 0])].set(fg.tensor([[7.0, 8.0]] * 3)),
    lambda x: fg.index_add(x, 1, [0, 0], np.ones((3, 2), np.float32)),
    lambda x: fg.scatter_add(x, [[0, 1], [0, 1]], 1.0),
    lambda x: fg.take(x, [1, 1], axis=1),
    lambda x: fg.take_along_axis(x, fg.tensor([[0], [1], [2]]), axis=1),
]


@pytest.mark.parametrize("update", UPDATES)
def test_inputs_are_not_modified(update):
    x = _t((3, 4))
    before = np.array(x.numpy())
    out = update(x)
    assert out is not x
    np.testing.assert_array_equal(x.numpy(), before)


def test_at_duplicates_accumulate_like_add_at():
    x = _t((4, 3))
    idx = np.array([0, 3, 0, 0, 1])
    v = np.arange(15, dtype=np.float32).reshape(5, 3)
    want = np.array(x.numpy())
    np.add.at(want, idx, v)
    np.testing.assert_array_equal(x.at[idx].add(v).numpy(), want)
    np.testing.assert_array_equal(x.at[fg.tensor(idx)].add(fg.tensor(v)).numpy(), want)


def test_scatter_add_many_duplicates_in_parallel():
    # Large enough for a parallel loop: the atomic adds must not lose updates.
    n = 300000
    idx = (np.arange(n) % 7).reshape(-1, 1)
    out = fg.scatter_add(fg.tensor(np.zeros(7, np.int32)), fg.tensor(idx.astype(np.int32)), 1)
    np.testing.assert_array_equal(out.numpy(), np.bincount(idx[:, 0], minlength=7))
    outf = fg.index_add(fg.tensor(np.zeros(7)), 0, idx[:, 0], np.full(n, 0.5))
    np.testing.assert_allclose(outf.numpy(), 0.5 * np.bincount(idx[:, 0], minlength=7))


def test_at_value_broadcast_and_dtype():
    x = _t((3, 4), "int32")
    y = x.at[:, 1].set(2.7)
    assert y.dtype == fg.int32
    np.testing.assert_array_equal(y.numpy()[:, 1], [2, 2, 2])
    with pytest.raises(ValueError, match=r"shape \(2,\).*indexed shape \(3,\)"):
        x.at[:, 1].set([1, 2])


def test_at_get_and_bool_updates():
    x = _t((3, 4))
    np.testing.assert_array_equal(x.at[1:, [0, 2]].get().numpy(), x.numpy()[1:, [0, 2]])
    b = fg.tensor(np.array([True, False, False]))
    np.testing.assert_array_equal(b.at[[1, 1]].add(True).numpy(), [True, True, False])
    np.testing.assert_array_equal(b.at[:].multiply(False).numpy(), [False, False, False])
    np.testing.assert_array_equal(b.at[2].set(True).numpy(), [True, False, True])


def test_index_add_alpha_and_shape_error():
    x = fg.tensor(np.zeros((2, 3)))
    out = fg.index_add(x, -1, [2, 2], np.ones((2, 2)), alpha=0.5)
    np.testing.assert_array_equal(out.numpy(), [[0, 0, 1.0], [0, 0, 1.0]])
    with pytest.raises(ValueError, match=r"source of shape \(3, 2\).*\(2, 2\)"):
        fg.index_add(x, 1, [0, 1], np.ones((3, 2)))


def test_gather_and_scatter_add_are_adjoint():
    # <gather(x), u> == <x, scatter_add(0, u)>: scatter_add is the transpose of gather.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 3))
    idx = rng.integers(-4, 4, size=(6, 2, 1))
    u = rng.normal(size=(6, 2, 5, 3))
    g = fg.gather(x, idx).numpy()
    s = fg.scatter_add(np.zeros_like(x), idx, u).numpy()
    np.testing.assert_allclose(np.sum(g * u), np.sum(x * s), rtol=1e-12)


# --- random indices against numpy ----------------------------------------------------------------


def _random_index(rng, shape):
    items, k = [], 0
    for _ in range(rng.integers(0, len(shape) + 2)):
        n = shape[k] if k < len(shape) else 1
        r = rng.integers(0, 6)
        if r == 0 and n:
            item = int(rng.integers(-n, n))
        elif r in (1, 2) or n == 0:
            lo, hi = int(rng.integers(-n - 2, n + 3)), int(rng.integers(-n - 2, n + 3))
            lo, hi = (None if rng.random() < 0.3 else b for b in (lo, hi))
            step = None if rng.random() < 0.3 else int(rng.choice([-3, -2, -1, 1, 2, 3]))
            item = slice(lo, hi, step)
        elif r == 3:
            item = None
        else:
            a = rng.integers(-n, n, size=tuple(rng.integers(0, 3, size=rng.integers(0, 3))))
            item = fg.tensor(a.astype(np.int32)) if rng.random() < 0.4 else a
        if k >= len(shape) and item is not None:
            break
        items.append(item)
        k += item is not None
    if rng.random() < 0.3:
        items.insert(rng.integers(0, len(items) + 1), Ellipsis)
    return tuple(items)


def test_random_indices_match_numpy():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(400):
        shape = tuple(int(s) for s in rng.integers(0, 5, size=rng.integers(0, 4)))
        a = rng.normal(size=shape)
        x = fg.tensor(a)
        index = _random_index(rng, shape)
        np_index = tuple(i.numpy() if isinstance(i, fg.Tensor) else i for i in index)
        try:
            want = a[np_index]
        except IndexError:
            with pytest.raises(IndexError):
                x[index]
            continue
        np.testing.assert_array_equal(x[index].numpy(), want, err_msg=str(np_index))
        v = rng.normal(size=want.shape)
        added = np.array(a)
        np.add.at(added, np_index, v)
        np.testing.assert_allclose(x.at[index].add(v).numpy(), added, err_msg=str(np_index))
        np.testing.assert_array_equal(x.numpy(), a)
        checked += 1
    assert checked > 300


# --- under a trace --------------------------------------------------------------------------------


class _EvalTracer(Tracer):
    def __init__(self, trace, value):
        self._trace = trace
        self.value = value

    @property
    def aval(self):
        return _core.get_aval(self.value)


class _CheckingTrace(Trace):
    """Evaluates each primitive and checks its abstract_eval against the result."""

    def pure(self, val):
        return _EvalTracer(self, val)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        values = [t.value for t in tracers]
        out = prim.impl(*values, **params)
        aval = prim.abstract_eval(*[v.aval for v in values], **params)
        assert (aval.shape, aval.dtype) == (out.shape, out.dtype), prim.name
        return _EvalTracer(self, out)


def _under_trace(f, *args):
    with new_main(_CheckingTrace) as main:
        trace = _CheckingTrace(main)
        out = f(*[_EvalTracer(trace, a) for a in args])
        outs = out if isinstance(out, list) else [out]
        values = [_core.full_raise(trace, o).value for o in outs]
    return values if isinstance(out, list) else values[0]


TRACED = [
    lambda x, i: x[1, ::-1, None],
    lambda x, i: x[:, [0, 2], 1:],
    lambda x, i: x[..., i],
    lambda x, i: x[i[:2], :, i[1:]],
    lambda x, i: fg.take(x, i, axis=1),
    lambda x, i: fg.take_along_axis(x, fg.reshape(i[:2], (1, 1, 2)), -1),
    lambda x, i: fg.index_add(x, 2, i, 1.0),
    lambda x, i: x.at[i].add(1.0),
    lambda x, i: x.at[0, 1:].set(2.0),
    lambda x, i: x.at[:, i].multiply(2.0),
    lambda x, i: fg.concatenate([x, x], 1),
    lambda x, i: fg.stack([x, x], -1),
    lambda x, i: fg.split(x, [1, 2], axis=2),
    lambda x, i: fg.flip(x),
    lambda x, i: fg.roll(x, 2, 1),
    lambda x, i: fg.pad(x, 1, mode="reflect"),
    lambda x, i: fg.pad(x, 1, constant_values=3.0),
    lambda x, i: fg.tile(x, 2),
    lambda x, i: fg.repeat(x, [1, 2, 0], 1),
    lambda x, i: fg.moveaxis(x, 0, -1),
]


@pytest.mark.parametrize("f", TRACED)
def test_ops_bind_primitives_under_a_trace(f):
    # Traced data and traced indices (unchecked, clamped) give the eager results.
    x = fg.tensor(np.arange(24.0).reshape(2, 3, 4))
    i = fg.tensor([1, 0, -1])
    got, want = _under_trace(f, x, i), f(x, i)
    for g, w in zip(
        got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]
    ):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
