"""Planner API: explain a choice, reuse plans, tune effort, manage wisdom.

The planner measures each candidate algorithm once per problem key
(operation, shapes, axes, mode, dtypes, threads) and remembers the winner,
in memory and on disk with FFTW's wisdom, like FFTW's planner or cuDNN's
benchmark mode but for the whole convolution.
"""
import numpy as np

from . import _config, _fftw, _store
from ._planner import PLANNER, force, planner_stats
from ._config import EFFORTS

__all__ = ["explain", "plan", "Plan", "planner_stats", "set_planner", "get_planner", "force",
           "export_wisdom", "import_wisdom", "forget_wisdom", "wisdom_path"]


def explain(in1, in2, mode="full", method="auto", op="convolve", *, axes=None, workers=None):
    """Which algorithm jitconv runs for this call, and why.

    Plans the problem if it is new (like the call itself would), without
    computing the result.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs of the call (only shapes and dtypes matter, plus the
        values the semantic guards look at: NaN/inf, integer magnitudes).
    mode : {'full', 'valid', 'same'}, optional
    method : {'auto', 'direct', 'fft'}, optional
        For ``op='convolve'``/``'correlate'``; ignored otherwise.
    op : {'convolve', 'correlate', 'fftconvolve', 'oaconvolve'}, optional
    axes, workers : optional
        As in the call.

    Returns
    -------
    dict
        ``chosen`` (candidate id), ``family`` ('direct' or 'fft'), ``source``
        ('memory', 'disk', 'measured', 'estimate', 'guard' or 'forced'),
        ``reason`` (the guard or the forced method, if any), ``candidates``
        (list of dicts with ``id``, ``family``, ``estimate`` and ``measured``
        seconds; ``measured`` is None when not timed, inf when it failed),
        and ``key``.

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> e = jitconv.explain(np.ones(100), np.ones(5))
    >>> e["chosen"], e["source"] in ("estimate", "memory")
    ('direct-serial', True)
    """
    from . import _algorithms
    from .signal import _setup
    if op not in ("convolve", "correlate", "fftconvolve", "oaconvolve"):
        raise ValueError(f"op must be 'convolve', 'correlate', 'fftconvolve' or 'oaconvolve', not {op!r}")
    early, job = _setup(op, in1, in2, mode, method if op in ("convolve", "correlate") else None,
                        axes, workers)
    if job is None:
        return {"chosen": None, "family": None, "source": "trivial", "reason":
                "answered without a kernel (0-d, empty, broadcast-only or SciPy fallback)",
                "candidates": [], "key": None}
    job.resolve_guard()
    d, hit = job.decide()
    source = "memory" if hit and d.source != "forced" else d.source
    reason = None
    if job.guard is not None:
        source, reason = "guard", job.guard
    elif op in ("convolve", "correlate") and method != "auto" and source != "forced":
        reason = f"method={method!r}"
    cands = []
    for c in _algorithms.candidates(job.problem):
        cands.append({"id": c.id, "family": c.family,
                      "estimate": d.estimates.get(c.id, c.estimate(job.problem)),
                      "measured": d.timings.get(c.id)})
    return {"chosen": d.chosen, "family": _algorithms.BY_ID[d.chosen].family, "source": source,
            "decided_by": d.source, "reason": reason, "candidates": cands,
            "key": job.problem.key()}


