"""Start-up catch-up benchmark: the real bot sending 1,000 chats the daily push it missed.

Setup
- `--chats N` (default 1,000) private chats (ids 1,000,001 …, positive, so only Telegram's
  global limit applies, not the per-group one) are subscribed by writing their plans straight
  into a fresh SQLite database with `bot.stores.Stores` in a temporary folder: the shipped
  lecture from its first passage, 08:00 Asia/Shanghai, every day, schedule set the evening
  before. Nothing has been pushed yet.
- The bot: `bot.app.build_application(settings, knowledge, rate_limiter=…, clock=…)` with the
  clock fixed at 08:05 local on that day, started the way tests/botharness.running_bot starts
  it (`async with app`, `prepare`, `start`, long polling) against `tests.fakebotapi.FakeBotApi`
  on 127.0.0.1: real PTB, real HTTP, nothing mocked. `prepare` runs `restore_jobs`, which
  schedules the jobs; the catch-up job, run as soon as the JobQueue starts, finds every
  chat's 08:00 push due and sends it while the bot already polls for messages. The
  knowledge folder is loaded once, before anything is timed.
- Twice, each on its own fresh database and server: with the real `AIORateLimiter` (PTB's
  default limits: 30 requests per second overall) and with no rate limiter.

Measures (all `time.monotonic()`, the clock the server stamps `Call.time` with)
- Total: from just before `prepare` to the arrival at the server of the last of the N
  sendMessage calls. Messages per second = N / total. Also: start -> first message, the
  steady rate between first and last message, and start -> first getUpdates (until then the
  bot does not read its users' messages).
- Correctness: every chat got exactly one sendMessage (counted per chat_id), and the database
  holds N delivered pushes (message_id set) and N plans advanced to the first passage.
- Restart: a second Application started on the same database, same server, same 08:05 clock;
  it must send nothing (at most one scheduled push per chat and day).

Run from the repository root: `python -m benchmarks.push [--chats N]`. Prints a table and
writes it to benchmarks/results/push.txt, and the numbers to benchmarks/results/push.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import AIORateLimiter

from benchmarks import REPO_ROOT, Report, positive_int, write_result
from benchmarks.harness import Env, environment, quiet_logging
from bot.app import build_application, cleanup, prepare
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.stores import Stores
from bot.study.delivery import CATCH_UP_DONE_KEY
from bot.study.rules import EVERY_DAY
from bot.study.store import Plan
from tests.fakebotapi import Call, FakeBotApi

KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
TOKEN = "123456:BENCH-token-for-the-fake-server"
TIMEZONE = "Asia/Shanghai"
LOCAL = ZoneInfo(TIMEZONE)
PUSH_TIME = "08:00"
SUBSCRIBED_AT = datetime(2025, 3, 2, 21, 0, tzinfo=LOCAL)  # the evening before
NOW = datetime(2025, 3, 3, 8, 5, tzinfo=LOCAL)  # the bot starts five minutes late
FIRST_CHAT = 1_000_001
RESTART_SETTLE_S = 0.5  # after a restart's polling begins, wait this long for stray sends
GLOBAL_LIMIT_PER_S = 30  # PTB's AIORateLimiter default (Telegram's ~30 messages/s)



@dataclass(frozen=True)
class Run:
    """One mode: a first start that catches up, and a restart on the same database."""

    rate_limiter: bool
    chats: int
    messages: int
    first_s: float  # start -> first sendMessage arrives
    total_s: float  # start -> last sendMessage arrives
    polling_s: float  # start -> first getUpdates arrives
    chats_with_one: int
    chats_with_more: int
    chats_with_none: int
    delivered_in_db: int
    plans_advanced: int
    restart_messages: int
    restart_polling_s: float

    @property
    def per_second(self) -> float:
        return self.messages / self.total_s

    @property
    def steady_per_second(self) -> float:
        span = self.total_s - self.first_s
        return (self.messages - 1) / span if span > 0 else float("nan")

    @property
    def ok(self) -> bool:
        return (self.messages == self.chats == self.chats_with_one == self.delivered_in_db
                == self.plans_advanced and self.restart_messages == 0)


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def chat_ids(count: int) -> range:
    return range(FIRST_CHAT, FIRST_CHAT + count)


async def subscribe(database: Path | str, chats: int, lecture_id: str,
                    spill: Path | None = None) -> float:
    """Writes the plans as /subscribe would have; returns the seconds it took.

    `database`: a SQLite file or a postgresql:// URL (then `spill` names this run's own
    file for deferred records)."""
    started = time.perf_counter()
    stores = await Stores.open(database, spill=spill)
    try:
        for chat_id in chat_ids(chats):
            await stores.study.save_plan(Plan(chat_id=chat_id, lecture_id=lecture_id,
                                              last_passage_id=None, time_of_day=PUSH_TIME,
                                              weekdays=EVERY_DAY, timezone=TIMEZONE,
                                              schedule_set_at=SUBSCRIBED_AT, active=True))
    finally:
        await stores.close()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Start:
    started: float  # time.monotonic() just before prepare
    sends: list[Call]
    first_poll: Call


async def start_bot(server: FakeBotApi, knowledge: KnowledgeBase, db_path: Path,
                    rate_limiter: bool, timeout: float, settle: float = 0.0,
                    database_url: str | None = None) -> Start:
    """One start as tests/botharness.running_bot does it; returns when polling has begun.

    With `database_url` the bot keeps its data in that PostgreSQL database (`db_path` then
    only places its spill file), as BOT_DATABASE_URL makes it."""
    settings = Settings(token=TOKEN, api_base_url=server.url, knowledge_dir=KNOWLEDGE_DIR,
                        db_path=db_path, timezone=TIMEZONE, database_url=database_url)
    app = build_application(settings, knowledge, rate_limiter=rate_limiter, clock=lambda: NOW)
    if rate_limiter:
        assert isinstance(app.bot.rate_limiter, AIORateLimiter)
    else:
        assert app.bot.rate_limiter is None
    async with app:
        mark = server.mark()
        started = time.monotonic()
        await asyncio.wait_for(prepare(app), timeout)  # post_init runs only under run_polling
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                        allowed_updates=Update.ALL_TYPES)
        try:
            # A previous run's long poll may still be answered after `mark`: not ours.
            first_poll = (await server.wait_for("getUpdates", lambda c: c.time >= started,
                                                since=mark, timeout=10))[0]
            await asyncio.wait_for(app.bot_data[CATCH_UP_DONE_KEY].wait(), timeout)
            await asyncio.sleep(settle)
        finally:
            await app.updater.stop()
            await app.stop()
            await cleanup(app)
    sends = [call for call in server.calls("sendMessage") if call.seq > mark]
    return Start(started, sends, first_poll)


async def database_counts(database: Path | str, first_passage_id: str,
                          spill: Path | None = None) -> tuple[int, int]:
    """(delivered pushes, plans advanced to the first passage) as the database holds them,
    read through the bot's own stores (either engine)."""
    stores = await Stores.open(database, spill=spill)
    try:
        return await stores.database.run(_counts, stores.database, first_passage_id)
    finally:
        await stores.close()


