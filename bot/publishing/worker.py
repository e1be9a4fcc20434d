"""A worker process for parsing uploads, so a large document never stalls members' answers.

Parsing is pure Python: in a thread it holds the GIL, and every answer waits for it in 5 ms
slices (benchmarks/upload.py measures both). One spawned process, started on the first
upload and kept for the next ones; a worker that dies (killed, out of memory) is replaced.

The worker dies with the bot, even when the bot is killed with SIGKILL and cannot shut it
down: on Linux the kernel sends it SIGKILL when its parent ends (prctl PR_SET_PDEATHSIG).
Multiprocessing's resource tracker then ends too, as its last writer is gone.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

# One at a time: uploads are rare and come from a few admins; a second worker would only
# take a core from answering.
WORKERS = 1


class ParseWorker:
    """Runs picklable functions in a separate process; async, never blocking the loop."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, function: Callable[..., T], *args) -> T:
        """`function(*args)` in the worker process; a dead worker is replaced for next time
        and BrokenProcessPool raised."""
        pool = self._pool or self._start()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            log.error("the parse worker died; a new one starts with the next upload")
            if self._pool is pool:
                self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the bot's process has threads (the database's, the HTTP clients')
        # whose locks a forked child could inherit held.
        self._pool = ProcessPoolExecutor(max_workers=WORKERS,
                                         mp_context=multiprocessing.get_context("spawn"),
                                         initializer=die_with_parent, initargs=(os.getpid(),))
        return self._pool


# prctl(2): "set the parent-death signal of the calling process".
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """In the worker, first thing: be killed when the bot's process ends, however it ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != parent_pid:  # the bot died before the signal was armed
        os._exit(1)
