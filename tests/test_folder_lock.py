"""The knowledge folder's lock holds across processes (instances sharing a volume)."""

from __future__ import annotations

import subprocess
import sys
import threading

from bot.storage.folder import LOCK_FILE, folder_lock
from tests.conftest import ROOT

HOLDER = """
import sys
from pathlib import Path
from bot.storage.folder import folder_lock
with folder_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # until the test lets go
"""


def test_another_process_holding_the_lock_keeps_this_one_out_until_it_lets_go(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    entered = threading.Event()

    def enter() -> None:
        with folder_lock(tmp_path):
            entered.set()

    try:
        assert holder.stdout.readline().strip() == "held"
        waiter = threading.Thread(target=enter)
        waiter.start()
        assert not entered.wait(0.5), "entered while another process held the lock"
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert entered.wait(30), "never entered once the other process let go"
        waiter.join()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert (tmp_path / LOCK_FILE).exists()


def test_the_lock_is_reentrant_within_a_thread(tmp_path):
    with folder_lock(tmp_path), folder_lock(tmp_path):  # would deadlock on a second flock
        pass
