"""Writes a reply must not wait for: logging a question, remembering who spoke.

The answer goes out first; these records are queued here and written by one background task.
While the database refuses them (another process holds the write lock, the disk is full) they
are retried with a growing pause, kept in memory, and beyond `MEMORY_LIMIT` appended to a spill
file next to the database; the spill file is read back at the next start. A record can only be
lost with the process (kill -9) or when even the spill file cannot be written, and each loss is
counted in the log.

Records are plain JSON-able dicts, written by the store function registered for their kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from bot.storage import OperationalError

log = logging.getLogger(__name__)

Record = dict[str, Any]
Writer = Callable[[Record], Awaitable[Any]]

# Records kept in memory while the database refuses them; more go to the spill file. A record
# is a few hundred bytes: this is about a megabyte, a busy hour of a hundred groups.
MEMORY_LIMIT = 5_000
# First pause after a refused write, doubled up to the longest: an admin's sqlite3 shell or a
# backup holds the lock for seconds; a full disk is fixed in minutes.
FIRST_RETRY_S = 0.5
LONGEST_RETRY_S = 30.0
# At shutdown, how long the queue may still try the database before the rest is spilled.
CLOSE_FLUSH_S = 3.0


def is_transient(error: BaseException) -> bool:
    """A refusal that passes: locked, busy, full, I/O. Anything else is a bug in the record."""
    return isinstance(error, OperationalError | OSError)


class WriteBehind:
    """A queue of records, written in order by one background task, never lost silently."""

    def __init__(self, spill_path: Path, writers: Mapping[str, Writer],
                 memory_limit: int = MEMORY_LIMIT):
        self.spill_path = spill_path
        self._writers = dict(writers)
        self._memory_limit = memory_limit
        self._queue: deque[tuple[str, Record]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task | None = None
        self._closing = False
        self._refusing = False  # the last write was refused: queue, don't hand over at once
        self._in_flight = 0
        self._writing: set[asyncio.Task] = set()
        self._close_by = 0.0
        # Beyond the memory limit, in order, until the one spilling task appends them.
        self._overflow: list[tuple[str, Record]] = []
        self._spiller: asyncio.Task | None = None
        self.spilled = 0  # records in the spill file, not yet read back
        self.lost = 0

    async def start(self, replay: bool = True) -> None:
        """Starts writing; first reads back what an earlier run spilled, if `replay` (only
        the bot does: a command-line tool beside it must not take the bot's spill file)."""
        if replay:
            self._queue.extend(await asyncio.to_thread(self._read_spill))
        if self._queue:
            log.info("%d records spilled by an earlier run are written now", len(self._queue))
            self._idle.clear()
        self._task = asyncio.create_task(self._run(), name="write-behind")

    def submit(self, kind: str, record: Record) -> None:
        """Starts writing a record and returns at once; unknown kinds are a programming error.

        While the database takes records, each is handed to it at once (so a read that comes
        later finds it); once it refuses one, records queue behind it and are retried."""
        if kind not in self._writers:
            raise ValueError(f"no writer for {kind!r}")
        if self._closing:
            self.lost += 1
            log.error("a %s record came after shutdown began: lost (%d so far)", kind,
                      self.lost)
            return
        self._idle.clear()
        if not self._queue and not self._refusing:
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._write_now(kind, record))
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)
            return
        self._enqueue(kind, record)

    def _enqueue(self, kind: str, record: Record) -> None:
        self._queue.append((kind, record))
        self._wake.set()
        if len(self._queue) > self._memory_limit:
            self._overflow.append(self._queue.pop())
            if self._spiller is None or self._spiller.done():
                self._spiller = asyncio.get_running_loop().create_task(self._spill_overflow())

    async def _write_now(self, kind: str, record: Record) -> None:
        try:
            await self._writers[kind](record)
        except Exception as error:  # noqa: BLE001 - classified in _refused
            if self._refused(kind, error):
                self._refusing = True
                self._enqueue(kind, record)
        finally:
            self._in_flight -= 1
            self._check_idle()

    def _refused(self, kind: str, error: Exception) -> bool:
        """True if the record is to be tried again; else it is lost, and counted."""
        if is_transient(error):
            return True
        self.lost += 1
        log.error("a %s record was refused for good: lost (%d so far)", kind, self.lost,
                  exc_info=error)
        return False

    def _check_idle(self) -> None:
        if not (self._queue or self._overflow or self._in_flight or self.spilled):
            self._idle.set()

    @property
    def pending(self) -> int:
        """Records not yet in the database (in memory and spilled)."""
        return len(self._queue) + len(self._overflow) + self._in_flight + self.spilled

    async def drained(self) -> None:
        """Waits until every queued record is in the database."""
        await self._idle.wait()

    async def close(self, flush_s: float = CLOSE_FLUSH_S) -> None:
        """Gives the database `flush_s` to take the rest, then spills what is left.

        A write in progress is never abandoned (it could land after its record was spilled,
        and be written twice): the worker stops between writes."""
        loop = asyncio.get_running_loop()
        self._closing = True
        self._close_by = loop.time() + flush_s
        self._wake.set()
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)
        if self._task is not None:
            await self._task
        if self._spiller is not None:
            await self._spiller
        if self._queue:
            left = list(self._queue)
            self._queue.clear()
            await self._spill_async(left)
            log.warning("%d records wait in %s for the next start", self.spilled,
                        self.spill_path)

    async def _run(self) -> None:
        pause = FIRST_RETRY_S
        while True:
            if (not self._queue and self.spilled and not self._closing
                    and (self._spiller is None or self._spiller.done())):
                self._queue.extend(await asyncio.to_thread(self._read_spill))
            if not self._queue or self._past_close():
                self._refusing = False
                self._check_idle()
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            kind, record = self._queue[0]
            try:
                await self._writers[kind](record)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - classified in _refused
                if not self._refused(kind, error):
                    self._queue.popleft()
                    continue
                self._refusing = True
                if self._closing:
                    return
                log.warning("database refused a %s record (%s); %d waiting, retry in %.1f s",
                            kind, error, self.pending, pause)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    # A close cuts the pause short: the last try comes at once.
                    await asyncio.wait_for(self._wake.wait(), pause)
                pause = min(pause * 2, LONGEST_RETRY_S)
                continue
            self._queue.popleft()
            if pause > FIRST_RETRY_S:
                log.info("database takes records again; %d waiting", self.pending)
            pause = FIRST_RETRY_S

    def _past_close(self) -> bool:
        return self._closing and asyncio.get_running_loop().time() >= self._close_by

    async def _spill_overflow(self) -> None:
        while self._overflow:
            batch, self._overflow = self._overflow, []
            await self._spill_async(batch)

    async def _spill_async(self, records: list[tuple[str, Record]]) -> None:
        try:
            await asyncio.to_thread(self._append_spill, records)
        except OSError as error:
            self.lost += len(records)
            log.error("could not spill %d records to %s (%s): lost (%d so far)", len(records),
                      self.spill_path, error, self.lost)
            return
        self.spilled += len(records)
        log.warning("%d records spilled to %s until the database takes them", len(records),
                    self.spill_path)

    def _append_spill(self, records: list[tuple[str, Record]]) -> None:
        lines = "".join(json.dumps({"kind": kind, "record": record}, ensure_ascii=False) + "\n"
                        for kind, record in records)
        with self.spill_path.open("a", encoding="utf-8") as spill:
            spill.write(lines)
            spill.flush()

    def _read_spill(self) -> list[tuple[str, Record]]:
        """Everything spilled, oldest first; the file is removed (its records are queued)."""
        try:
            lines = self.spill_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                entry = json.loads(line)
                kind, record = entry["kind"], entry["record"]
            except (ValueError, KeyError, TypeError):
                self.lost += 1  # a line cut short by a kill while it was written
                log.error("unreadable line in %s: lost (%d so far)", self.spill_path, self.lost)
                continue
            if kind in self._writers and isinstance(record, dict):
                records.append((kind, record))
        self.spill_path.unlink(missing_ok=True)
        self.spilled = 0
        return records