def set_planner(effort=None, budget=None, prune=None, margin=None, min_measure=None,
                memory_budget=None, deterministic=None, max_keys=None):
    """Change the planner's settings for the whole process; returns the previous ones.

    Parameters
    ----------
    effort : {'estimate', 'measure', 'exhaustive', 'wisdom_only'}, optional
        Like FFTW's planner flags: cost model only; time the candidates the
        model keeps (default); time every candidate; never time (use stored
        decisions, else the model). Also ``JITCONV_PLANNER_EFFORT``.
    budget : float, optional
        Seconds of planning per problem key (default 1; ``JITCONV_PLANNING_BUDGET``).
    prune : float, optional
        Time candidates whose estimate is within this factor of the best (default 4).
    margin : float, optional
        Factor by which a timed candidate must beat the model's pick (default 1.1).
    min_measure : float, optional
        Problems estimated faster than this (seconds) are not timed (default 150e-6).
    memory_budget : int, optional
        Bytes the FFT paths may use (default: half the available memory).
    deterministic : bool, optional
        Bitwise reproducible results across runs, processes and thread
        counts: nothing is timed (the model decides from shapes alone), FFTW
        plans with FFTW_ESTIMATE on one thread. Direct paths are bitwise
        reproducible anyway. Also ``JITCONV_DETERMINISTIC=1``.
    max_keys : int, optional
        Decisions kept in memory and in the wisdom file (default 20,000).

    Returns
    -------
    dict
        The previous settings (pass them back as keywords to restore).
    """
    s = _config.PLANNER
    prev = get_planner()
    if effort is not None:
        if effort not in EFFORTS:
            raise ValueError(f"effort must be one of {EFFORTS}, not {effort!r}")
        s.effort = effort
    for name, v in (("budget", budget), ("prune", prune), ("margin", margin),
                    ("min_measure", min_measure)):
        if v is not None:
            v = float(v)
            if not v >= 0:
                raise ValueError(f"{name} must be >= 0")
            setattr(s, name, v)
    if memory_budget is not None:
        s.memory_budget = int(memory_budget)
    if deterministic is not None:
        s.deterministic = bool(deterministic)
    if max_keys is not None:
        s.max_keys = max(1, int(max_keys))
    return prev


def get_planner():
    """The planner's current settings as a dict."""
    s = _config.PLANNER
    return {"effort": s.effort, "budget": s.budget, "prune": s.prune, "margin": s.margin,
            "min_measure": s.min_measure, "memory_budget": s.memory_budget,
            "deterministic": s.deterministic, "max_keys": s.max_keys}


def wisdom_path():
    """Path of the wisdom file (``JITCONV_WISDOM``, else the XDG cache), or None if off."""
    return _store.path()


def export_wisdom(path=None):
    """Write this process's planner decisions and FFTW wisdom to ``path``.

    Parameters
    ----------
    path : str, optional
        Default: `wisdom_path()`.

    Returns
    -------
    bool
        True if written.
    """
    with PLANNER.lock:
        decisions = dict(PLANNER.disk())
        for key, d in PLANNER.memory.items():
            if d.source == "measured":
                decisions[repr(key)] = d.record()
        return _store.save(decisions, _fftw.export_wisdom(), path or _store.path())


def import_wisdom(path):
    """Load decisions and FFTW wisdom saved by `export_wisdom` (same fingerprint only).

    Returns
    -------
    bool
        True if the file was valid and loaded; a bad file gives a warning and False.
    """
    decisions, fftw = _store.load(path)
    if decisions is None:
        return False
    with PLANNER.lock:
        PLANNER.disk().update(decisions)
        _fftw.import_wisdom(fftw)
    return True


def forget_wisdom():
    """Forget this process's decisions and FFTW wisdom (the file is left alone)."""
    with PLANNER.lock:
        PLANNER.forget()
        PLANNER._disk = {}
        _fftw.forget_wisdom()


