"""decide -> run -> finish, for every face.

Each public function validates its arguments into a ``Call`` (problem,
operands, finishing rule; see ``_problem``) and hands it to ``execute``:

- **decide**: the semantic guards (``algorithms.guards``) restrict the
  problem's family, in one place: booleans and integers beyond float64's
  exact range before planning; the non-finite scan only when the planner
  picked a candidate outside the direct family. A rank-1 kernel is detected
  here too (it changes the key). Then the planner's ``Decision``;
- **run**: the planner runs the decision (a failing candidate is replaced);
- **finish**: the raw result becomes the oracle's: dtype (rounding and
  casting rules), shape, warnings.

``scipy.ndimage``'s separable, complex and derivative filters are several
filter calls (``Chain``, ``Combine``): ``run_node`` runs them in SciPy's
order, every intermediate result written in the output dtype as SciPy does.

Also here: ``Bound`` (the internals of ``jitconv.plan``), ``Explanation``
and the dry run behind ``jitconv.explain``, and ``choose_conv_method``.
"""
import math
import sys
import threading
import timeit
import warnings
from dataclasses import replace

import numpy as np

from . import _config, _fftw, _planner
from ._dtypes import native
from ._problem import (Answer, BoundaryFinish, Call, Chain, Combine, Fallback, FilterFinish,
                       FilterProblem, FreqFinish, NNFinish, SignalFinish)
from ._shapes import out_shape
from ._validate import signal as check_signal
from ._validate.signal import mode_auto
from .algorithms import FAMILIES, Reduction, filter_separable, guards, separable

_NAN_WARNING = ("Use of fft convolution on input with NAN or inf results in NAN"
                " or inf output. Consider using method='direct' instead.")

#: the families ``method='direct'`` admits: the direct sum (the non-finite
#: guard is needed outside them)
_DIRECT = FAMILIES["direct"]


# ------------------------------------------------------------------ execute
def execute(call):
    """The result of a validated call (``Call``, ``Answer`` or ``Fallback``)."""
    if _dry.on:
        raise _Explained(explain_call(first_call(call)))
    if isinstance(call, Answer):
        return call.value
    if isinstance(call, Fallback):
        return scipy_fallback(call)
    if isinstance(call, (Chain, Combine)) or isinstance(call.finish, FilterFinish):
        return run_node(call)
    d, hit = decide(call)
    raw = run(call.problem, call.operands, d, hit)
    return finish(call, d.candidate, raw)


def run(p, operands, d, hit):
    """``PLANNER.run``; a key's first call (``hit`` false) runs its new
    transforms without FFTW planning (``_fftw.first_use``)."""
    if hit:
        return _planner.PLANNER.run(p, operands, d)
    with _fftw.first_use():
        return _planner.PLANNER.run(p, operands, d)


def decide(call):
    """``(decision, hit)`` for ``call``, after the semantic guards (see module doc)."""
    p = call.problem
    if p.kind == "signal":
        a, k = call.operands
        if p.family == "auto":
            g = guards.eager(a, k)
            if g is not None:
                p = p.restricted("direct")
                call.guard, call.pending = g, False
        call.problem = p = _flag_separable(p, a, k)
    elif p.kind == "filter":
        if p.family == "auto":
            g = guards.filter_eager(p)
            if g is not None:
                p = p.restricted("exact")
                call.guard, call.pending = g, False
        if p.family == "auto" and p.rule == "nd" and not p.rank1 \
                and filter_separable.rank1(p, call.operands[1]):
            p = replace(p, rank1=True)
        call.problem = p
        d, hit = _planner.PLANNER.choose(p)
        if call.pending and d.candidate.nonfinite_guard is True:
            call.pending = False
            g = guards.filter_finite(p, *call.operands)
            if g is not None:
                call.guard = g
                call.problem = p.restricted("exact")
                d, hit = _planner.PLANNER.choose(call.problem)
        return d, hit
    d, hit = _planner.PLANNER.choose(p)
    if call.pending and d.candidate.family not in _DIRECT:
        call.pending = False
        g = guards.finite(*call.operands[:2])
        if g is not None:
            call.guard = g
            call.problem = p.restricted("direct")
            d, hit = _planner.PLANNER.choose(call.problem)
    return d, hit


