"""Layouts and byte orders: big-endian, strided, negative strides, F-order,
read-only and unaligned inputs give SciPy's answer and are never modified."""
import hashlib

import numpy as np
import pytest
import scipy.signal as ss

import jitconv
from jitconv.kernels import direct as kd


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def unaligned(a):
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    u = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    u[...] = a
    return u


def variants(a):
    yield "c", a
    yield "big-endian", a.astype(a.dtype.newbyteorder(">"))
    yield "fortran", np.asfortranarray(a)
    big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
    big[tuple(slice(None, None, 2) for _ in a.shape)] = a
    yield "strided", big[tuple(slice(None, None, 2) for _ in a.shape)]
    r = np.ascontiguousarray(a[tuple(slice(None, None, -1) for _ in a.shape)])
    yield "negative-stride", r[tuple(slice(None, None, -1) for _ in a.shape)]
    ro = a.copy()
    ro.flags.writeable = False
    yield "read-only", ro
    yield "unaligned", unaligned(a)


FUNCS = [
    ("convolve", dict(method="direct")), ("convolve", dict(method="fft")),
    ("correlate", dict(method="direct")), ("correlate", dict(method="fft")),
    ("fftconvolve", {}), ("oaconvolve", {}), ("convolve2d", dict(boundary="symm")),
    ("correlate2d", dict(boundary="wrap")),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int32])
@pytest.mark.parametrize("name,kw", FUNCS, ids=[f"{n}-{kw}" for n, kw in FUNCS])
def test_layout_matrix(name, kw, dtype, rng):
    a = (rng.standard_normal((9, 12)) * 10).astype(dtype)
    k = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * (rng.standard_normal(a.shape) * 10).astype(dtype)
        k = k + 1j * (rng.standard_normal(k.shape) * 10).astype(dtype)
    ref = getattr(ss, name)(a, k, "same", **kw)
    for label, av in variants(a):
        for klabel, kv in variants(k):
            da, dk = digest(av), digest(kv)
            out = getattr(jitconv, name)(av, kv, "same", **kw)
            assert digest(av) == da and digest(kv) == dk, (label, klabel)
            assert out.dtype == ref.dtype.newbyteorder("="), (label, klabel)
            assert out.shape == ref.shape
            assert out.flags.c_contiguous and out.flags.writeable
            if np.dtype(dtype).kind in "iu" and "fft" not in name and kw.get("method") != "fft" \
                    and name != "oaconvolve":
                assert np.array_equal(out, ref), (label, klabel)
            else:
                tol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-10
                np.testing.assert_allclose(out, ref, atol=tol * np.abs(ref).max(),
                                           err_msg=f"{label} {klabel}")


def test_outputs_do_not_alias_internal_buffers(rng):
    """Two consecutive FFT calls of one shape must not share output memory."""
    a, k = rng.standard_normal(100), rng.standard_normal(10)
    r1 = jitconv.fftconvolve(a, k)
    keep = r1.copy()
    r2 = jitconv.fftconvolve(2 * a, k)
    assert not np.shares_memory(r1, r2)
    assert np.array_equal(r1, keep)


def test_few_kernel_signatures_after_mixed_inputs(rng):
    """Inputs are normalised: one signature per compute dtype, whatever the layout."""
    for dt in (np.float64, np.float32, np.int16, np.uint8, np.complex64, np.complex128, bool,
               np.float16, np.int64):
        a = (rng.standard_normal((20, 20)) * 3).astype(dt)
        for _, av in variants(a):
            jitconv.convolve(av, a[:3, :3], method="direct")
            if dt not in (bool, np.float16):  # SciPy's convolve2d rejects these
                jitconv.convolve2d(av, a[:3, :3])
    sigs = kd.corr_valid_serial.signatures
    # float32, float64, complex64, complex128, int64 data, and float32 data with
    # the float64 weights of a short 1-d kernel (other tests of the session)
    assert len(sigs) <= 6, sigs


def test_ndarray_subclass_and_lists():
    out = jitconv.convolve([1, 2, 3], [0, 1])
    ref = ss.convolve([1, 2, 3], [0, 1])
    assert out.dtype == ref.dtype and np.array_equal(out, ref)
    m = np.ma.masked_array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(jitconv.convolve(m, [1.0, 1.0]), ss.convolve(m, [1.0, 1.0]))


@pytest.mark.parametrize("dtype", [np.float16, bool])
def test_nd_float16_and_bool_are_computed(dtype, rng):
    """SciPy's N-d direct path raises 'Unsupported type' here; jitconv computes them."""
    a = (rng.standard_normal((6, 7)) > 0).astype(dtype)
    k = (rng.standard_normal((2, 3)) > 0).astype(dtype)
    out = jitconv.convolve(a, k, method="direct")
    assert out.dtype == dtype
    ref = ss.convolve(a.astype(np.float64), k.astype(np.float64), method="direct")
    if dtype is bool:
        assert np.array_equal(out, ref != 0)
        assert np.array_equal(jitconv.convolve(a, k, method="fft"), ref != 0)
    else:
        np.testing.assert_allclose(out.astype(np.float64), ref, rtol=1e-3)