def _counts(database, first_passage_id: str) -> tuple[int, int]:
    connection = database.connection()
    delivered = connection.execute(
        "SELECT COUNT(DISTINCT chat_id) FROM pushes WHERE message_id IS NOT NULL").fetchone()
    advanced = connection.execute(
        "SELECT COUNT(*) FROM plans WHERE last_passage_id = ?", (first_passage_id,)).fetchone()
    return delivered[0], advanced[0]


async def measure_mode(knowledge: KnowledgeBase, folder: Path, chats: int,
                       rate_limiter: bool, database_url: str | None = None) -> Run:
    """One mode on a fresh database: a SQLite file in `folder`, or the empty PostgreSQL
    database `database_url`."""
    label = "rate limiter on" if rate_limiter else "rate limiter off"
    if database_url:
        label += ", PostgreSQL"
    lecture = knowledge.library.lectures[0]
    db_path = folder / f"push-{'limited' if rate_limiter else 'unlimited'}.sqlite3"
    database = database_url or db_path
    spill = db_path.with_name(db_path.name + ".tool.pending.jsonl")
    progress(f"{label}: subscribing {chats:,} chats")
    seconds = await subscribe(database, chats, lecture.lecture_id, spill)
    progress(f"{label}: {chats:,} plans written in {seconds:.1f} s; starting the bot")
    timeout = 60.0 + 3.0 * chats / GLOBAL_LIMIT_PER_S
    with FakeBotApi() as server:
        first = await start_bot(server, knowledge, db_path, rate_limiter, timeout,
                                database_url=database_url)
        progress(f"{label}: restart on the same database")
        again = await start_bot(server, knowledge, db_path, rate_limiter, timeout,
                                settle=RESTART_SETTLE_S, database_url=database_url)
    per_chat = Counter(call.params["chat_id"] for call in first.sends)
    expected = set(chat_ids(chats))
    times = sorted(call.time for call in first.sends)
    delivered, advanced = await database_counts(database, lecture.passages[0].passage_id,
                                                spill)
    return Run(
        rate_limiter=rate_limiter, chats=chats, messages=len(first.sends),
        first_s=times[0] - first.started if times else float("nan"),
        total_s=times[-1] - first.started if times else float("nan"),
        polling_s=first.first_poll.time - first.started,
        chats_with_one=sum(1 for chat in expected if per_chat[chat] == 1),
        chats_with_more=sum(1 for chat in expected if per_chat[chat] > 1),
        chats_with_none=sum(1 for chat in expected if per_chat[chat] == 0),
        delivered_in_db=delivered, plans_advanced=advanced,
        restart_messages=len(again.sends),
        restart_polling_s=again.first_poll.time - again.started)