def _flag_separable(p, a, k):
    """``p`` marked separable when its family is 'auto' (the only one that runs
    the separable passes) and the kernel is rank-1 (a data-dependent fact, like
    the guards)."""
    if (p.family == "auto" and separable.worth_testing(a, k)
            and separable.factors(k, p.axes, np.dtype(p.rt)) is not None):
        return replace(p, separable=True)
    return p


def _user_stacklevel():
    """``stacklevel`` of the first frame outside jitconv (a warning at the caller's line)."""
    f, level = sys._getframe(1), 1
    while f is not None and f.f_globals.get("__name__", "").startswith("jitconv."):
        f, level = f.f_back, level + 1
    return level


def finalize(res, rt):
    """Cast a raw result to the result dtype ``rt`` as a fresh C array
    (booleans: nonzero; integers: a C cast that wraps, like SciPy)."""
    if res.dtype == rt and res.flags.c_contiguous and rt.isnative:
        return res
    rt = np.dtype(rt)
    if rt.kind == "b":
        return np.ascontiguousarray(res != 0)
    if rt.kind in "iu" and res.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return np.ascontiguousarray(res.astype(rt))
    return np.ascontiguousarray(res, dtype=rt.newbyteorder("="))


def c_cast(raw, dtype):
    """``raw`` (float) in ``dtype`` as SciPy's C code casts a double (a new array).

    Floats round; integers truncate, and out-of-range values wrap as the C
    casts of SciPy's build do on x86-64: ``uint32`` through a 64-bit
    conversion, ``bool`` as an 8-bit unsigned value (``npy_bool`` is a byte:
    ``0.5`` and ``256.0`` are False, ``2.0`` is the byte 2, which a later
    pass reads as 2, as SciPy's does); the rest as NumPy casts.
    """
    dtype = np.dtype(dtype)
    if raw.dtype == dtype:
        return raw
    if dtype.kind in "fc":
        return raw.astype(dtype)
    with np.errstate(invalid="ignore"):
        if dtype.kind == "b":
            return raw.astype(np.uint8).view(dtype)
        if dtype.kind == "u" and dtype.itemsize == 4:
            return raw.astype(np.int64).astype(dtype)
        return raw.astype(dtype)


def finish(call, cand, raw):
    """The caller's result from candidate ``cand``'s raw result."""
    return _finish(call.finish, cand, raw)


def _finish(f, cand, raw):
    if isinstance(f, FilterFinish):
        res = c_cast(raw, f.dtype)
        if f.shape is not None:
            res = res.reshape(f.shape)
        if f.out is None:
            return res
        np.copyto(f.out, res, casting="unsafe")
        return f.out
    if isinstance(f, SignalFinish):
        if f.take is not None:
            raw = raw[f.take]
        if cand.family != "fft":
            return finalize(raw, f.rt)
        if raw.size and not np.isfinite(raw).all():
            warnings.warn(_NAN_WARNING, RuntimeWarning, stacklevel=_user_stacklevel())
        if f.rt.kind in "biu":
            raw = np.round(raw)
        return finalize(raw, f.rt)
    if isinstance(f, FreqFinish):
        res = np.broadcast_to(raw, f.shape) if raw.shape != f.shape else raw
        return np.ascontiguousarray(res, dtype=f.rt)
    if isinstance(f, BoundaryFinish):
        res = finalize(raw, f.rt)
        return res[::-1, ::-1].copy() if f.reverse else res
    if isinstance(f, NNFinish):
        y = raw.reshape(f.shape)
        nd = len(f.shape) - 2
        if f.bias is not None:
            y += f.bias.reshape((f.shape[1],) + (1,) * nd)
        if f.flip:
            y = y[(slice(None), slice(None)) + (slice(None, None, -1),) * nd].copy()
        return y[0] if f.unbatched else y
    raise TypeError(f"unknown finishing rule {f!r}")


