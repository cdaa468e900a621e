"""Planner API: explain a choice, reuse plans, tune effort and threads, manage wisdom.

The planner measures each candidate algorithm once per problem key
(operation, shapes, axes, mode, dtypes, threads) and remembers the winner,
in memory and on disk with FFTW's wisdom, like FFTW's planner or cuDNN's
benchmark mode but for the whole convolution.
"""
import os

import numpy as np

from . import _config, _engine, _fftw, _planner, _store
from ._config import EFFORTS
from ._engine import Explanation
from ._planner import force, planner_stats
from ._validate import signal as _check_signal, workers as _check_workers

__all__ = ["explain", "Explanation", "plan", "Plan", "planner_stats", "set_planner",
           "get_planner", "force", "export_wisdom", "import_wisdom", "forget_wisdom",
           "wisdom_path", "set_workers"]

_SIGNAL_OPS = ("convolve", "correlate", "fftconvolve", "oaconvolve")


def explain(*args, **kwargs):
    """Which algorithm jitconv runs for a call, and why.

    Plans the problem if it is new (as the call itself would), without
    computing the result. Two forms:

    - ``explain(in1, in2, mode='full', method='auto', op='convolve', *,
      axes=None, workers=None, lags=None)`` for the ``scipy.signal``
      functions (``op``: 'convolve', 'correlate', 'fftconvolve',
      'oaconvolve'; ``lags`` with 'correlate');
    - ``explain(fn, *args, **kwargs)`` for any jitconv function that
      computes a convolution, with the arguments of the call:
      ``explain(jitconv.convolve2d, img, k, 'same')``,
      ``explain(jitconv.nn.conv2d, x, w, padding=1)``.

    Only shapes and dtypes matter, plus the values the semantic guards look
    at (NaN/inf, integer magnitudes, a rank-1 kernel).

    Returns
    -------
    Explanation
        Attributes ``chosen`` (candidate id), ``family``, ``source``
        ('memory', 'disk', 'measured', 'estimate', 'guard', 'forced' or
        'trivial'), ``decided_by``, ``reason`` (the guard or the forced
        method), ``candidates`` (rows with ``id``, ``family``, ``estimate``
        and ``measured`` seconds -- None when not timed, inf when it failed --
        and ``chosen``) and ``key``. Its ``repr`` is a table; ``e['chosen']``
        works too.

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> e = jitconv.explain(np.ones(100), np.ones(5))
    >>> e.chosen, e.source in ("estimate", "memory")
    ('direct-serial', True)
    >>> jitconv.explain(jitconv.convolve2d, np.ones((8, 8)), np.ones((3, 3))).chosen
    'direct-boundary'
    """
    if args and callable(args[0]):
        return _engine.explain_function(args[0], args[1:], kwargs)
    return _explain_signal(*args, **kwargs)


def _explain_signal(in1, in2, mode="full", method="auto", op="convolve", *, axes=None,
                    workers=None, lags=None):
    if op not in _SIGNAL_OPS:
        raise ValueError("op must be 'convolve', 'correlate', 'fftconvolve' or 'oaconvolve', "
                         f"not {op!r}")
    if lags is not None and op != "correlate":
        raise TypeError(f"lags= is a keyword of correlate, not of {op}")
    m = method if op in ("convolve", "correlate") else None
    return _engine.explain_call(_check_signal.signal_call(op, in1, in2, mode, m, axes, workers,
                                                          lags))


