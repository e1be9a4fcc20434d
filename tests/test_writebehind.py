"""The write-behind queue: records wait while the database refuses them, never lost silently."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from bot import texts
from bot.handlers.errors import failure_text
from bot.writebehind import WriteBehind


class FlakyStore:
    """Refuses writes (as SQLite does: locked, or full) until `fixed`."""

    def __init__(self, error: Exception | None = None):
        self.error = error
        self.written: list[dict] = []

    async def write(self, record: dict) -> None:
        if self.error is not None:
            raise self.error
        self.written.append(record)


async def test_records_wait_while_the_disk_is_full_and_are_written_in_order_after(tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr("bot.writebehind.FIRST_RETRY_S", 0.01)
    store = FlakyStore(sqlite3.OperationalError("database or disk is full"))
    queue = WriteBehind(tmp_path / "spill.jsonl", {"q": store.write})
    await queue.start()
    for n in range(5):
        queue.submit("q", {"n": n})
    await asyncio.sleep(0.05)
    assert store.written == [] and queue.pending == 5
    store.error = None
    await asyncio.wait_for(queue.drained(), 5)
    assert [r["n"] for r in store.written] == [0, 1, 2, 3, 4]
    await queue.close()
    assert queue.lost == 0 and not (tmp_path / "spill.jsonl").exists()


async def test_beyond_the_memory_limit_records_are_spilled_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.writebehind.FIRST_RETRY_S", 0.01)
    store = FlakyStore(sqlite3.OperationalError("database is locked"))
    queue = WriteBehind(tmp_path / "spill.jsonl", {"q": store.write}, memory_limit=3)
    await queue.start()
    for n in range(10):
        queue.submit("q", {"n": n})
    await asyncio.sleep(0.05)
    spilled = (tmp_path / "spill.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["record"]["n"] for line in spilled] == [3, 4, 5, 6, 7, 8, 9]
    store.error = None
    await asyncio.wait_for(queue.drained(), 5)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(queue.drained(), 5)
    assert [r["n"] for r in store.written] == list(range(10))
    await queue.close()
    assert queue.lost == 0


async def test_a_record_that_can_never_be_written_is_dropped_and_counted(tmp_path, caplog):
    class Broken(FlakyStore):
        async def write(self, record: dict) -> None:
            if record["n"] == 1:
                raise sqlite3.IntegrityError("NOT NULL constraint failed")
            await super().write(record)

    store = Broken()
    queue = WriteBehind(tmp_path / "spill.jsonl", {"q": store.write})
    await queue.start()
    for n in range(3):
        queue.submit("q", {"n": n})
    await asyncio.wait_for(queue.drained(), 5)
    await queue.close()
    assert [r["n"] for r in store.written] == [0, 2]
    assert queue.lost == 1
    assert "lost (1 so far)" in caplog.text


def test_the_database_refusal_is_named_to_the_user():
    assert failure_text(sqlite3.OperationalError("database or disk is full")) == \
        texts.DATABASE_FULL
    assert failure_text(sqlite3.OperationalError("database is locked")) == texts.DATABASE_BUSY
    assert failure_text(sqlite3.OperationalError("disk I/O error")) == \
        texts.DATABASE_DISK_ERROR
    assert failure_text(ValueError("x")) == texts.ANSWER_FAILED
