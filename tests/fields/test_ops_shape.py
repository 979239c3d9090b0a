"""Shape ops beyond the op-spec table: errors and their messages, promotion, options, and that
no op modifies its inputs."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _launch


def _t(shape, dtype="float32"):
    return fg.tensor(np.arange(int(np.prod(shape))).reshape(shape).astype(dtype))


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda x: fg.moveaxis(x, 3, 0),
        lambda x: fg.moveaxis(x, 0, -4),
        lambda x: fg.flip(x, 3),
        lambda x: fg.roll(x, 1, axis=-4),
        lambda x: fg.concatenate([x, x], axis=3),
        lambda x: fg.stack([x, x], axis=5),
        lambda x: fg.split(x, 1, axis=3),
        lambda x: fg.repeat(x, 2, axis=3),
    ],
)
def test_bad_axis_names_the_ndim(call):
    with pytest.raises(ValueError, match=r"out of range for a tensor of \d dimensions"):
        call(_t((2, 3, 4)))


def test_concatenate_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        fg.concatenate([_t((2, 3)), _t((2, 4))], axis=0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        fg.concatenate([_t((2, 3)), _t((3,))])


def test_concatenate_bad_inputs():
    with pytest.raises(ValueError, match="at least one"):
        fg.concatenate([])
    with pytest.raises(ValueError, match="0-d"):
        fg.concatenate([fg.tensor(1.0), fg.tensor(2.0)])
    with pytest.raises(TypeError, match="sequence"):
        fg.concatenate(_t((2, 3)))


def test_concatenate_promotes_dtypes():
    i32 = fg.tensor(np.array([1, 2], np.int32))
    i64 = fg.tensor(np.array([3], np.int64))
    f32 = fg.tensor(np.array([0.5], np.float32))
    b = fg.tensor(np.array([True]))
    assert fg.concatenate([i32, i64]).dtype == fg.int64
    assert fg.concatenate([i32, f32]).dtype == fg.float32
    out = fg.concatenate([b, i32])
    assert out.dtype == fg.int32
    np.testing.assert_array_equal(out.numpy(), [1, 1, 2])
    mixed = fg.concatenate([f32, [1.5, 2.5], np.array([4.0], np.float32)])
    np.testing.assert_array_equal(mixed.numpy(), np.array([0.5, 1.5, 2.5, 4.0], np.float32))


def test_stack_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        fg.stack([_t((2, 3)), _t((3, 2))])


def test_stack_of_scalars_and_lists():
    np.testing.assert_array_equal(fg.stack([1.0, 2.0]).numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(fg.stack([[1, 2], [3, 4]], axis=1).numpy(), [[1, 3], [2, 4]])


def test_split_unequal_division_and_bad_sections():
    with pytest.raises(ValueError, match="equal division.*length 7 into 3"):
        fg.split(_t((7,)), 3)
    with pytest.raises(ValueError, match=">= 1"):
        fg.split(_t((6,)), 0)
    with pytest.raises(ValueError, match="0-d"):
        fg.split(fg.tensor(1.0), 1)


def test_split_returns_a_list_of_pieces():
    parts = fg.split(_t((2, 6)), [2, 10], axis=1)
    assert isinstance(parts, list) and [p.shape for p in parts] == [(2, 2), (2, 4), (2, 0)]
    np.testing.assert_array_equal(parts[1].numpy(), np.arange(12).reshape(2, 6)[:, 2:])


def test_pad_bad_mode_lists_the_valid_ones():
    with pytest.raises(ValueError, match="constant, edge, periodic, wrap, reflect, symmetric"):
        fg.pad(_t((3,)), 1, mode="mirror")


def test_pad_bad_widths():
    with pytest.raises(ValueError, match=">= 0"):
        fg.pad(_t((3,)), -1)
    with pytest.raises(ValueError, match="one pair per axis"):
        fg.pad(_t((3, 2)), ((1, 2), (3, 4), (5, 6)))
    with pytest.raises(TypeError, match="integers"):
        fg.pad(_t((3,)), 1.5)
    with pytest.raises(ValueError, match="scalar"):
        fg.pad(_t((3,)), 1, constant_values=[1, 2])


def test_pad_wrap_is_periodic_and_constant_value_is_cast():
    x = _t((3, 4))
    np.testing.assert_array_equal(
        fg.pad(x, ((1, 2), (3, 0)), mode="wrap").numpy(),
        fg.pad(x, ((1, 2), (3, 0)), mode="periodic").numpy(),
    )
    y = fg.pad(_t((2,), "int32"), 1, constant_values=7.9)
    assert y.dtype == fg.int32
    np.testing.assert_array_equal(y.numpy(), [7, 0, 1, 7])
    z = fg.pad(_t((2,)), (0, 1), constant_values=fg.tensor(-1.0))
    np.testing.assert_array_equal(z.numpy(), [0.0, 1.0, -1.0])


def test_pad_empty_axis():
    assert fg.pad(_t((0, 2)), 1).shape == (2, 4)
    with pytest.raises(ValueError, match="empty axis 0"):
        fg.pad(_t((0, 2)), 1, mode="reflect")


def test_roll_errors():
    with pytest.raises(ValueError, match="same number"):
        fg.roll(_t((3, 4)), (1, 2), axis=(0,))
    with pytest.raises(ValueError, match="single int"):
        fg.roll(_t((3, 4)), (1, 2))


def test_moveaxis_errors():
    with pytest.raises(ValueError, match="same number"):
        fg.moveaxis(_t((2, 3)), (0, 1), 0)
    with pytest.raises(ValueError, match="repeated"):
        fg.moveaxis(_t((2, 3)), (0, 0), (0, 1))


def test_tile_and_repeat_errors():
    with pytest.raises(ValueError, match=">= 0"):
        fg.tile(_t((3,)), (-1,))
    with pytest.raises(ValueError, match=">= 0"):
        fg.repeat(_t((3,)), [1, -1, 2])
    with pytest.raises(ValueError, match="2 counts given for axis 0 of length 3"):
        fg.repeat(_t((3,)), [1, 2])
    with pytest.raises(TypeError, match="integers"):
        fg.repeat(_t((3,)), 1.5)


def test_repeat_with_tensor_counts():
    out = fg.repeat(_t((3,), "int32"), fg.tensor([0, 2, 1]))
    np.testing.assert_array_equal(out.numpy(), [1, 1, 2])


def test_flip_with_negative_and_duplicate_axes():
    x = _t((2, 3))
    np.testing.assert_array_equal(fg.flip(x, -2).numpy(), np.flip(x.numpy(), -2))
    with pytest.raises(ValueError, match="repeated"):
        fg.flip(x, (0, -2))


# --- value semantics ------------------------------------------------------------------------------

OPS = [
    lambda x: fg.moveaxis(x, 0, 1),
    lambda x: fg.concatenate([x, x], axis=1),
    lambda x: fg.stack([x, x]),
    lambda x: fg.split(x, 2, axis=1)[0],
    lambda x: fg.flip(x),
    lambda x: fg.roll(x, 1, axis=0),
    lambda x: fg.pad(x, 1),
    lambda x: fg.pad(x, 2, mode="reflect"),
    lambda x: fg.tile(x, 2),
    lambda x: fg.repeat(x, [1, 2, 3], axis=0),
]


@pytest.mark.parametrize("op", OPS)
def test_inputs_are_not_modified(op):
    x = _t((3, 4))
    before = np.array(x.numpy())
    out = op(x)
    assert out is not x
    np.testing.assert_array_equal(x.numpy(), before)


def test_kernels_compile_once_per_dtype_not_per_shape():
    def run(n):
        x = _t((n, n + 1))
        fg.concatenate([x, x], axis=1)
        fg.flip(x, 0)
        fg.pad(x, 1, mode="periodic")
        fg.roll(x, 1)
        x[1:, ::2]

    run(3)
    size = _launch.cache_size()
    for n in (4, 5, 7):
        run(n)
    assert _launch.cache_size() == size
