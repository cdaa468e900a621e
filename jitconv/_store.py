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

Many processes share one file (pools, dask workers, MPI ranks, pytest-xdist).
Next to it, ``<file>.lock`` carries their locks (``_filelock``): ``merge``
reads, merges and replaces the file holding byte 0 (milliseconds, never
while measuring), so no process's decision is lost; ``claim`` takes one byte
per problem key while a process measures that key, so the others know to
wait for its result. The kernel drops a dead process's locks. Where locking
does not work (some network filesystems): one warning, then every process
plans on its own and merges best effort (a decision written at the same
moment by another process can be lost; it is measured again).
"""
import errno
import hashlib
import json
import os
import platform
import tempfile
import threading
import warnings
from contextlib import contextmanager

from . import _config, _fftw, _filelock

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
    """The wisdom file in use, or None when persistence is off (``JITCONV_WISDOM=off``).

    ``JITCONV_WISDOM`` names the file, or a directory (an existing one, or a
    path ending in a separator) that holds ``wisdom.json``.
    """
    env = os.environ.get("JITCONV_WISDOM")
    if env is not None:
        if env.strip().lower() in ("", "off", "0", "none", "false"):
            return None
        if env.endswith(tuple(filter(None, (os.sep, os.altsep)))) or os.path.isdir(env):
            return os.path.join(env, "wisdom.json")
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
    return read(p)[:2]


def signature(p=None):
    """What identifies the file's current content without reading it: inode,
    size, modification and change times (every write is a new inode, so a
    coarse clock cannot hide one), or None when there is no file."""
    p = p or path()
    if p is None:
        return None
    try:
        return _sig(os.stat(p))
    except OSError:
        return None


def _sig(st):
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read(p=None):
    """``(decisions, fftw, signature)`` of a wisdom file; the first two are None
    (with one warning) when it is missing, unreadable, corrupt or foreign.
    The signature is that of the content read (see ``signature``)."""
    p = p or path()
    if p is None:
        return None, None, None
    sig = None
    try:
        with open(p, "rb") as f:
            sig = _sig(os.fstat(f.fileno()))
            raw = f.read()
    except FileNotFoundError:
        return None, None, None
    except OSError as e:  # a directory in its place, permission denied, ...
        _warn_once(p, f"cannot read {p!r} ({e.__class__.__name__}: {e}); "
                                 "planning will measure again")
        return None, None, sig
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
        return None, None, sig
    if doc.get("fingerprint") != fingerprint():
        _warn_once(p, f"ignoring {p!r}: made by another machine, thread "
                                    "count or library version; planning will measure again")
        return None, None, sig
    return decisions, fftw, sig


def save(decisions, fftw, p=None):
    """Atomically write ``decisions`` and FFTW wisdom (replacing the file's);
    False (and a warning) on failure."""
    p = p or path()
    if p is None:
        return False
    with locked(p):
        return _write(decisions, fftw, p) is not None


def merge(new, max_keys, p=None):
    """Add the decisions ``new`` to the wisdom file, losing none stored by others.

    Under the inter-process lock: read the file, add ``new`` (at the end: the
    file keeps the ``max_keys`` newest), import the file's FFTW wisdom into
    this process (FFTW's own measurements are shared too), write decisions
    and this process's FFTW wisdom.

    Returns
    -------
    (dict, tuple) or (None, None)
        Every decision now in the file and the file's signature after the
        write; ``(None, None)`` when nothing was written (warned).
    """
    p = p or path()
    if p is None:
        return None, None
    # FFTW's lock first: a thread of ours planning an FFT must not keep the
    # file locked (against every process) while we wait for FFTW
    with _fftw.LOCK, locked(p) as held:
        if held:
            _remove_stale_temps(p)
        current, fftw, _ = read(p)
        merged = dict(current or {})
        for k in new:
            merged.pop(k, None)
        merged.update(new)
        for k in list(merged)[:max(0, len(merged) - max_keys)]:
            del merged[k]  # bounded file: the oldest decisions go first
        if fftw is not None:
            try:
                _fftw.import_wisdom(fftw)
            except ValueError:
                pass  # malformed: ours replaces it
        sig = _write(merged, _fftw.export_wisdom(), p)
    return (merged, sig) if sig is not None else (None, None)


def _write(decisions, fftw, p):
    """Write the file atomically; its new signature, or None (and a warning)."""
    # decisions keep their order (oldest first: the bound drops from the front)
    payload = json.dumps({"decisions": decisions, "fftw": [w.hex() for w in fftw]},
                         separators=(",", ":"))
    doc = {"format": FORMAT, "fingerprint": fingerprint(),
           "sha256": hashlib.sha256(payload.encode("utf-8")).hexdigest(), "payload": payload}
    data = json.dumps(doc).encode("utf-8")
    d = os.path.dirname(os.path.abspath(p))
    tmp = None
    with _lock:
        try:
            os.makedirs(d, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(p), suffix=".tmp", dir=d)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
            tmp = None
            return _sig(os.stat(p))
        except OSError as e:  # read-only filesystem, disk full, permission denied
            _warn_once(p, f"cannot write {p!r} ({e.__class__.__name__}: {e}); "
                                     "decisions are kept in memory only")
            return None
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _temp_prefix(p):
    return f".{os.path.basename(p)}-"


def _remove_stale_temps(p):
    """Temporary files of writers killed mid-write. Only called under the lock:
    every writer holds it, so any temporary file seen then is stale."""
    d = os.path.dirname(os.path.abspath(p))
    prefix = _temp_prefix(p)
    try:
        names = os.listdir(d)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass


# ------------------------------------------------------ inter-process locks

#: the lock file's byte held while merging; bytes 1.. are per-key measuring marks
_MERGE = 0
#: seconds to wait for the merge lock (held for milliseconds): beyond it the
#: holder is stuck (stopped, or a hung network filesystem) and we write without it
LOCK_TIMEOUT = 10.0
_no_locking = set()


def lock_path(p):
    return p + ".lock"


def _lockfile(p):
    """The lock file of wisdom file ``p``, or None where locking does not work."""
    return None if p in _no_locking else _filelock.lockfile(lock_path(p))


def _unsupported(p, err):
    """Locking does not work for ``p``: one warning, then each process on its own."""
    _no_locking.add(p)
    d = os.path.dirname(os.path.abspath(p))
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and not os.access(d, os.W_OK):
        return  # a read-only wisdom directory: writing warns (once) if it is tried
    _warn_once(("lock", p), f"file locking does not work for {lock_path(p)!r} ({err}); "
               "processes sharing this wisdom file plan on their own (a key may be "
               "measured by several, and a decision stored at the same moment by "
               "another process can be lost and measured again)")


@contextmanager
def locked(p):
    """Hold the inter-process lock of wisdom file ``p`` for a read-merge-write.

    Yields True while held; False when writing without it (locking does not
    work here, or the holder kept it ``LOCK_TIMEOUT`` seconds: one warning).
    """
    lf = _lockfile(p)
    held = False
    if lf is not None:
        try:
            held = lf.acquire(_MERGE, LOCK_TIMEOUT)
        except _filelock.Unsupported as e:
            _unsupported(p, e)
        else:
            if not held:
                _warn_once(("lock-timeout", p), f"the lock {lock_path(p)!r} was held for more "
                           f"than {LOCK_TIMEOUT:g} s by another process; writing without it")
    try:
        yield held
    finally:
        if held:
            lf.release(_MERGE)


class Claim:
    """This process measures a key; others that need it wait for the stored result.

    A context manager; ``release()`` when the decision is stored (or given up).
    """

    def __init__(self, lf=None, offset=0):
        self._lf, self._offset = lf, offset

    def release(self):
        if self._lf is not None:
            self._lf.release(self._offset)
            self._lf = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def claim(keystr, p=None):
    """Claim the measurement of the key ``keystr`` without waiting.

    Returns a ``Claim``, or None when another process measures that key now.
    With persistence off, or where locking does not work, the claim excludes
    nobody (each process measures for itself, as it always could).
    """
    p = p or path()
    lf = None if p is None else _lockfile(p)
    if lf is None:
        return Claim()
    off = _key_offset(keystr)
    try:
        return Claim(lf, off) if lf.try_acquire(off) else None
    except _filelock.Unsupported as e:
        _unsupported(p, e)
        return Claim()


def _fp_text():
    global _FP_TEXT
    if _FP_TEXT is None:
        _FP_TEXT = json.dumps(fingerprint(), sort_keys=True)
    return _FP_TEXT


_FP_TEXT = None


def _key_offset(keystr):
    """The lock-file byte of a key: a hash of the fingerprint and the key (two
    fingerprints sharing a file do not wait for each other's decisions).
    Below 2**31 for Windows' locking; a collision between two keys measured
    at the same moment only makes one wait, then measure."""
    h = hashlib.sha256((_fp_text() + "\0" + keystr).encode("utf-8")).digest()
    return 1 + int.from_bytes(h[:8], "little") % (2**31 - 2)