async def measure(chats: int) -> list[Run]:
    progress(f"loading {KNOWLEDGE_DIR.name}/")
    knowledge = KnowledgeBase.load(KNOWLEDGE_DIR)
    with tempfile.TemporaryDirectory(prefix="lecture-bot-push-") as folder:
        return [await measure_mode(knowledge, Path(folder), chats, rate_limiter)
                for rate_limiter in (False, True)]


# ------------------------------------------------------------------ output


def report(runs: Sequence[Run], env: Env) -> Report:
    off, on = _by_mode(runs)
    out = Report()
    out("lecture-bot: start-up catch-up push benchmark (python -m benchmarks.push)")
    out(f"{on.chats:,} private chats subscribed for {PUSH_TIME} {TIMEZONE} every day; the bot"
        f" starts at {NOW:%H:%M} local, so restore_jobs sends every chat's missed push")
    out("real Application (build_application + prepare) against the fake Bot API server on"
        " 127.0.0.1")
    out(f"Python {env['python']}, python-telegram-bot {env['python_telegram_bot']}, "
        f"{env['platform']}, {env['cpus']} CPUs,"
        f" load average {env['load_average_1min_at_start']} at start")
    out()
    out(f"{'':44}{'limiter on':>14}{'limiter off':>14}")
    rows = [
        ("sendMessage calls", lambda r: f"{r.messages:,}"),
        ("start -> first message arrives", lambda r: f"{r.first_s:.2f} s"),
        ("start -> last message arrives (total)", lambda r: f"{r.total_s:.2f} s"),
        ("messages per second (N / total)", lambda r: f"{r.per_second:.1f}"),
        ("steady rate, first -> last message", lambda r: f"{r.steady_per_second:.1f}"),
        ("start -> polling begins (first getUpdates)", lambda r: f"{r.polling_s:.2f} s"),
        ("chats with exactly one message", lambda r: f"{r.chats_with_one:,}/{r.chats:,}"),
        ("chats with none / with more than one", lambda r: f"{r.chats_with_none} / "
                                                           f"{r.chats_with_more}"),
        ("pushes delivered, in the database", lambda r: f"{r.delivered_in_db:,}"),
        ("plans advanced to passage 1, in the database", lambda r: f"{r.plans_advanced:,}"),
        ("restart, same DB and morning: messages", lambda r: f"{r.restart_messages}"),
        ("restart: start -> polling begins", lambda r: f"{r.restart_polling_s:.2f} s"),
        ("all checks", lambda r: "PASS" if r.ok else "FAIL"),
    ]
    for label, cell in rows:
        out(f"  {label:<42}{cell(on):>14}{cell(off):>14}")
    out()
    out(f"Total time, limiter on / limiter off: {on.total_s / off.total_s:.1f}x"
        f" ({on.total_s:.2f} s vs {off.total_s:.2f} s)")
    out()
    out("Notes")
    for note in _notes(on, off):
        out(textwrap.fill(note, width=96, initial_indent="- ", subsequent_indent="  "))
    return out


