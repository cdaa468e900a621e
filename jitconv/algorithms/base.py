"""The Candidate protocol and the registry type.

A candidate is one algorithm for one kind of problem (``jitconv._problem``).
It declares:

- ``id``: a unique name (``jitconv.force(id)``, wisdom files, ``explain``);
- ``kind``: the problem kind it solves (``'signal'``, ``'boundary'``,
  ``'filter'``, ``'nn-conv'``, ``'nn-input_grad'``, ``'nn-weight_grad'``);
- ``family``: what a restriction of the problem (``method=``, a semantic
  guard) is about: ``'direct'`` (the direct sum: exact for integers,
  bitwise reproducible), ``'separable'`` (passes of a rank-1 factorisation),
  ``'fft'`` (frequency domain), ``'float'`` (the filters' sums in another
  floating-point arithmetic than SciPy's, within a stated bound), or, for
  the CNN ops, ``'gemm'``, ``'winograd'``;

and implements:

- ``supports(p)``: whether it can compute problem ``p`` (within the memory
  budget). Whenever it is true, ``run`` must succeed and be correct;
- ``estimate(p)``: predicted seconds from shapes alone (the cost model,
  ``jitconv.algorithms.cost``), used to prune and to decide untimed problems;
- ``run(p, *operands)``: compute; returns the raw result that the engine
  finishes (casts, crops, reshapes). Preparation (numba compilation, FFTW
  planning on the candidate's own buffers) happens in the first call, which
  the planner never counts as run time;
- optionally ``prepare(p)``: a function of the operands with what depends on
  the shapes precomputed (the engine's cache of repeated calls), and
  ``bind(p, fixed)``: a function of the first operand with the second fixed
  (``jitconv.plan``): precomputes what depends on it only;
- ``uses_blas``: True when it calls BLAS (which then gets ``p.workers`` threads).

A ``Reduction`` solves its problem as another problem (``reduce``), whose
own candidates the planner chooses and times: its estimate is theirs.
"""


class Candidate:
    id = None
    kind = "signal"
    family = "direct"
    #: the candidate calls BLAS: the planner runs it (and times it) with BLAS
    #: limited to the problem's ``workers``
    uses_blas = False

    @property
    def nonfinite_guard(self):
        """Whether NaN/inf operands must send the problem to the direct family
        (the semantic guard, ``guards``): True outside it by default (the
        engine scans the operands first). A candidate whose sums carry NaN
        and inf window by window, as the direct sums do, overrides it with
        False; one that notices NaN/inf itself while it reads its operands,
        with ``'self'``: it raises ``guards.NonFinite`` before writing
        anything the caller sees, and the engine runs the direct family."""
        return self.family != "direct"

    def supports(self, p):
        return True

    def estimate(self, p):
        raise NotImplementedError

    def run(self, p, *operands):
        raise NotImplementedError

    def prepare(self, p):
        """``f(*operands)`` computing ``run(p, *operands)``; candidates override
        it to precompute what depends on the problem's shapes only (the engine
        keeps it for repeated calls)."""
        return lambda *operands: self.run(p, *operands)

    def bind(self, p, fixed):
        """``f(x)`` computing ``run(p, x, fixed)``; candidates override it to
        precompute what depends on ``fixed`` only."""
        return lambda x: self.run(p, x, fixed)

    def __repr__(self):
        return f"<candidate {self.id}>"


class Reduction(Candidate):
    """A candidate that solves ``p`` as the problem ``reduce(p)``."""

    def reduce(self, p):
        """The problem this one becomes (shapes only)."""
        raise NotImplementedError

    def operands(self, p, *operands):
        """The reduced problem's operands."""
        raise NotImplementedError

    def estimate(self, p):  # the planner estimates the reduced problem's candidates
        raise TypeError("a Reduction is estimated through the problem it reduces to")


#: which candidate families each family of a problem admits
#: (``method='direct'`` is the direct sum: never a factorisation, never an FFT)
FAMILIES = {"auto": ("direct", "separable", "fft", "float", "gemm", "winograd"),
            "direct": ("direct",),
            "fft": ("fft",),
            "oa": ("fft",),
            # a filter restricted to SciPy's own arithmetic (integer or bool
            # data, NaN/inf): only results bitwise equal to SciPy's
            "exact": ("direct",)}


class Registry:
    """The one list of candidates, and the lookups the planner needs."""

    def __init__(self, candidates):
        self.candidates = list(candidates)
        ids = [c.id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate candidate ids in {ids}")
        self.by_id = {c.id: c for c in self.candidates}

    def __iter__(self):
        return iter(self.candidates)

    def get(self, cid):
        return self.by_id[cid]

    def ids(self):
        return list(self.by_id)

    def of(self, p):
        """The candidates of ``p``'s kind that its family admits (supported or not)."""
        allowed = FAMILIES[p.family]
        return [c for c in self.candidates if c.kind == p.kind and c.family in allowed]

    def supporting(self, p):
        """The candidates that can compute ``p``.

        ``oaconvolve`` (family ``'oa'``) runs overlap-add where it applies and
        the plain FFT otherwise. When nothing fits the memory budget, the
        direct kernel (which needs no workspace) is the answer.
        """
        of = self.of(p)
        out = [c for c in of if c.supports(p)]
        if p.family == "oa":
            out = [c for c in out if c.id == "oa"] or [self.by_id["fft"]]
        if not out:
            out = [c for c in of if c.id != "oa"][:1]
        return out

    def admits(self, p, cid):
        """Whether ``jitconv.force(cid)`` applies to ``p``."""
        c = self.by_id.get(cid)
        return c is not None and c in self.of(p) and c.supports(p)
