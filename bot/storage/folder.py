"""A lock on the shared knowledge folder, held across threads and processes.

Several instances may publish, retire and teach into one folder (a shared volume): a
read-modify-write of a questions file, or the check that no other file has a lecture's id,
must not interleave with another instance's. An advisory `flock` on `<folder>/.lock` does
that across processes; the thread lock covers this process's own threads (flock is per open
file, and each thread opens its own).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: one process per folder, as before
    fcntl = None

LOCK_FILE = ".lock"
_thread_lock = threading.RLock()
_held = threading.local()  # how deep this thread is in folder_lock (flock once, outermost)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    with _thread_lock:
        depth = getattr(_held, "depth", 0)
        if depth or fcntl is None or not folder.is_dir():
            _held.depth = depth + 1
            try:
                yield
            finally:
                _held.depth = depth
            return
        with (folder / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _held.depth = 1
            try:
                yield
            finally:
                _held.depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)
