"""The .docx parse worker dies with the bot: a real bot-like process, killed with SIGKILL.

The process starts the worker as the bot does on the first upload, then is killed -9 (it
cannot shut the worker down). Nothing it started may survive it: not the worker, not
multiprocessing's resource tracker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

_BOT_LIKE = """
import asyncio, os, sys
from bot.publishing.worker import ParseWorker

async def main():
    worker = ParseWorker()
    print(await worker.run(os.getpid), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the test closes stdin: a normal exit

asyncio.run(main())
"""
GONE_WITHIN_S = 15.0


def _children_of(pid: int) -> set[int]:
    """Every live process descended from `pid` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


@pytest.mark.parametrize("end", ["kill -9", "normal exit"])
def test_the_bot_leaves_no_parse_worker_behind(end):
    bot = subprocess.Popen([sys.executable, "-c", _BOT_LIKE], cwd=ROOT, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    started: set[int] = set()
    try:
        worker_pid = int(bot.stdout.readline())
        started = _children_of(bot.pid)
        assert worker_pid in started and len(started) >= 2  # the worker and its tracker
        if end == "kill -9":
            os.kill(bot.pid, signal.SIGKILL)
        else:
            bot.stdin.close()
        bot.wait(timeout=30)
        deadline = time.monotonic() + GONE_WITHIN_S
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if _alive(pid)]
    finally:
        bot.kill()
        for pid in started:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