# ------------------------------------------------------------ repeated calls
#: calls seen before: their signature (the function, its flags, the operands'
#: shapes, dtypes and layout class, the thread count) -> ``_Repeat``. Valid while
#: the planner's decisions stay the same (``Planner.generation``)
_REPEAT = {}
_REPEAT_MAX = 512


def signal(op, in1, in2, mode, method, axes, workers, lags=None):
    """A ``scipy.signal`` call: validated and decided once per call signature.

    The first call of a signature runs the whole path (checks, guards, the
    planner); a repeated one skips to the prepared candidate, re-running only
    the checks that depend on data (NaN/inf and integer magnitudes, where the
    decision is not a direct candidate). Anything unusual (``force``,
    ``explain``, a rank-1 kernel test, a guard that fired, a failing
    candidate) takes the whole path.
    """
    key = None
    if type(in1) is np.ndarray and type(in2) is np.ndarray and not _dry.on:
        try:
            # lags by repr: True and 1 hash alike, but only one is valid
            key = (op, mode, method, axes, lags if lags is None else repr(lags),
                   workers if workers is not None
                   else _config.default_workers(), _config.SETTINGS.deterministic,
                   in1.shape, in1.dtype, in1.flags.c_contiguous,
                   in2.shape, in2.dtype, in2.flags.c_contiguous)
            r = _REPEAT.get(key)
        except TypeError:   # unhashable arguments: the checks will say why
            key, r = None, None
        if r is not None and r.gen == _planner.PLANNER.generation and not _planner.forcing():
            out = r(in1, in2)
            if out is not None:
                return out
    call = check_signal.signal_call(op, in1, in2, mode, method, axes, workers, lags)
    if not isinstance(call, Call) or _dry.on:
        return execute(call)
    d, hit = decide(call)
    raw = run(call.problem, call.operands, d, hit)
    out = finish(call, d.candidate, raw)
    if key is not None:
        _repeat(key, call, d, in1)
    return out


class _Repeat:
    """A decided signal call, prepared for calls of the same signature."""
    __slots__ = ("gen", "cand", "finish", "runner", "axes", "correlate", "swap", "check",
                 "problem", "decision", "watch", "kernel")

    def __call__(self, a, k):
        if self.correlate:
            k = check_signal.reverse_conj(k, self.axes)
        if self.swap:
            a, k = k, a
        if self.kernel is not None and not np.array_equal(k, self.kernel):
            return None   # another kernel: is it rank-1? (the whole path tests it)
        if self.check == "finite":
            if guards.finite(a, k) is not None:
                return None
        elif self.check == "int":
            if guards.int_bound_exceeded(a, k):
                return None
        try:
            if self.watch is None:
                raw = self.runner(a, k)
            else:   # the planner watches this decision's time for a drift
                pl = _planner.PLANNER
                t0 = pl.timer()
                raw = self.runner(a, k)
                pl.observe(self.problem, self.decision, pl.timer() - t0, self.watch)
        except Exception:  # noqa: BLE001 - the whole path replaces a failing candidate
            return None
        if _fftw.unsaved():
            _planner.PLANNER.save()
        return _finish(self.finish, self.cand, raw)


