"""Telegram-layer benchmark: the real bot answering questions through the fake Bot API server.

Setup
- Questions: tests/gold/lecture_questions.jsonl (field "question") cycled to `--questions N`
  (default 1,000); every question comes from its own private chat id.
- The bot: `bot.app.build_application(settings, knowledge, rate_limiter=False)`, started the
  way tests/test_bot_e2e.py starts it (`prepare`, `start`, long polling with poll_interval 0)
  against `tests.fakebotapi.FakeBotApi` on 127.0.0.1: real HTTP, real PTB, nothing mocked.
  The knowledge folder is loaded once, before anything is timed.
- The echo baseline: a minimal PTB Application whose only handler replies a fixed short text,
  polling a second FakeBotApi with the same settings. Both applications run at once on one
  event loop, so the latency measurements can take turns question by question (retrieval, bot,
  echo): background load on a shared machine then falls on all three alike.

Measures
- Burst throughput: all N updates are built, then pushed at once; the time runs from the first
  push until the last of the expected sendMessage calls arrives at the server (`Call.time`).
  Answers per second = N / that time. The bot handles chats side by side (each chat in
  order, at most 64 updates at once: bot/isolation/updates.py); before issue 21, one at a time.
- Bot latency p50/p95, one question at a time, from update delivery (the moment the server
  answered the getUpdates call that carried the update, `Call.answered`) to the arrival of the
  answer's sendMessage at the server (`Call.time`, the same clock): PTB's parsing and
  dispatch, retrieval, rendering, the keyboard and the sendMessage request. Also from the push
  (`time.monotonic()` just before it), which adds the long poll's wake-up and the getUpdates
  response. Before each push the loop idles a few milliseconds, so no question overlaps the
  tail of the previous one.
- Echo baseline p50/p95: the same for the echo application: the floor that PTB and one HTTP
  request to the fake server set for any bot.
- Retrieval p50/p95: in process, `time.perf_counter()` around `knowledge.answer(q)` plus
  `bot.core.render.html_chunks`, exactly what the handler computes before it sends.
- Overheads at p50, from delivery: bot − retrieval (the Telegram layer; target < 5 ms),
  bot − echo (what the bot adds over a trivial handler, retrieval included) and
  bot − echo − retrieval (the bot's own Telegram-side work beyond the floor).
Each measurement starts with a few unmeasured warm-up questions in chats of their own. As a
check that the real handler ran, every sendMessage text is compared with the in-process
rendering.

Run from the repository root: `python -m benchmarks.bot [--questions N]`. Prints a table and
writes it to benchmarks/results/bot.txt, and the numbers to benchmarks/results/bot.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from benchmarks import REPO_ROOT, Report, positive_int, write_result
from benchmarks.harness import Env, environment, quiet_logging
from bot.app import build_application, cleanup, prepare
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.core.render import html_chunks
from bot.handlers.ask import MORE_RESULTS
from tests.fakebotapi import Call, FakeBotApi

GOLD_PATH = REPO_ROOT / "tests" / "gold" / "lecture_questions.jsonl"
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
TOKEN = "123456:BENCH-token-for-the-fake-server"
ECHO_TEXT = "收到"
WARMUP_QUESTIONS = 20
TARGET_MS = 5.0
ANSWER_TIMEOUT_S = 10.0
SETTLE_S = 0.005  # idle time before each one-at-a-time push
BURST_TIMEOUT_S = 150.0
# Each phase asks from its own range of private chat ids, so no chat is ever reused.
WARMUP_CHATS, SEQUENTIAL_CHATS, BURST_CHATS, ECHO_CHATS = (
    1_000_000, 2_000_000, 3_000_000, 4_000_000)

Expected = dict[int, list[str]]  # chat id -> the sendMessage texts it should get


@dataclass(frozen=True)
class Stats:
    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Stats:
        ms = np.asarray(seconds) * 1000.0
        return cls(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)))


@dataclass(frozen=True)
class Burst:
    answers: int
    seconds: float
    matching: int

    @property
    def per_second(self) -> float:
        return self.answers / self.seconds


@dataclass(frozen=True)
class Results:
    questions: int
    distinct: int
    burst: Burst
    bot: Stats
    bot_matching: int
    echo: Stats
    retrieval: Stats
    bot_delivered: Stats
    echo_delivered: Stats

    @property
    def bot_minus_retrieval(self) -> float:
        """The Telegram layer as the issue defines it: update delivery -> sendMessage,
        less the retrieval (and rendering) the handler does in between."""
        return self.bot_delivered.p50_ms - self.retrieval.p50_ms

    @property
    def bot_minus_echo(self) -> float:
        return self.bot_delivered.p50_ms - self.echo_delivered.p50_ms

    @property
    def bot_own_telegram_work(self) -> float:
        return self.bot_minus_echo - self.retrieval.p50_ms

    @property
    def target_met(self) -> bool:
        return self.bot_minus_retrieval < TARGET_MS


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def load_questions(count: int) -> tuple[list[str], int]:
    """`count` questions cycling through the gold set, and how many distinct ones they are."""
    with GOLD_PATH.open(encoding="utf-8") as lines:
        gold = [json.loads(line)["question"] for line in lines if line.strip()]
    questions = list(itertools.islice(itertools.cycle(gold), count))
    return questions, len(set(questions))


# ------------------------------------------------------------------ in-process retrieval


def render(knowledge: KnowledgeBase, question: str) -> list[str]:
    """What the ask handler computes before sending: the answer as Telegram HTML chunks."""
    return html_chunks(knowledge.answer(question, top_k=MORE_RESULTS + 1), knowledge.library)


def render_seconds(knowledge: KnowledgeBase, question: str) -> float:
    started = time.perf_counter()
    render(knowledge, question)
    return time.perf_counter() - started


def expected_replies(knowledge: KnowledgeBase, questions: Sequence[str],
                     first_chat: int) -> Expected:
    return {first_chat + i: render(knowledge, q) for i, q in enumerate(questions)}


# ------------------------------------------------------------------ applications


def lecture_bot(server: FakeBotApi, knowledge: KnowledgeBase, db_path: Path) -> Application:
    settings = Settings(token=TOKEN, api_base_url=server.url, knowledge_dir=KNOWLEDGE_DIR,
                        db_path=db_path)
    return build_application(settings, knowledge, rate_limiter=False)


def echo_bot(server: FakeBotApi) -> Application:
    app = (Application.builder().token(TOKEN)
           .base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot").build())
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(ECHO_TEXT)


@contextlib.asynccontextmanager
async def polling(app: Application, lecture_bot_hooks: bool = False
                  ) -> AsyncIterator[Application]:
    """Runs `app` long-polling the fake server, as tests/botharness.running_bot does.

    post_init/post_shutdown run only under run_polling: the lecture bot's are called here.
    """
    async with app:
        if lecture_bot_hooks:
            await prepare(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                        allowed_updates=Update.ALL_TYPES)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            if lecture_bot_hooks:
                await cleanup(app)


# ------------------------------------------------------------------ through the server


async def round_trip(server: FakeBotApi, chat_id: int, question: str,
                     replies: int = 1) -> tuple[float, float, list[Call]]:
    """Push one question to an idle bot. Returns push -> arrival of its last reply, update
    delivery (the getUpdates answer that carried it) -> that arrival, and the replies."""
    update = server.text_message(chat_id, question)
    await asyncio.sleep(SETTLE_S)
    mark = server.mark()
    pushed = time.monotonic()
    server.push_update(update)
    calls = await server.wait_for("sendMessage", count=replies, timeout=ANSWER_TIMEOUT_S,
                                  since=mark)
    delivered = _delivery_time(server, update["update_id"], mark)
    return calls[-1].time - pushed, calls[-1].time - delivered, calls


def _delivery_time(server: FakeBotApi, update_id: int, since: int) -> float:
    for call in server.calls("getUpdates"):
        if call.seq > since and any(u.get("update_id") == update_id
                                    for u in call.result or ()):
            return call.answered
    raise AssertionError(f"update {update_id} was never delivered")


@dataclass
class Turns:
    """Latencies (seconds) of the three measurements, taken in turns, and the bot's replies."""

    retrieval: list[float] = field(default_factory=list)
    bot: list[float] = field(default_factory=list)
    echo: list[float] = field(default_factory=list)
    bot_delivered: list[float] = field(default_factory=list)
    echo_delivered: list[float] = field(default_factory=list)
    sent: list[Call] = field(default_factory=list)


