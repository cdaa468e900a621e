"""Rank-1 (separable) kernels: one N-d convolution becomes N 1-d passes.

A kernel ``k`` is separable when ``k = u0 (x) u1 (x) ... (x) ud`` (an outer
product). The test is a numerical rank check by pivoting: with ``p`` the
position of the largest ``|k|``, ``k`` must equal the outer product of its
lines through ``p`` (scaled by ``k[p]``) within ``tol * max|k|``. That costs
O(size) and is exact for kernels built as outer products (Gaussian, box,
Sobel's factors...). The passes then cost ``sum(m_i)`` instead of
``prod(m_i)`` multiply-adds per output.
"""
import numpy as np

#: relative reconstruction error accepted, by the result's precision
TOL = {4: 1e-6, 8: 1e-13}


def factors(k, axes, rt):
    """1-d factors of ``k`` along ``axes``, or None if ``k`` is not (usefully) separable.

    Only float/complex results qualify (integer and boolean results must
    stay exact), only kernels without batch (length 1 off ``axes``) and with
    at least two convolved axes longer than 1.
    """
    rt = np.dtype(rt)
    if rt.kind not in "fc" or k.size == 0:
        return None
    if any(k.shape[i] != 1 for i in range(k.ndim) if i not in axes):
        return None
    long_axes = [ax for ax in axes if k.shape[ax] > 1]
    if len(long_axes) < 2:
        return None
    tol = TOL[8 if rt.itemsize >= (16 if rt.kind == "c" else 8) else 4]
    kk = np.asarray(k, dtype=np.complex128 if k.dtype.kind == "c" else np.float64)
    kk = kk.reshape([k.shape[ax] for ax in long_axes])
    if not np.isfinite(kk).all():
        return None
    scale = float(np.max(np.abs(kk)))
    if scale == 0.0:
        return None
    out = []
    rest = kk
    for i in range(len(long_axes) - 1):
        m = rest.reshape(rest.shape[0], -1)
        piv = np.unravel_index(int(np.argmax(np.abs(m))), m.shape)
        u = m[:, piv[1]].copy()
        v = m[piv[0], :] / m[piv]
        if np.max(np.abs(m - np.outer(u, v))) > tol * scale:
            return None
        out.append(u)
        rest = v.reshape(rest.shape[1:])
    out.append(rest.reshape(-1))
    # the product of the factors must give back k (errors can compound)
    recon = out[0]
    for f in out[1:]:
        recon = np.multiply.outer(recon, f)
    if np.max(np.abs(recon - kk)) > tol * scale:
        return None
    return list(zip(long_axes, out))