def _repeat(key, call, d, in1):
    """Keep ``call``'s decision for repeated calls, when nothing about it depends on data."""
    p = call.problem
    pl = _planner.PLANNER
    c = d.candidate
    if (_planner.forcing() or pl.memory.get(p.key()) is not d or d.source == "provisional"
            or isinstance(c, Reduction) or c.uses_blas or call.guard not in (None, "bool")):
        return
    a, k = call.operands
    r = _Repeat()
    r.kernel = None
    if p.family == "auto" and separable.worth_testing(a, k):
        # the key holds a data-dependent fact: is the kernel rank-1? It holds
        # for the same kernel values (an image filter applied frame after
        # frame): compared in ~1 us, where the rank test and the whole path
        # cost 30-70 us
        r.kernel = np.array(k, copy=True)
    r.gen, r.cand, r.finish = pl.generation, c, call.finish
    r.problem, r.decision, r.watch = p, d, pl.watches(d)
    r.runner = c.prepare(p)
    r.axes, r.correlate = p.axes, p.op == "correlate"
    r.swap = a is not in1
    r.check = None
    if c.family not in _DIRECT and call.guard is None and p.op in ("convolve", "correlate") \
            and p.family == "auto":
        kinds = np.dtype(p.dtype1).kind + np.dtype(p.dtype2).kind
        r.check = "int" if ("i" in kinds or "u" in kinds) else "finite"
    if len(_REPEAT) >= _REPEAT_MAX:
        _REPEAT.pop(next(iter(_REPEAT)), None)
    _REPEAT[key] = r


# ------------------------------------------------------------ filter nodes
def run_node(node):
    """The result of a filter ``Call``, ``Chain`` or ``Combine`` (see ``_problem``)."""
    if isinstance(node, Call):
        p = node.problem
        if p.size == 0:  # SciPy returns its zero-initialised output
            return finish(node, None, np.zeros(p.shape, p.cdtype))
        d, hit = decide(node)
        ops = node.operands if node.reuse is None else node.operands + (node.reuse,)
        try:
            raw = run(node.problem, ops, d, hit)
        except guards.NonFinite:  # the candidate met NaN/inf: the guard's verdict
            node.guard, node.pending = "non-finite", False
            node.problem = node.problem.restricted("exact")
            d, _ = _planner.PLANNER.choose(node.problem)
            raw = _planner.PLANNER.run(node.problem, ops, d)
        return finish(node, d.candidate, raw)
    f = node.finish
    if isinstance(node, Chain):
        if not node.calls:
            res = np.zeros(np.shape(node.source), f.dtype)
            res[...] = node.source
        else:
            res = None
            for i, c in enumerate(node.calls):
                if i:
                    c.operands = (res,) + tuple(c.operands[1:])
                    c.reuse = _reusable(res, node.source, c.problem)
                res = run_node(c)
    else:
        res = None
        for op, part, sub in node.steps:
            if op == "set":
                val = run_node(sub)
                if res is None:
                    res = np.zeros(val.shape, f.dtype)
                _part(res, part)[...] = val
            elif op == "add":
                view = _part(res, part)
                view += run_node(sub)
            elif op == "sub":
                view = _part(res, part)
                view -= run_node(sub)
            elif op == "square":
                np.multiply(res, res, res)
            elif op == "addsq":
                t = run_node(sub)
                np.multiply(t, t, t)
                res += t
            elif op == "sqrt":
                np.sqrt(res, res, casting="unsafe")
            else:
                raise ValueError(f"unknown step {op!r}")
    if f.out is None:
        return res
    np.copyto(f.out, res, casting="unsafe")
    return f.out


def _reusable(res, source, p):
    """``res`` (a chain's intermediate result) if the next pass may overwrite
    it with its own result: an array of the pass's shape and raw dtype,
    C-contiguous and writeable, that is not (a view of) the chain's input.
    SciPy's chains write every pass into the output array in the same way."""
    if not isinstance(res, np.ndarray) or not isinstance(p, FilterProblem):
        return None
    if (res.shape != p.shape or res.dtype != p.cdtype or not res.flags.c_contiguous
            or not res.flags.writeable or np.may_share_memory(res, source)):
        return None
    return res


def _part(arr, part):
    return arr if part == "all" else getattr(arr, part)


def first_call(node):
    """The first planned ``Call`` of a filter node (what ``explain`` describes)."""
    if isinstance(node, Chain):
        return first_call(node.calls[0]) if node.calls else Answer(node.source)
    if isinstance(node, Combine):
        for _, _, sub in node.steps:
            if sub is not None:
                return first_call(sub)
    return node


