"""Persisted planner knowledge ("wisdom"): decisions and FFTW wisdom on disk.

File format (JSON)::

    {"format": 1, "fingerprint": {...}, "sha256": "<hex of payload>",
     "payload": "<JSON text of {'decisions': {...}, 'fftw': [hex, hex, hex]}>"}

The fingerprint holds everything that makes a stored timing meaningless when
it changes (library versions, FFTW version, CPU model and flags, thread
count). A file whose fingerprint differs, whose checksum fails, or which
cannot be read or parsed gives one warning and is ignored: the planner
measures again. FFTW wisdom is validated before FFTW sees it (a corrupt
entry would abort the process inside FFTW). Writes go to a temporary file in
the same directory, are fsynced, then atomically renamed.
"""
import hashlib
import json
import os
import platform
import tempfile
import threading
import warnings

from . import _config, _fftw

FORMAT = 1
_warned = set()
_lock = threading.Lock()


def _warn_once(what, msg):
    """One warning per wisdom file (or topic) and process: a bad file must not flood."""
    if what not in _warned:
        _warned.add(what)
        warnings.warn(f"jitconv wisdom: {msg}",
                      RuntimeWarning, stacklevel=4)


def path():
    """The wisdom file in use, or None when persistence is off (``JITCONV_WISDOM=off``)."""
    env = os.environ.get("JITCONV_WISDOM")
    if env is not None:
        if env.strip().lower() in ("", "off", "0", "none", "false"):
            return None
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jitconv", "wisdom.json")


def _cpu():
    model, flags = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].strip()
                if flags and model:
                    break
    except OSError:
        pass
    return model, hashlib.sha256(flags.encode()).hexdigest()[:16]


_FP = None


def _code_hash():
    """Hash of jitconv's own sources: decisions made by other code are stale
    even when the version number did not change (a development checkout)."""
    h = hashlib.sha256()
    root = os.path.dirname(os.path.abspath(__file__))
    for d, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(d, name)
                try:
                    with open(path, "rb") as f:
                        h.update(os.path.relpath(path, root).encode() + b"\0" + f.read())
                except OSError:
                    pass
    return h.hexdigest()[:16]


def fingerprint():
    global _FP
    if _FP is None:
        import numba
        import numpy
        model, flags = _cpu()
        _FP = {"jitconv": _config.VERSION, "code": _code_hash(), "numba": numba.__version__, "numpy": numpy.__version__,
               "pyfftw": _fftw.pyfftw_version(), "fftw": _fftw.fftw_version(),
               "cpu": model, "cpu_flags": flags, "cpus": _config.CPUS,
               "numba_threads": numba.config.NUMBA_NUM_THREADS,
               "machine": platform.machine()}
    return _FP


def load(p=None):
    """Read a wisdom file: ``(decisions, fftw)``, or ``(None, None)`` with one warning."""
    p = p or path()
    if p is None:
        return None, None
    try:
        with open(p, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None, None
    except OSError as e:  # a directory in its place, permission denied, ...
        _warn_once(p, f"cannot read {p!r} ({e.__class__.__name__}: {e}); "
                                 "planning will measure again")
        return None, None
    try:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("unknown format")
        payload = doc["payload"]
        if hashlib.sha256(payload.encode("utf-8")).hexdigest() != doc["sha256"]:
            raise ValueError("checksum mismatch")
        body = json.loads(payload)
        decisions = body["decisions"]
        fftw = tuple(bytes.fromhex(h) for h in body["fftw"])
        if not isinstance(decisions, dict) or len(fftw) != 3:
            raise ValueError("bad payload")
    except Exception as e:  # noqa: BLE001 - any corruption is handled the same way
        _warn_once(p, f"ignoring corrupt file {p!r} ({e.__class__.__name__}: {e}); "
                                    "planning will measure again")
        return None, None
    if doc.get("fingerprint") != fingerprint():
        _warn_once(p, f"ignoring {p!r}: made by another machine, thread "
                                    "count or library version; planning will measure again")
        return None, None
    return decisions, fftw


def save(decisions, fftw, p=None):
    """Atomically write ``decisions`` and FFTW wisdom; False (and a warning) on failure."""
    p = p or path()
    if p is None:
        return False
    payload = json.dumps({"decisions": decisions, "fftw": [w.hex() for w in fftw]},
                         sort_keys=True, separators=(",", ":"))
    doc = {"format": FORMAT, "fingerprint": fingerprint(),
           "sha256": hashlib.sha256(payload.encode("utf-8")).hexdigest(), "payload": payload}
    data = json.dumps(doc).encode("utf-8")
    d = os.path.dirname(os.path.abspath(p))
    tmp = None
    with _lock:
        try:
            os.makedirs(d, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".wisdom-", suffix=".tmp", dir=d)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
            tmp = None
            return True
        except OSError as e:  # read-only filesystem, disk full, permission denied
            _warn_once(p, f"cannot write {p!r} ({e.__class__.__name__}: {e}); "
                                     "decisions are kept in memory only")
            return False
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