def set_planner(effort=None, budget=None, prune=None, margin=None, min_measure=None,
                memory_budget=None, deterministic=None, max_keys=None, measure_on=None):
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
    measure_on : int, optional
        The call of a key at which the planner measures it when the model is
        unsure (default 2: the first call runs the model's pick, the key is
        measured when it recurs; 1 measures on the first call). Also
        ``JITCONV_MEASURE_ON``.

    Returns
    -------
    dict
        The previous settings (pass them back as keywords to restore).
    """
    s = _config.SETTINGS
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
    if measure_on is not None:
        if int(measure_on) < 1:
            raise ValueError("measure_on must be >= 1")
        s.measure_on = int(measure_on)
    return prev


def get_planner():
    """The planner's current settings as a dict."""
    s = _config.SETTINGS
    return {"effort": s.effort, "budget": s.budget, "prune": s.prune, "margin": s.margin,
            "min_measure": s.min_measure, "memory_budget": s.memory_budget,
            "deterministic": s.deterministic, "max_keys": s.max_keys,
            "measure_on": s.measure_on}


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
    with _planner.PLANNER.lock:
        decisions = dict(_planner.PLANNER.disk())
        for key, d in _planner.PLANNER.memory.items():
            if d.source == "measured":
                decisions[repr(key)] = d.record()
        live = _store.path()
        if path is None or (live is not None and os.path.abspath(path) == os.path.abspath(live)):
            # the file other processes share: add to it, never drop what they stored
            return _store.merge(decisions, _config.SETTINGS.max_keys, live)[0] is not None
        return _store.save(decisions, _fftw.export_wisdom(), path)


def import_wisdom(path):
    """Load decisions and FFTW wisdom saved by `export_wisdom` (same fingerprint only).

    Returns
    -------
    bool
        True if the file was valid and loaded; a bad file gives a warning and False.
    """
    if not os.path.exists(path):
        _store._warn_once(("import", path), f"cannot import {path!r}: no such file")
        return False
    decisions, fftw = _store.load(path)
    if decisions is None:
        return False
    with _planner.PLANNER.lock:
        _planner.PLANNER.disk().update(decisions)
        _fftw.import_wisdom(fftw)
    return True


def forget_wisdom():
    """Forget this process's decisions and FFTW wisdom (the file is left alone)."""
    with _planner.PLANNER.lock:
        _planner.PLANNER.forget(file=True)
        _fftw.forget_wisdom()


class set_workers:
    """Context manager: default thread count for jitconv calls made by this thread.

    Examples
    --------
    >>> import jitconv
    >>> with jitconv.set_workers(1):
    ...     pass
    """

    def __init__(self, workers):
        self.workers = _check_workers(workers)
        self._prev = None

    def __enter__(self):
        self._prev = _config.thread_workers(self.workers)
        return self

    def __exit__(self, *exc):
        _config.thread_workers(self._prev)
        return False


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

    def __init__(self, op, in1, in2, mode, method, axes, workers, lags=None):
        a1 = np.asarray(in1)
        self._bound = _engine.Bound(_check_signal.signal_call(op, a1, in2, mode, method, axes,
                                                              workers, lags), a1)
        self.op, self.mode, self.method, self.axes, self.workers = op, mode, method, axes, workers
        self.lags = lags
        self.shape, self.dtype = a1.shape, a1.dtype
        self.chosen = self._bound.candidate.id
        f = self._bound.call.finish
        self.out_shape = _engine.finish_shape(self._bound.call)
        self.out_dtype = np.dtype(f.rt).newbyteorder("=")

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
        return self._bound(x, out)


def plan(in1, in2, mode="full", method="auto", op="convolve", *, axes=None, lags=None,
         workers=None):
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
    lags : int, range, or tuple of them, optional
        ``op='correlate'`` only: the lags to compute, as ``correlate(lags=)``.

    Returns
    -------
    Plan
        Callable as ``plan(x, out=None)``.
    """
    if op not in _SIGNAL_OPS:
        raise ValueError("op must be 'convolve', 'correlate', 'fftconvolve' or 'oaconvolve', "
                         f"not {op!r}")
    if lags is not None and op != "correlate":
        raise ValueError(f"lags= goes with op='correlate', not op={op!r}")
    return Plan(op, in1, in2, mode, method if op in ("convolve", "correlate") else None,
                axes, workers, lags)