# ------------------------------------------------------------ SciPy fallback
def _scipy():
    """SciPy's own implementations, for dtypes numba cannot hold (long double,
    object). Taken from the private module so that a substituted
    ``scipy.signal`` namespace (as in our SciPy-suite runner) cannot recurse."""
    from scipy.signal import _signaltools
    return _signaltools


def scipy_fallback(call):
    """SciPy computes dtypes numba cannot hold; its accidental errors (pocketfft's
    RuntimeError on some mixes, IndexError on empty FFT input) become TypeError.

    jitconv's NaN/inf guard applies here too: SciPy's 'auto' would send
    non-finite inputs to the FFT, and its cost model itself raises
    OverflowError on a long double inf (``int(inf)``).
    """
    op, kw = call.op, dict(call.kwargs)
    args = tuple(x.astype(x.dtype.newbyteorder("=")) if isinstance(x, np.ndarray)
                 and x.dtype.byteorder == ">" else x for x in call.args)
    a, k = args[:2]
    if kw.get("method") == "auto" and guards.finite(a, k) is not None:
        kw["method"] = "direct"
    try:
        res = getattr(_scipy(), op)(*args, **kw)
        if call.crop is not None:
            res = res[call.crop]
            res = np.ascontiguousarray(res[call.take] if call.take is not None else res)
        return res
    except (RuntimeError, IndexError) as e:
        raise TypeError(f"{op} does not support inputs of dtypes {a.dtype} and {k.dtype}"
                        f" ({e})") from e
    except OverflowError as e:
        raise ValueError(f"{op}: values out of range for dtypes {a.dtype} and {k.dtype}"
                         f" ({e})") from e


# ------------------------------------------------------------------- plans
class Bound:
    """A call decided once and bound to its fixed operand (``jitconv.Plan``).

    The candidate is chosen when the plan is made (its guards evaluated on the
    example input) and reused for every call: like a forced candidate, later
    inputs do not change it. What depends on the fixed operand only (the FFT
    kernel's spectrum) is computed once.
    """

    def __init__(self, call, varying):
        if not isinstance(call, Call):
            raise ValueError("nothing to plan: this call is answered without a kernel "
                             "(0-d, empty, broadcast-only or a SciPy-fallback dtype)")
        self.call = call
        # fftconvolve/oaconvolve swap the operands in 'valid' mode when in2 is larger
        self.swapped = call.operands[0] is not varying
        self.decision, _ = decide(call)
        if self.decision.source == "provisional":   # a plan is made to be called many times
            self.decision = _planner.PLANNER.settle(call.problem)
        self.candidate = self.decision.candidate
        p = call.problem
        self._fn = None
        if not self.swapped:
            self._fn = self.candidate.bind(p, call.operands[1])

    def __call__(self, x, out=None):
        call = self.call
        f = call.finish
        direct_out = (out is not None and isinstance(f, FreqFinish) and out.flags.c_contiguous
                      and getattr(self._fn, "writes_out", False))
        if direct_out:
            self._fn(x, out=out)
            return out
        if self._fn is not None:
            raw = self._fn(x)
        else:
            raw = _planner.PLANNER.run(call.problem, (call.operands[0], x), self.decision)
        res = finish(call, self.candidate, raw)
        if out is None:
            return res
        np.copyto(out, res)
        return out


def finish_shape(call):
    """Shape of the result of ``call`` (a signal call)."""
    if isinstance(call.finish, FreqFinish):
        return call.finish.shape
    p = call.problem
    shape = out_shape(p.shape1, p.shape2, p.axes, p.wins)
    take = getattr(call.finish, "take", None)
    if take is not None:   # every step-th lag (correlate(lags=range(..., step)))
        shape = tuple(len(range(*t.indices(n))) for t, n in zip(take, shape))
    return shape


# ----------------------------------------------------------------- explain
class _Row(dict):
    """One candidate of an explanation: ``row.id`` or ``row['id']``."""
    __getattr__ = dict.__getitem__