async def taking_turns(knowledge: KnowledgeBase, bot_server: FakeBotApi,
                       echo_server: FakeBotApi, questions: Sequence[str], bot_chats: int,
                       echo_chats: int, replies: Expected | None = None) -> Turns:
    turns = Turns()
    for i, question in enumerate(questions):
        turns.retrieval.append(render_seconds(knowledge, question))
        count = len(replies[bot_chats + i]) if replies else 1
        seconds, from_delivery, calls = await round_trip(bot_server, bot_chats + i, question,
                                                         count)
        turns.bot.append(seconds)
        turns.bot_delivered.append(from_delivery)
        turns.sent += calls
        seconds, from_delivery, _ = await round_trip(echo_server, echo_chats + i, question)
        turns.echo.append(seconds)
        turns.echo_delivered.append(from_delivery)
    return turns


async def burst(server: FakeBotApi, questions: Sequence[str], replies: Expected) -> Burst:
    """All questions pushed at once; time until the last expected sendMessage arrives."""
    updates = [server.text_message(BURST_CHATS + i, q) for i, q in enumerate(questions)]
    expected = sum(len(texts) for texts in replies.values())
    mark = server.mark()
    started = time.monotonic()
    for update in updates:
        server.push_update(update)
    calls = await server.wait_for("sendMessage", count=expected, timeout=BURST_TIMEOUT_S,
                                  since=mark)
    seconds = max(call.time for call in calls) - started
    return Burst(len(calls), seconds, matching(calls, replies))


