"""The planner's command line: ``python -m jitconv explain | wisdom | tune``.

Problems are given as text, one per argument string or spec-file line::

    PROBLEM  := OP OPERAND OPERAND [OPTION ...]
    OP       := convolve | correlate | fftconvolve | oaconvolve | convolve2d | correlate2d
                | conv1d | conv2d | conv3d
    OPERAND  := DTYPE "[" INT {"," INT} "]"        f32[2048,2048]  c128[4096]  i16[3]
    DTYPE    := f16 f32 f64 c64 c128 i8 i16 i32 i64 u8 u16 u32 u64 bool, or a NumPy name
    OPTION   := --NAME VALUE | --NAME=VALUE

Options, by operation (defaults are the functions'):

- convolve, correlate: ``--mode full|same|valid``, ``--method auto|direct|fft``,
  ``--axes 0,1``; correlate also ``--lags``: ``L`` (lags -L..L), ``LO:HI``
  or ``LO:HI:STEP`` (Python's ``range(LO, HI, STEP)``), or one of these per
  correlated axis, comma-separated (``--lags 6,6``, ``--lags -3:4,0:9``);
- fftconvolve, oaconvolve: ``--mode``, ``--axes``;
- convolve2d, correlate2d: ``--mode``, ``--boundary fill|wrap|symm``, ``--fillvalue X``;
- conv1d, conv2d, conv3d (operands: input ``(N, C, *spatial)``, weight
  ``(Cout, C/groups, *k)``, float32/float64): ``--stride``, ``--padding``
  (an int, one per axis comma-separated, ``same`` or ``valid``),
  ``--dilation``, ``--groups``, ``--padding-mode zeros|reflect|replicate|circular``;
- all: ``--workers N``.

The operands are random arrays of the given shapes and dtypes: only shapes
and dtypes make a plan (values matter to the semantic guards only; random
data trips none of them). ``#`` starts a comment in a spec file.
"""
import argparse
import ast
import json
import math
import os
import re
import shlex
import sys
import warnings
from dataclasses import dataclass

import numpy as np

SIGNAL = ("convolve", "correlate", "fftconvolve", "oaconvolve")
BOUNDARY = ("convolve2d", "correlate2d")
NN = ("conv1d", "conv2d", "conv3d")
OPS = SIGNAL + BOUNDARY + NN

#: the options each operation takes (CLI name -> keyword of the function)
OPTIONS = {
    "convolve": {"mode": "mode", "method": "method", "axes": "axes", "workers": "workers"},
    "correlate": {"mode": "mode", "method": "method", "axes": "axes", "lags": "lags",
                  "workers": "workers"},
    "fftconvolve": {"mode": "mode", "axes": "axes", "workers": "workers"},
    "oaconvolve": {"mode": "mode", "axes": "axes", "workers": "workers"},
    "convolve2d": {"mode": "mode", "boundary": "boundary", "fillvalue": "fillvalue",
                   "workers": "workers"},
    "correlate2d": {"mode": "mode", "boundary": "boundary", "fillvalue": "fillvalue",
                    "workers": "workers"},
}
for _op in NN:
    OPTIONS[_op] = {"stride": "stride", "padding": "padding", "dilation": "dilation",
                    "groups": "groups", "padding-mode": "padding_mode", "workers": "workers"}

DTYPES = {"f16": "float16", "f32": "float32", "f64": "float64", "c64": "complex64",
          "c128": "complex128", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
          "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64", "bool": "bool",
          "b": "bool"}

_OPERAND = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\[([^\]]*)\]$")

#: the largest operand the CLI allocates (elements): a typo must not eat the machine
MAX_ELEMENTS = 1 << 31


class SpecError(ValueError):
    """A problem text that does not follow the grammar (module docstring)."""


@dataclass
class Spec:
    """A parsed problem: ``fn(*args, **kwargs)`` is the call it describes."""
    text: str
    op: str
    shapes: tuple
    dtypes: tuple
    kwargs: dict

    def function(self):
        import jitconv
        if self.op in NN:
            return getattr(jitconv.nn, self.op)
        return getattr(jitconv, self.op)

    def operands(self, seed=0):
        from ._problem import scratch
        rng = np.random.default_rng(seed)
        return tuple(scratch(s, d, rng) for s, d in zip(self.shapes, self.dtypes))