class Explanation:
    """What jitconv runs for one call, and why (``jitconv.explain``).

    Attributes
    ----------
    chosen : str or None
        The candidate id (None when the call needs no kernel).
    family : str or None
        Its family: 'direct', 'separable', 'fft', 'gemm', 'winograd'.
    source : str
        Where the choice came from now: 'memory' (this process decided it
        before), 'disk' (the wisdom file), 'measured' (timed just now),
        'estimate' (the cost model), 'guard' (a semantic guard restricted the
        family), 'forced' (``jitconv.force``), 'trivial' (no kernel).
    decided_by : str or None
        How the decision was originally made: 'measured', 'estimate', 'disk',
        'forced', 'recovered' (a candidate failed and was replaced).
    reason : str or None
        The guard or the ``method=`` that restricted the family.
    candidates : list
        One row per candidate of the problem: ``id``, ``family``, ``estimate``
        (seconds), ``measured`` (seconds; None when not timed, inf when it
        failed), ``chosen`` (bool). Rows allow ``row.id`` and ``row['id']``.
    key : tuple or None
        The planner key.

    ``e['chosen']`` etc. also work, as in earlier versions.
    """

    _FIELDS = ("chosen", "family", "source", "decided_by", "reason", "candidates", "key")

    def __init__(self, chosen, family, source, decided_by, reason, candidates, key, what=""):
        self.chosen, self.family, self.source = chosen, family, source
        self.decided_by, self.reason, self.candidates, self.key = (decided_by, reason,
                                                                   candidates, key)
        self.what = what

    def __getitem__(self, name):
        if name not in self._FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name, default=None):
        return getattr(self, name) if name in self._FIELDS else default

    def keys(self):
        return list(self._FIELDS)

    def __contains__(self, name):
        return name in self._FIELDS

    def to_dict(self):
        return {f: getattr(self, f) for f in self._FIELDS}

    def __repr__(self):
        def sec(t):
            if t is None:
                return "-"
            if math.isinf(t):
                return "failed"
            return f"{t * 1e3:.3g} ms"
        head = f"jitconv.explain: {self.what}".rstrip()
        if self.chosen is None:
            return f"{head}\n  {self.reason} (source: {self.source})"
        by = f"; {self.reason}" if self.reason else ""
        lines = [head, f"  chosen: {self.chosen} (source: {self.source}; decided by: "
                 f"{self.decided_by}{by})"]
        rows = [("candidate", "family", "estimate", "measured", "")]
        rows += [(r.id, r.family, sec(r.estimate), sec(r.measured), "<- chosen" if r.chosen else "")
                 for r in self.candidates]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4])
        return "\n".join(line.rstrip() for line in lines)


def _describe(p):
    if p.kind == "filter":
        return (f"ndimage {p.rule} {p.dtype}{list(p.shape)} weights{list(p.wshape)} "
                f"modes={list(p.modes)} origins={list(p.origins)} -> {p.out}")
    if p.kind == "signal":
        return (f"{p.op} {p.dtype1}{list(p.shape1)} * {p.dtype2}{list(p.shape2)} "
                f"axes={list(p.axes)} windows={[list(w) for w in p.wins]}")
    if p.kind == "boundary":
        return (f"{p.op} {p.dtype1}{list(p.shape1)} * {p.dtype2}{list(p.shape2)} "
                f"mode={p.mode} boundary={p.boundary}")
    return f"nn {p.op} x{list(p.xshape)} w{list(p.wshape)} {p.dtype} groups={p.groups}"


def explain_call(call):
    """The ``Explanation`` of a validated call (plans it if it is new; computes nothing)."""
    if not isinstance(call, Call):
        return Explanation(None, None, "trivial", None,
                           "answered without a kernel (0-d, empty, broadcast-only or SciPy "
                           "fallback)", [], None)
    requested = call.problem.family
    d, hit = decide(call)
    p = call.problem
    source = "memory" if hit and d.source != "forced" else d.source
    reason = None
    if call.guard is not None:
        source, reason = "guard", call.guard
    elif requested not in ("auto", "oa") and source != "forced" and p.kind == "signal" \
            and p.op in ("convolve", "correlate"):
        reason = f"method={requested!r}"
    pl = _planner.PLANNER
    rows = []
    for c in pl.registry.supporting(p):
        est = d.estimates.get(c.id)
        rows.append(_Row(id=c.id, family=c.family,
                         estimate=est if est is not None else pl.estimate(c, p),
                         measured=d.timings.get(c.id), chosen=c.id == d.chosen))
    return Explanation(d.chosen, d.candidate.family, source, d.source, reason, rows, p.key(),
                       _describe(p))