def matching(calls: Sequence[Call], replies: Expected) -> int:
    """How many chats got exactly the in-process rendering, chunk for chunk."""
    got: defaultdict[int, list[str]] = defaultdict(list)
    for call in calls:
        got[call.params["chat_id"]].append(call.params["text"])
    return sum(got.get(chat_id) == texts for chat_id, texts in replies.items())


# ------------------------------------------------------------------ the run


async def measure(questions: Sequence[str], distinct: int) -> Results:
    progress(f"loading {KNOWLEDGE_DIR.name}/")
    knowledge = KnowledgeBase.load(KNOWLEDGE_DIR)
    sequential_replies = expected_replies(knowledge, questions, SEQUENTIAL_CHATS)
    burst_replies = expected_replies(knowledge, questions, BURST_CHATS)
    with (FakeBotApi() as bot_server, FakeBotApi() as echo_server,
          tempfile.TemporaryDirectory() as scratch):
        async with (polling(lecture_bot(bot_server, knowledge, Path(scratch) / "bot.sqlite3"),
                            lecture_bot_hooks=True),
                    polling(echo_bot(echo_server))):
            progress("warm-up")
            await taking_turns(knowledge, bot_server, echo_server,
                               questions[:WARMUP_QUESTIONS], WARMUP_CHATS, WARMUP_CHATS)
            progress("one question at a time: retrieval, bot, echo in turns")
            turns = await taking_turns(knowledge, bot_server, echo_server, questions,
                                       SEQUENTIAL_CHATS, ECHO_CHATS, sequential_replies)
            progress("bot, burst")
            burst_result = await burst(bot_server, questions, burst_replies)
    return Results(len(questions), distinct, burst_result, Stats.of(turns.bot),
                   matching(turns.sent, sequential_replies), Stats.of(turns.echo),
                   Stats.of(turns.retrieval), Stats.of(turns.bot_delivered),
                   Stats.of(turns.echo_delivered))


# ------------------------------------------------------------------ output


def report(results: Results, env: Env) -> Report:
    out = Report()
    r = results
    out("lecture-bot: Telegram layer benchmark (python -m benchmarks.bot)")
    out(f"{r.questions:,} questions ({r.distinct} distinct, tests/gold/lecture_questions.jsonl),"
        " each from its own private chat")
    out("real Application, rate limiter off, long-polling the fake Bot API server on 127.0.0.1")
    out(f"Python {env['python']}, python-telegram-bot {env['python_telegram_bot']}, "
        f"{env['platform']}, {env['cpus']} CPUs,"
        f" load average {env['load_average_1min_at_start']} at start")
    out()
    out("Burst: all questions pushed at once")
    out(f"  answers (sendMessage calls)              {r.burst.answers:>8,}")
    out(f"  first push -> last answer arrives        {r.burst.seconds:>8.2f} s")
    out(f"  answers per second                       {r.burst.per_second:>8.0f}")
    out()
    out(f"Latency, one question at a time            {'p50 ms':>8} {'p95 ms':>8}")
    _stats_row(out, "bot: update delivered -> sendMessage", r.bot_delivered)
    _stats_row(out, "echo: update delivered -> sendMessage", r.echo_delivered)
    _stats_row(out, "retrieval + rendering, in process", r.retrieval)
    _stats_row(out, "bot: push -> sendMessage (incl. polling)", r.bot)
    _stats_row(out, "echo: push -> sendMessage (incl. polling)", r.echo)
    out()
    out("Overhead at p50")
    out(f"  bot - retrieval (Telegram layer)         {r.bot_minus_retrieval:>8.2f} ms")
    out(f"  bot - echo baseline                      {r.bot_minus_echo:>8.2f} ms")
    out(f"  bot - echo - retrieval                   {r.bot_own_telegram_work:>8.2f} ms")
    verdict = "MET" if r.target_met else "NOT MET"
    out(f"  target: Telegram layer < {TARGET_MS:g} ms at p50      {verdict:>8}")
    out()
    out(f"Answers identical to the in-process rendering: {r.bot_matching:,}/{r.questions:,}"
        f" one at a time, {r.burst.matching:,}/{r.questions:,} in the burst")
    out()
    out("Notes")
    for note in _notes(r):
        out(textwrap.fill(note, width=96, initial_indent="- ", subsequent_indent="  "))
    return out


