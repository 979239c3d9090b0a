"""Tensor storage: flat, contiguous, 64-byte aligned buffers padded to whole 16-lane groups.

Every tensor's data is a flat buffer in C order; its shape is metadata. On the CPU the buffer
is a numpy array whose data pointer is 64-byte aligned and whose length is padded to a multiple
of 16 elements, so the 16-lane SIMD kernels of the CPU recipe can read it whole; it is passed to
Taichi kernels zero-copy. On a GPU arch the buffer is a 1-D Taichi ndarray.

Bool data is stored as one byte per element (numpy ``bool``; ``uint8`` for kernels).
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import _runtime

# --- raw data pointers ---------------------------------------------------------------------------

_from_address = ctypes.c_void_p.from_address
# CPython's object header; numpy's PyArrayObject stores its ``char *data`` right after it.
_DATA_OFFSET = object.__basicsize__


def _ptr_fast(a: np.ndarray) -> int:
    return _from_address(id(a) + _DATA_OFFSET).value or 0


def _ptr_ctypes(a: np.ndarray) -> int:
    return a.ctypes.data


def _choose_ptr():
    """The fast pointer read if it agrees with ``ndarray.ctypes.data`` on this build."""
    base = np.arange(64, dtype=np.float32)
    probes = [base, base[3:], base[::2], base.reshape(4, 16), np.empty(0), np.zeros(3, np.int64)]
    try:
        if all(_ptr_fast(p) == p.ctypes.data for p in probes):
            return _ptr_fast
    except Exception:  # pragma: no cover - unusual interpreter builds
        pass
    return _ptr_ctypes  # pragma: no cover


data_ptr = _choose_ptr()


ALIGN = 64  # bytes: one AVX-512 register, one cache line
LANES = 16  # elements per SIMD group


def padded_length(n: int) -> int:
    """``n`` rounded up to a whole number of 16-element lane groups (at least one group)."""
    return max(LANES, -(-n // LANES) * LANES)


def aligned_empty(n: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D numpy array of ``padded_length(n)`` elements whose data is 64-byte aligned.

    The padding tail is zero-filled so SIMD kernels that read whole lane groups see finite
    values.
    """
    dtype = np.dtype(dtype)
    length = padded_length(n)
    nbytes = length * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    start = (-data_ptr(raw)) % ALIGN
    buf = raw[start : start + nbytes].view(dtype)
    if length > n:
        buf[n:] = 0
    return buf


def is_aligned(a: np.ndarray) -> bool:
    return a.ctypes.data % ALIGN == 0


def kernel_view(buf):
    """The buffer as a Taichi kernel sees it (bool data as uint8)."""
    if isinstance(buf, np.ndarray) and buf.dtype == np.bool_:
        return buf.view(np.uint8)
    return buf


def _ti_dtype(ti, dtype: np.dtype):
    return {
        "bool": ti.u8,
        "int32": ti.i32,
        "int64": ti.i64,
        "float32": ti.f32,
        "float64": ti.f64,
    }[np.dtype(dtype).name]


# The jit replay recorder (fields/_replay.py) while a plan records its first call, else None.
recorder = None


def empty(n: int, dtype: np.dtype):
    """Uninitialised storage for ``n`` elements on the current arch."""
    if _runtime.is_cpu():
        buf = aligned_empty(n, dtype)
        if recorder is not None:
            recorder.on_alloc(buf, n, dtype)
        return buf
    ti = _runtime.taichi()
    return ti.ndarray(_ti_dtype(ti, dtype), shape=(padded_length(n),))


def _matmul(a, b, out):
    np.matmul(a, b, out=out)


def host_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out[...] = a @ b`` by BLAS on zero-copy views (the CPU matmul path)."""
    if recorder is not None:
        recorder.on_host(_matmul, (a, b, out))
    np.matmul(a, b, out=out)


def from_numpy(a: np.ndarray, dtype: np.dtype):
    """Copy a numpy array (any layout) into new storage of ``dtype``. Returns the buffer."""
    if recorder is not None:
        recorder.on_host_io()
    flat = np.ravel(a)  # copies a non-contiguous array into C order
    n = flat.size
    if _runtime.is_cpu():
        buf = aligned_empty(n, dtype)
        buf[:n] = flat
        return buf
    host = aligned_empty(n, dtype)
    host[:n] = flat
    dev = empty(n, dtype)
    dev.from_numpy(kernel_view(host))
    return dev


def to_numpy(buf, n: int, dtype: np.dtype) -> np.ndarray:
    """The first ``n`` elements of a buffer as a numpy array (a view on the CPU, a copy on GPU)."""
    if recorder is not None:
        recorder.on_host_io()
    if isinstance(buf, np.ndarray):
        return buf[:n]
    host = buf.to_numpy()
    if np.dtype(dtype) == np.bool_:
        host = host.astype(np.bool_)
    return host[:n]