_dry = _config.local(on=False)


class _Explained(Exception):
    """Carries an explanation out of a face function run dry."""

    def __init__(self, explanation):
        super().__init__("explained")
        self.explanation = explanation


def explain_function(fn, args, kwargs):
    """Run face function ``fn`` dry: validation and planning, no computation."""
    prev = _dry.on
    _dry.on = True
    try:
        fn(*args, **kwargs)
    except _Explained as e:
        return e.explanation
    finally:
        _dry.on = prev
    raise ValueError(f"{getattr(fn, '__name__', fn)!r} is not a jitconv function "
                     "that computes a convolution")


# ------------------------------------------------------- choose_conv_method
def _timeit_fast(fn, repeat=3):
    """SciPy's timing rule: batches of >= 0.5 ms, then best of ``repeat``."""
    timer = timeit.Timer(fn)
    number, x = 1, 0.0
    for p in range(10):
        number = 10 ** p
        x = timer.timeit(number)
        if x >= 5e-3 / 10:
            break
    if x > 1:
        return x / number
    number *= 10
    return min(timer.repeat(repeat, number)) / number


def choose_conv_method(in1, in2, mode, measure, convolve, signal_call):
    """``scipy.signal.choose_conv_method`` from the planner (see ``signal``).

    ``convolve``: the public convolve (for SciPy's behaviour on what jitconv
    does not plan); ``signal_call``: the validator of convolve calls.
    """
    a = np.asarray(in1)
    k = np.asarray(in2)
    plannable = (a.ndim == k.ndim and a.ndim > 0 and a.size and k.size
                 and native(a.dtype) and native(k.dtype))
    if measure:
        if not plannable:  # SciPy's behaviour, errors included
            times = {m: _timeit_fast(lambda: convolve(a, k, mode=mode, method=m))
                     for m in ("fft", "direct")}
            return ("fft" if times["fft"] < times["direct"] else "direct"), times
        call = signal_call("convolve", a, k, mode, "auto", None, None)
        unguarded = call.problem
        decide_guards_only(call)
        guard = call.guard
        # a guarded problem: time the unguarded one, answer 'direct'
        p = unguarded if guard is not None else call.problem
        d = _planner.PLANNER.measure_all(p)
        times = {}
        for cid, t in d.timings.items():
            fam = "fft" if _planner.PLANNER.registry.get(cid).family == "fft" else "direct"
            times[fam] = min(times.get(fam, math.inf), t)
        chosen = "direct" if guard is not None else (
            "fft" if d.candidate.family == "fft" else "direct")
        return chosen, times
    mode_auto(mode)
    if not plannable:
        if a.ndim == k.ndim and a.size and k.size and a.ndim:
            if guards.finite(a, k) is not None:
                return "direct"   # the NaN/inf guard (SciPy's model overflows on inf)
            return _scipy().choose_conv_method(a, k, mode=mode)
        return "direct"
    call = signal_call("convolve", a, k, mode, "auto", None, None)
    decide_guards_only(call)
    if call.guard is not None:
        return "direct"
    d = _planner.PLANNER.peek(call.problem)
    return "fft" if d.candidate.family == "fft" else "direct"


def decide_guards_only(call):
    """Apply every guard of a signal call (the non-finite one included) without planning."""
    p = call.problem
    a, k = call.operands
    g = guards.eager(a, k) or guards.finite(a, k)
    if g is not None:
        call.guard = g
        call.problem = p.restricted("direct")
    else:
        call.problem = _flag_separable(p, a, k)
    call.pending = False