def _dtype(word, token):
    name = DTYPES.get(word.lower(), word)
    try:
        return np.dtype(name)
    except TypeError:
        raise SpecError(f"unknown dtype {word!r} in {token!r}; use one of "
                        f"{', '.join(DTYPES)} or a NumPy dtype name") from None


def _operand(token):
    m = _OPERAND.match(token)
    if not m:
        raise SpecError(f"expected an operand like f32[2048,2048], got {token!r}")
    dt = _dtype(m.group(1), token)
    dims = [d.strip() for d in m.group(2).split(",")] if m.group(2).strip() else []
    if any(not d.isdigit() for d in dims):
        raise SpecError(f"dimensions must be non-negative integers in {token!r}")
    shape = tuple(int(d) for d in dims)
    if math.prod(shape) > MAX_ELEMENTS:
        raise SpecError(f"{token!r} has {math.prod(shape):,} elements, more than the "
                        f"{MAX_ELEMENTS:,} the command line allocates")
    return shape, dt


def _ints(name, value):
    try:
        vals = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise SpecError(f"--{name} takes an integer or comma-separated integers, "
                        f"not {value!r}") from None
    return vals[0] if len(vals) == 1 else vals


def _lags(value):
    def one(part):
        try:
            if ":" in part:
                bits = [int(b) for b in part.split(":")]
                if len(bits) not in (2, 3):
                    raise ValueError
                return range(*bits)
            return int(part)
        except ValueError:
            raise SpecError(f"--lags takes L, LO:HI or LO:HI:STEP (comma-separated, one "
                            f"per axis), not {value!r}") from None
    parts = [one(p) for p in value.split(",")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def _value(op, name, value):
    if name == "lags":
        return _lags(value)
    if name in ("axes", "stride", "dilation"):
        return _ints(name, value)
    if name in ("groups", "workers"):
        v = _ints(name, value)
        if isinstance(v, tuple):
            raise SpecError(f"--{name} takes one integer, not {value!r}")
        return v
    if name == "padding":
        return value if value in ("same", "valid") else _ints(name, value)
    if name == "fillvalue":
        try:
            return complex(value) if "j" in value else float(value)
        except ValueError:
            raise SpecError(f"--fillvalue takes a number, not {value!r}") from None
    return value


def parse(text):
    """The ``Spec`` of a problem text (grammar: module docstring); ``SpecError`` if bad."""
    try:
        tokens = shlex.split(text, comments=True)
    except ValueError as e:
        raise SpecError(f"cannot split {text!r} into words ({e})") from None
    if not tokens:
        raise SpecError("empty problem; expected e.g. 'convolve f32[2048,2048] f32[5,5] "
                        "--mode same'")
    op = tokens[0]
    if op not in OPS:
        raise SpecError(f"unknown operation {op!r}; one of {', '.join(OPS)}")
    if len(tokens) < 3 or tokens[1].startswith("--") or tokens[2].startswith("--"):
        raise SpecError(f"{op} needs two operands, e.g. '{op} f64[1000] f64[31]'")
    (s1, d1), (s2, d2) = _operand(tokens[1]), _operand(tokens[2])
    allowed = OPTIONS[op]
    kwargs = {}
    i = 3
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--"):
            raise SpecError(f"unexpected {tok!r}: after the two operands come options "
                            f"--NAME VALUE")
        name, eq, value = tok[2:].partition("=")
        if name not in allowed:
            raise SpecError(f"{op} has no option --{name}; its options: "
                            f"{', '.join('--' + o for o in allowed)}")
        if not eq:
            if i + 1 >= len(tokens):
                raise SpecError(f"--{name} needs a value")
            value = tokens[i + 1]
            i += 1
        if allowed[name] in kwargs:
            raise SpecError(f"--{name} given twice")
        kwargs[allowed[name]] = _value(op, name, value)
        i += 1
    return Spec(text.strip(), op, (s1, s2), (d1, d2), kwargs)


def explain(spec):
    """``jitconv.explain`` of the call a ``Spec`` describes (plans it if new).

    The command line plans ahead: a key the model is unsure about is
    measured now (``measure_on=1``), where a program would measure it on
    its second call.
    """
    import jitconv
    jitconv.set_planner(measure_on=1)
    fn = spec.function()
    a, b = spec.operands()
    return jitconv.explain(fn, a, b, **spec.kwargs)


def _as_json(e, spec):
    d = e.to_dict()
    d["key"] = None if d["key"] is None else repr(d["key"])
    d["problem"] = spec.text
    d["candidates"] = [{k: (None if isinstance(v, float) and math.isinf(v) else v)
                        for k, v in row.items()} for row in d["candidates"]]
    return d


def _sec(t):
    """A duration for a table: '2.97 ms', '1.56 s', '-' when unknown."""
    if t is None or math.isinf(t):
        return "-"
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def _fail(prog, msg, code=2):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return code


def _effort(prog, effort, allowed):
    if effort is None:
        return None
    if effort not in allowed:
        raise SpecError(f"--effort must be one of {', '.join(allowed)}, not {effort!r}")
    import jitconv
    return jitconv.set_planner(effort=effort)


# ------------------------------------------------------------------ explain
EXPLAIN_HELP = """usage: python -m jitconv explain [--effort EFFORT] [--json] PROBLEM...

Plan one problem and print the planner's table: every candidate with its
estimate and measured time, the chosen one and where the choice came from
(source: memory, disk, measured, estimate, guard, forced). The decision is
stored in the wisdom file like any call's.

PROBLEM (one quoted string or the rest of the command line):
  OP OPERAND OPERAND [--NAME VALUE ...]
  e.g.  convolve f32[2048,2048] f32[5,5] --mode same
        correlate f64[1000000] f64[1000000] --lags 16
        conv2d f32[32,64,56,56] f32[64,64,3,3] --padding 1

options:
  --effort EFFORT  estimate, measure, exhaustive or wisdom_only (default: the
                   planner's, JITCONV_PLANNER_EFFORT, else measure)
  --json           print the explanation as JSON
  -h, --help       show this help
""" + "\n" + __doc__.split("\n\n", 1)[1].split("\n\nThe operands")[0].replace("``", "") + "\n"


def cmd_explain(argv):
    prog = "python -m jitconv explain"
    effort, as_json, rest = None, False, []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if rest:
            rest.append(tok)
        elif tok in ("-h", "--help"):
            print(EXPLAIN_HELP)
            return 0
        elif tok == "--json":
            as_json = True
        elif tok == "--effort" or tok.startswith("--effort="):
            if "=" in tok:
                effort = tok.split("=", 1)[1]
            elif i + 1 < len(argv):
                effort, i = argv[i + 1], i + 1
            else:
                return _fail(prog, "--effort needs a value")
        else:
            rest.append(tok)
        i += 1
    if not rest:
        return _fail(prog, "no problem given; e.g. python -m jitconv explain "
                           "\"convolve f32[2048,2048] f32[5,5] --mode same\"")
    text = " ".join(rest)
    try:
        _effort(prog, effort, ("estimate", "measure", "exhaustive", "wisdom_only"))
        spec = parse(text)
        e = explain(spec)
    except (SpecError, ValueError, TypeError) as err:
        return _fail(prog, str(err))
    except MemoryError:
        return _fail(prog, f"not enough memory for the operands of {text!r}", 1)
    if as_json:
        print(json.dumps(_as_json(e, spec), indent=1))
    else:
        print(repr(e).replace("jitconv.explain: ", f"{spec.text}\n  = ", 1))
    return 0


# ------------------------------------------------------------------- wisdom
def _describe_key(keystr):
    """A short line for a stored key (the planner's repr of the key tuple)."""
    try:
        k = ast.literal_eval(keystr)
    except (ValueError, SyntaxError):
        return keystr
    if isinstance(k, tuple) and len(k) == 13 and k[0] in SIGNAL:
        op, fam, s1, s2, d1, d2, axes, wins, _, workers = k[:10]
        extra = "" if fam == "auto" else f" method={fam}"
        return (f"{op} {d1[1:]}{list(s1)} * {d2[1:]}{list(s2)} axes={list(axes)} "
                f"windows={[list(w) for w in wins]} workers={workers}{extra}")
    if isinstance(k, tuple) and len(k) == 11 and k[0] in BOUNDARY:
        op, _, s1, s2, d1, d2, _, mode, bnd, workers = k[:10]
        return f"{op} {d1[1:]}{list(s1)} * {d2[1:]}{list(s2)} mode={mode} boundary={bnd} workers={workers}"
    if isinstance(k, tuple) and k and str(k[0]).startswith("nn-"):
        return (f"{k[0]} x{list(k[1])} w{list(k[2])} geometry={k[3]} groups={k[4]} "
                f"{k[5]} workers={k[6]}")
    return keystr


def _load_quietly(path):
    """``(decisions, fftw, problem)``: the file's content, or None and why not."""
    from . import _store
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decisions, fftw = _store.load(path)
    why = "; ".join(str(w.message).replace("jitconv wisdom: ", "")
                    .replace("; planning will measure again", "") for w in caught) or None
    return decisions, fftw, why


WISDOM_HELP = """Inspect and move the planner's wisdom file: the decisions measured for
each problem key (with all timings) and FFTW's wisdom, fingerprinted by
machine and library versions (JITCONV_WISDOM sets its path; 'off' disables it).

  show           the file, whether this machine and version can use it, its decisions
  path           print the path of the wisdom file
  export FILE    write the usable decisions and FFTW wisdom to FILE
  import FILE    merge FILE (made by export on a machine like this one) into the wisdom file
  forget         delete the wisdom file: every problem is measured again
"""


def cmd_wisdom(argv):
    prog = "python -m jitconv wisdom"
    p = argparse.ArgumentParser(prog=prog, description=WISDOM_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", metavar="{show,path,export,import,forget}")
    sub.add_parser("show", help="the file, its fingerprint status and its decisions")
    sub.add_parser("path", help="print the wisdom file's path")
    ex = sub.add_parser("export", help="write the usable wisdom to FILE")
    ex.add_argument("file")
    im = sub.add_parser("import", help="merge FILE into the wisdom file")
    im.add_argument("file")
    sub.add_parser("forget", help="delete the wisdom file")
    args = p.parse_args(argv)
    import jitconv
    path = jitconv.wisdom_path()
    if args.what is None:
        p.print_help()
        return 2
    if args.what == "path":
        print(path if path is not None else "off (JITCONV_WISDOM=off: nothing is stored)")
        return 0
    if args.what in ("show", "forget", "import") and path is None:
        return _fail(prog, "wisdom is off (JITCONV_WISDOM=off): there is no wisdom file", 1)
    if args.what == "show":
        print(f"wisdom file: {path}")
        if not os.path.exists(path):
            print("  (no file yet: nothing planned on this machine with this version)")
            return 0
        decisions, fftw, why = _load_quietly(path)
        print(f"  size: {os.path.getsize(path):,} bytes")
        if decisions is None:
            print(f"  not usable here: {why}")
            return 1
        fftw_bytes = sum(len(w) for w in fftw)
        print(f"  usable here: yes (fingerprint matches)  decisions: {len(decisions)}  "
              f"FFTW wisdom: {fftw_bytes:,} bytes")
        rows = []
        for key, rec in decisions.items():
            timed = {k: v for k, v in (rec.get("timings") or {}).items() if v is not None}
            t = timed.get(rec.get("chosen"))
            rows.append((rec.get("chosen", "?"), _sec(t), _describe_key(key)))
        if rows:
            w0 = max(len(r[0]) for r in rows + [("chosen",)])
            w1 = max(len(r[1]) for r in rows + [("", "time")])
            print(f"  {'chosen'.ljust(w0)}  {'time'.ljust(w1)}  problem")
            for r in sorted(rows, key=lambda r: r[2]):
                print(f"  {r[0].ljust(w0)}  {r[1].ljust(w1)}  {r[2]}")
        return 0
    if args.what == "forget":
        if not os.path.exists(path):
            print(f"nothing to forget: no wisdom file at {path}")
            return 0
        decisions, _, _ = _load_quietly(path)
        try:
            os.remove(path)
        except OSError as e:
            return _fail(prog, f"cannot delete {path}: {e.strerror or e}", 1)
        n = "unreadable" if decisions is None else f"{len(decisions)} decisions"
        print(f"deleted {path} ({n}); every problem will be measured again")
        return 0
    if args.what == "export":
        decisions, _, why = _load_quietly(path) if path else (None, None, None)
        if path and os.path.exists(path) and decisions is None:
            print(f"note: the wisdom file is not usable here ({why}); "
                  "exporting FFTW's wisdom only", file=sys.stderr)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ok = jitconv.export_wisdom(args.file)
        if not ok:
            why = "; ".join(str(w.message) for w in caught) or "write failed"
            return _fail(prog, f"cannot write {args.file}: {why}", 1)
        print(f"exported {len(decisions or {})} decisions and FFTW's wisdom to {args.file}")
        return 0
    # import
    if not os.path.isfile(args.file):
        return _fail(prog, f"no such file: {args.file}", 1)
    decisions, _, why = _load_quietly(args.file)
    if decisions is None:
        return _fail(prog, f"cannot import {args.file}: {why or 'not a wisdom file'}", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jitconv.import_wisdom(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = jitconv.export_wisdom(path)
    if not ok:
        why = "; ".join(str(w.message) for w in caught) or "write failed"
        return _fail(prog, f"cannot write {path}: {why}", 1)
    print(f"imported {len(decisions)} decisions from {args.file} into {path}")
    return 0


# --------------------------------------------------------------------- tune
TUNE_HELP = """Plan a list of problems ahead of time (for container images and CI caches):
each is planned and measured as its first call would be, and the decisions
and FFTW's wisdom are stored in the wisdom file (JITCONV_WISDOM), so that
later processes with this machine and version measure nothing.

SPECFILE holds one problem per line in the grammar of 'explain' ('#' starts a
comment); '-' reads standard input. Every line is checked before anything is
planned: a bad line stops the run with its line number and exit status 2.
"""


def read_spec(lines):
    """``[(line number, Spec)]`` of a spec file's lines; ``SpecError`` names the bad line."""
    specs = []
    for no, line in enumerate(lines, 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        try:
            specs.append((no, parse(body)))
        except SpecError as e:
            raise SpecError(f"line {no}: {e}") from None
    return specs


def cmd_tune(argv):
    prog = "python -m jitconv tune"
    p = argparse.ArgumentParser(prog=prog, description=TUNE_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specfile", help="problems, one per line ('-': standard input)")
    p.add_argument("--effort", choices=("measure", "exhaustive"), default=None,
                   help="measure (time the candidates the cost model keeps; the default) "
                        "or exhaustive (time every candidate, FFTW_PATIENT plans)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timing per problem (default: the planner's, 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    args = p.parse_args(argv)
    import jitconv
    from ._bench import _Progress
    try:
        if args.specfile == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(args.specfile, encoding="utf-8") as f:
                lines = f.read().splitlines()
    except OSError as e:
        return _fail(prog, f"cannot read {args.specfile}: {e.strerror or e}")
    except UnicodeDecodeError:
        return _fail(prog, f"{args.specfile} is not a text file")
    try:
        specs = read_spec(lines)
    except SpecError as e:
        return _fail(prog, f"{args.specfile}: {e}")
    if not specs:
        return _fail(prog, f"{args.specfile}: no problems in it")
    if jitconv.wisdom_path() is None:
        print("note: JITCONV_WISDOM=off: decisions are not stored", file=sys.stderr)
    settings = {}
    if args.effort:
        settings["effort"] = args.effort
    if args.budget is not None:
        settings["budget"] = args.budget
    if settings:
        jitconv.set_planner(**settings)
    bar = None if args.quiet else _Progress(len(specs))
    rows, failed = [], 0
    for no, spec in specs:
        if bar:
            bar.show(spec.text)
        try:
            e = explain(spec)
            timed = next((r.measured for r in e.candidates if r.chosen), None)
            rows.append((no, spec.text, e.chosen or "-", e.source, timed))
        except (ValueError, TypeError, MemoryError) as err:
            failed += 1
            rows.append((no, spec.text, "error", f"{type(err).__name__}: {err}", None))
        if bar:
            bar.step(spec.text)
    if bar:
        bar.close()
    if not args.quiet:
        w = max(len(r[1]) for r in rows)
        for no, text, chosen, source, t in rows:
            print(f"{no:4d}  {text.ljust(w)}  {chosen:20s} {source:9s} {_sec(t)}".rstrip())
        path = jitconv.wisdom_path()
        print(f"planned {len(rows) - failed} of {len(rows)} problems"
              + (f"; stored in {path}" if path else ""))
    if failed:
        print(f"{prog}: {failed} problem(s) could not be planned (see above)", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------- main
USAGE = """usage: python -m jitconv COMMAND [ARGS]

commands:
  bench    jitconv against SciPy/NumPy/PyTorch on the workloads W1-W14
  explain  plan one problem, print every candidate's estimate and timing
  wisdom   show | path | export FILE | import FILE | forget
  tune     plan a file of problems ahead of time (container images, CI caches)

'python -m jitconv COMMAND --help' describes each.
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "bench":
        from ._bench import main as bench
        return bench(rest)
    if cmd == "explain":
        return cmd_explain(rest)
    if cmd == "wisdom":
        return cmd_wisdom(rest)
    if cmd == "tune":
        return cmd_tune(rest)
    return _fail("python -m jitconv", f"unknown command {cmd!r}; one of bench, explain, "
                                      "wisdom, tune (python -m jitconv --help)")