def _by_mode(runs: Sequence[Run]) -> tuple[Run, Run]:
    off = next(r for r in runs if not r.rate_limiter)
    on = next(r for r in runs if r.rate_limiter)
    return off, on


def _notes(on: Run, off: Run) -> list[str]:
    floor = max(on.chats - GLOBAL_LIMIT_PER_S, 0) / GLOBAL_LIMIT_PER_S
    return [
        f"With the limiter the rate is Telegram's global limit: AIORateLimiter lets a burst of"
        f" {GLOBAL_LIMIT_PER_S} through, then {GLOBAL_LIMIT_PER_S} per second, so"
        f" {on.chats:,} messages cannot take less than about {floor:.1f} s.",
        "Without it the bot is as fast as one request at a time allows: restore_jobs sends the"
        " chats one after another (claim, sendMessage, complete), never concurrently. Real"
        " Telegram would answer most of those sends with 429 Too Many Requests; the fake"
        " server has no flood limits.",
        "The catch-up runs as a job once the bot has started: polling begins"
        f" {on.polling_s:.2f} s after the start with the limiter, so members are answered"
        " while the pushes go out; a restart that sends nothing begins polling after"
        f" {on.restart_polling_s:.2f} s.",
        "Total = from just before prepare() (database open, plans read, jobs scheduled, pushes"
        " sent) to the server's arrival time of the last sendMessage; the Application's"
        " initialize (getMe) comes before and is not counted.",
    ]


def to_json(runs: Sequence[Run], env: Env) -> dict:
    off, on = _by_mode(runs)

    def mode(r: Run) -> dict:
        return {"messages": r.messages, "first_message_s": round(r.first_s, 4),
                "total_s": round(r.total_s, 4), "messages_per_second": round(r.per_second, 2),
                "steady_messages_per_second": round(r.steady_per_second, 2),
                "polling_begins_s": round(r.polling_s, 4),
                "chats_with_exactly_one": r.chats_with_one, "chats_with_none": r.chats_with_none,
                "chats_with_more_than_one": r.chats_with_more,
                "delivered_pushes_in_db": r.delivered_in_db,
                "plans_advanced_in_db": r.plans_advanced,
                "restart_messages": r.restart_messages,
                "restart_polling_begins_s": round(r.restart_polling_s, 4), "ok": r.ok}

    return {"benchmark": "push", "chats": on.chats, "push_time": PUSH_TIME,
            "timezone": TIMEZONE, "clock": NOW.isoformat(), "environment": env,
            "rate_limiter_on": mode(on), "rate_limiter_off": mode(off),
            "total_ratio_on_over_off": round(on.total_s / off.total_s, 2)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.push", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=positive_int, default=1000, metavar="N",
                        help="subscribed chats (default 1000)")
    args = parser.parse_args(argv)
    quiet_logging()
    env = environment()
    runs = asyncio.run(measure(args.chats))
    report(runs, env).save("push.txt")
    write_result("push.json", json.dumps(to_json(runs, env), ensure_ascii=False, indent=2)
                 + "\n")
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
