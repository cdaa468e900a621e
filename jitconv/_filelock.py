"""Locks shared by the processes of a machine: byte ranges of one lock file.

The wisdom file's lock file carries two kinds of lock (``_store``): byte 0
is held while a process merges its decisions into the file (milliseconds),
and one byte per problem key (at an offset hashed from the key) is held
while a process measures that key, so that the others wait for its result
instead of measuring too.

Why record locks (POSIX ``fcntl.lockf``, Windows ``msvcrt.locking``):

- The kernel releases them when the holding process dies, however it dies
  (SIGKILL, OOM killer, power of a container): a killed holder leaves no
  stale lock, so there is no pid file to check and nothing to break.
- They are not inherited across ``fork``: a child never holds its parent's
  locks (``flock`` locks, by contrast, belong to the open file, which a
  child shares, so a child could keep a dead parent's lock alive).
- One file holds any number of them: no marker file per key to create,
  unlink and race on.

Their two traps are handled here. POSIX locks belong to the process, so two
threads of one process do not exclude each other: ``_held`` does, under a
thread lock. And closing *any* descriptor of the file drops all of the
process's locks on it: the file is opened once per ``LockFile`` and closed
only when nothing is held.

Where locking does not work (some network filesystems answer ENOLCK or
EOPNOTSUPP), the calls raise ``Unsupported``; the caller decides what to do
(``_store``: one warning, then each process on its own).
"""
import errno
import os
import threading
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

#: errors that mean "another process holds it"; any other error means locking
#: does not work here (ENOLCK, EOPNOTSUPP, ENOSYS on some network filesystems)
_BUSY = {getattr(errno, n) for n in ("EACCES", "EAGAIN", "EWOULDBLOCK", "EDEADLK", "EDEADLOCK")
         if hasattr(errno, n)}


class Unsupported(OSError):
    """File locking does not work for this file (its filesystem, or no access)."""


class LockFile:
    """Exclusive locks on single bytes of the file at ``path`` (created if missing)."""

    def __init__(self, path):
        self.path = path
        self._fd = None
        self._held = set()
        self._mutex = threading.Lock()

    def try_acquire(self, offset):
        """Take byte ``offset`` without waiting: True, or False if another process
        or thread holds it. Raises ``Unsupported`` when locking does not work."""
        with self._mutex:
            if offset in self._held:
                return False
            if self._fd is None:
                self._open()
            try:
                ok = _lock(self._fd, offset)
            except BaseException:
                self._close_if_idle()
                raise
            if ok:
                self._held.add(offset)
            else:
                self._close_if_idle()
            return ok

    def acquire(self, offset, timeout):
        """Take byte ``offset``, waiting up to ``timeout`` seconds: True or False.

        Waits by polling (the holder keeps it for milliseconds; a blocking
        lock could not be bounded, and a stopped holder must not hang us).
        """
        deadline = time.monotonic() + timeout
        pause = 5e-4
        while not self.try_acquire(offset):
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        return True

    def release(self, offset):
        with self._mutex:
            if offset not in self._held:
                return
            self._held.discard(offset)
            try:
                _unlock(self._fd, offset)
            except OSError:
                pass  # closing the descriptor (when idle) releases it anyway
            self._close_if_idle()

    def _open(self):
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
            self._fd = os.open(self.path, flags, 0o666)
        except OSError as e:
            raise Unsupported(e.errno, f"cannot open the lock file: {e.strerror}") from e

    def _close_if_idle(self):
        # closing any descriptor of the file would drop every lock this process holds on it
        if not self._held and self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None

    def _after_fork_in_child(self):
        # record locks are not inherited: the child holds none of its parent's
        self._mutex = threading.Lock()
        self._held = set()
        if self._fd is not None:
            try:
                os.close(self._fd)  # drops only this (child) process's locks: none
            except OSError:
                pass
            self._fd = None


def _lock(fd, offset):
    while True:
        try:
            if fcntl is not None:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset, os.SEEK_SET)
            else:
                os.lseek(fd, offset, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except InterruptedError:
            continue
        except OSError as e:
            if e.errno in _BUSY:
                return False
            raise Unsupported(e.errno, f"file locking does not work here: {e.strerror}") from e


def _unlock(fd, offset):
    if fcntl is not None:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset, os.SEEK_SET)
    else:
        os.lseek(fd, offset, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


_files = {}
_files_lock = threading.Lock()


def lockfile(path):
    """The one ``LockFile`` of this process for ``path`` (one descriptor per file: see above)."""
    path = os.path.abspath(path)
    with _files_lock:
        lf = _files.get(path)
        if lf is None:
            lf = _files[path] = LockFile(path)
        return lf


def _after_fork_in_child():
    global _files_lock
    _files_lock = threading.Lock()
    for lf in _files.values():
        lf._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