def _stats_row(out: Report, label: str, stats: Stats) -> None:
    out(f"  {label:<40} {stats.p50_ms:>8.2f} {stats.p95_ms:>8.2f}")


def _notes(r: Results) -> list[str]:
    floor = (f"The echo baseline ({r.echo_delivered.p50_ms:.2f} ms at p50 from delivery) is the"
             " floor set by PTB's update processing and one sendMessage over HTTP to the fake"
             " server: a handler that does nothing pays it too.")
    if r.target_met:
        verdict = (f"The target is met: the Telegram layer adds {r.bot_minus_retrieval:.2f} ms"
                   f" to retrieval at p50, {r.bot_own_telegram_work:.2f} ms of it beyond the"
                   " floor.")
    elif r.echo_delivered.p50_ms >= TARGET_MS:
        verdict = (f"The target is not met: the Telegram layer adds {r.bot_minus_retrieval:.2f}"
                   f" ms at p50, but the floor alone is {r.echo_delivered.p50_ms:.2f} ms; beyond"
                   " it the"
                   f" bot adds {r.bot_own_telegram_work:.2f} ms (keyboard, HTML, a longer"
                   " message) besides retrieval.")
    else:
        verdict = (f"The target is not met: the Telegram layer adds {r.bot_minus_retrieval:.2f}"
                   f" ms at p50, {r.bot_own_telegram_work:.2f} ms of it beyond the floor.")
    return ["Delivery = the moment the fake server answered the getUpdates call that carried"
            " the update; the end = the sendMessage request's arrival at the server. The push"
            " rows add the long poll's wake-up and HTTP response on the way in.",
            floor,
            "bot - echo - retrieval is the bot's own Telegram-side work beyond that floor"
            " (keyboard, HTML parse_mode, a longer message).",
            verdict]


def to_json(results: Results, env: Env) -> dict:
    r = results
    return {
        "benchmark": "bot",
        "questions": r.questions,
        "distinct_questions": r.distinct,
        "environment": env,
        "burst": {"answers": r.burst.answers, "seconds": round(r.burst.seconds, 4),
                  "answers_per_second": round(r.burst.per_second, 1),
                  "answers_matching_rendering": r.burst.matching},
        "latency_ms": {name: {"p50": round(s.p50_ms, 3), "p95": round(s.p95_ms, 3)}
                       for name, s in (("bot_from_delivery", r.bot_delivered),
                                       ("echo_from_delivery", r.echo_delivered),
                                       ("bot_from_push", r.bot), ("echo_from_push", r.echo),
                                       ("retrieval", r.retrieval))},
        "bot_answers_matching_rendering": r.bot_matching,
        "overhead_p50_ms": {"bot_minus_retrieval": round(r.bot_minus_retrieval, 3),
                            "bot_minus_echo": round(r.bot_minus_echo, 3),
                            "bot_minus_echo_minus_retrieval": round(r.bot_own_telegram_work, 3)},
        "target": {"what": "bot p50 from update delivery - retrieval p50", "limit_ms": TARGET_MS,
                   "met": r.target_met},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=positive_int, default=1000, metavar="N",
                        help="questions per phase (default 1000)")
    args = parser.parse_args(argv)
    quiet_logging()
    questions, distinct = load_questions(args.questions)
    env = environment()
    results = asyncio.run(measure(questions, distinct))
    report(results, env).save("bot.txt")
    write_result("bot.json", json.dumps(to_json(results, env), ensure_ascii=False, indent=2)
                 + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