class Plan:
    """A reusable plan for repeated calls of one problem with a fixed kernel.

    Made by `plan`. The algorithm is chosen once; for the FFT algorithm the
    kernel's spectrum is computed once and kept, with the FFTW plans and
    their buffers (per calling thread).

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> h = np.hanning(65)
    >>> p = jitconv.plan(np.zeros(10_000), h, "same")
    >>> y = p(np.random.default_rng(0).standard_normal(10_000))
    >>> out = np.empty_like(y); _ = p(np.ones(10_000), out=out)
    """

    def __init__(self, op, in1, in2, mode, method, axes, workers):
        from . import _algorithms
        from .signal import _setup
        a1 = np.asarray(in1)
        early, job = _setup(op, a1, in2, mode, method, axes, workers)
        if job is None:
            raise ValueError("nothing to plan: this call is answered without a kernel "
                             "(0-d, empty, broadcast-only or a SciPy-fallback dtype)")
        self.op, self.mode, self.method, self.axes, self.workers = op, mode, method, axes, workers
        self.shape, self.dtype = a1.shape, a1.dtype
        self.job = job
        # fftconvolve/oaconvolve swap the operands in 'valid' mode when in2 is larger
        self.swapped = job.a is not a1
        job.resolve_guard()
        d, _ = job.decide()
        self.chosen = d.chosen
        self.candidate = _algorithms.BY_ID[d.chosen]
        self.out_shape, self.out_dtype = job.shape, np.dtype(job.rt).newbyteorder("=")
        self._kspec = None
        from ._shapes import fft_axes_lengths
        p = job.problem
        self._tx, self._fshape = fft_axes_lengths(p.shape1, p.shape2, p.axes, p.wins)
        if d.chosen == "fft" and not self.swapped and self._tx:
            from ._algorithms import fft_single
            from ._core import _crop
            self._single = fft_single(p)
            self._crop = _crop(len(p.shape1), list(p.axes), list(p.wins))
            cplx = job.a.dtype.kind == "c" or job.k.dtype.kind == "c"
            self._kspec = _fftw.spectrum(job.k, job.a.shape, self._tx, self._fshape, cplx,
                                         self._single, p.workers)

    def __repr__(self):
        return (f"<jitconv.Plan {self.op} {self.shape} {self.dtype} mode={self.mode!r} "
                f"algorithm={self.chosen!r}>")

    def __call__(self, x, out=None):
        """Compute the planned operation of ``x`` (same shape and dtype as planned).

        Parameters
        ----------
        x : array_like
            The varying input.
        out : ndarray, optional
            Output array of the result's shape and dtype.

        Returns
        -------
        ndarray
        """
        x = np.asarray(x)
        if x.shape != self.shape or x.dtype != self.dtype:
            raise ValueError(f"plan made for shape {self.shape} and dtype {self.dtype}, "
                             f"got {x.shape} and {x.dtype}")
        if out is not None and (out.shape != self.out_shape or out.dtype != self.out_dtype):
            raise ValueError(f"out must have shape {self.out_shape} and dtype {self.out_dtype}")
        from .signal import Job
        j = self.job
        if self._kspec is not None:
            p = j.problem
            direct_out = out if (self.op in ("fftconvolve", "oaconvolve")
                                 and out is not None and out.flags.c_contiguous) else None
            res = _fftw.freq_conv(x, j.k, self._tx, self._fshape, self._crop, self._single,
                                  p.workers, kspec=self._kspec, out=direct_out)
            if direct_out is not None:
                return out
            res = j.finish(res, self.candidate)
        else:
            a, k = (j.a, x) if self.swapped else (x, j.k)
            res = Job(a, k, j.problem, j.rt, j.guard, j.shape).run(self.chosen)
        if out is None:
            return res
        np.copyto(out, res)
        return out


def plan(in1, in2, mode="full", method="auto", op="convolve", *, axes=None, workers=None):
    """Plan repeated calls ``op(x, in2, mode, ...)`` for arrays ``x`` like `in1`.

    Parameters
    ----------
    in1 : array_like
        An example of the varying input (its shape and dtype are planned for;
        its values only matter to the semantic guards).
    in2 : array_like
        The fixed kernel.
    mode, method, axes, workers :
        As in the call.
    op : {'convolve', 'correlate', 'fftconvolve', 'oaconvolve'}, optional

    Returns
    -------
    Plan
        Callable as ``plan(x, out=None)``.
    """
    if op not in ("convolve", "correlate", "fftconvolve", "oaconvolve"):
        raise ValueError(f"op must be 'convolve', 'correlate', 'fftconvolve' or 'oaconvolve', not {op!r}")
    return Plan(op, in1, in2, mode, method if op in ("convolve", "correlate") else None,
                axes, workers)
