"""Answers while a large Word file is previewed: members must not wait for an admin's upload.

Setup
- The document: `tests.documents.many_paragraph_docx(20_000)`: 20,000 paragraphs (a Title,
  1,000 Heading 1 sections of 19 short passages), about 96 KB, at the paragraph cap.
- The bot: `bot.app.build_application(settings, knowledge, rate_limiter=False)` with one
  global admin, started as `benchmarks.bot.polling` starts it, against
  `tests.fakebotapi.FakeBotApi` on 127.0.0.1: real PTB, real HTTP, nothing mocked. The
  knowledge folder is a temporary copy of `knowledge/` (staging writes into it).
- Members: questions from tests/gold/lecture_questions.jsonl, one at a time, each from its
  own private chat, a few milliseconds apart.
- Three phases on the same running bot, in this order:
  1. no upload: the baseline a member gets from an idle bot;
  2. upload (as shipped): the admin sends the document `--uploads` times, one after another
     (each waits for its preview); the parse runs in the worker process
     (`bot.publishing.worker.ParseWorker`), the first upload also starts that process;
  3. upload parsed in a thread: the same, with `ParseWorker.run` replaced by
     `asyncio.to_thread` (what `bot/handlers/lectures.py` did before, minus its blocking of
     every other update): shows why a process.
  Only questions pushed while a preview was pending count in phases 2 and 3.

Measures
- Answer latency p50/p95 per phase: from just before the question's push (`time.monotonic`)
  to the arrival of the answer's sendMessage at the server (`Call.time`, the same clock).
  Target: p95 < 100 ms during the upload. Ratio: p95 during the upload / p95 with none.
- Preview time: push of the upload → arrival of the preview.
- Event-loop stall: while one preview of the document is built (`stage_for_preview`, as the
  handler runs it) in the worker process and in a thread, a task on the loop sleeps 1 ms in
  a loop; the gaps between its wake-ups, p95 and longest, over `STALL_RUNS` builds each, taken
  in turns. A gap is how long any member's answer would wait for the loop.
- Reading a document's paragraphs and styles in process (best of 3), on a 2,000-paragraph
  document of the same make (python-docx's way takes minutes on 20,000): python-docx's
  documented API (`paragraph.text`, `paragraph.style.name` for each of `document.paragraphs`),
  the way a user would write it, against `bot.core.docx_reader.read_docx`; and read_docx on
  the 20,000-paragraph document.

Run from the repository root: `python -m benchmarks.upload [--uploads N]`. Prints a table and
writes it to benchmarks/results/upload.txt, and the numbers to benchmarks/results/upload.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import docx
import numpy as np

from benchmarks import REPO_ROOT, Report, load_average, positive_int, write_result
from benchmarks.bot import Stats, load_questions, polling
from benchmarks.harness import Env, environment, quiet_logging
from bot.app import build_application
from bot.config import Settings
from bot.core.docx_reader import read_docx
from bot.core.knowledge import KnowledgeBase
from bot.publishing.files import stage_for_preview
from bot.publishing.worker import ParseWorker
from tests.documents import many_paragraph_docx
from tests.fakebotapi import FakeBotApi

KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
TOKEN = "123456:BENCH-token-for-the-fake-server"
ADMIN = 7_000_001
PARAGRAPHS = 20_000
TARGET_P95_MS = 100.0
BASELINE_QUESTIONS = 200
PAUSE_S = 0.005  # between one answer and the next question
ANSWER_TIMEOUT_S = 30.0
PREVIEW_TIMEOUT_S = 120.0
READ_REPEATS = 3
READ_SAMPLE_PARAGRAPHS = 2_000
STALL_RUNS = 3
TICK_S = 0.001
MEMBER_CHATS = itertools.count(8_000_001)  # every question from a chat of its own


@dataclass(frozen=True)
class Phase:
    name: str
    answers: Stats
    count: int
    previews_s: tuple[float, ...] = ()


@dataclass(frozen=True)
class Stall:
    where: str
    p95_gap_ms: float
    longest_gap_ms: float
    build_s: float  # the slowest of the builds


@dataclass(frozen=True)
class Reading:
    python_docx_s: float  # on READ_SAMPLE_PARAGRAPHS
    ours_s: float  # on READ_SAMPLE_PARAGRAPHS
    ours_full_s: float  # on PARAGRAPHS


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


async def ask(server: FakeBotApi, question: str) -> tuple[float, float]:
    """(push time, latency) of one member's question."""
    chat_id = next(MEMBER_CHATS)
    mark = server.mark()
    pushed = time.monotonic()
    server.push_update(server.text_message(chat_id, question))
    (answer,) = await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == chat_id,
                                      timeout=ANSWER_TIMEOUT_S, since=mark)
    return pushed, answer.time - pushed


async def members_asking(server: FakeBotApi, questions: Iterator[str], until: asyncio.Event,
                         latencies: list[tuple[float, float]]) -> None:
    while not until.is_set():
        latencies.append(await ask(server, next(questions)))
        await asyncio.sleep(PAUSE_S)


async def uploads(server: FakeBotApi, data: bytes, count: int
                  ) -> list[tuple[float, float]]:
    """Sends the document `count` times, each after the last preview; (start, end) each."""
    server.add_file("big-docx", data)
    windows = []
    for _ in range(count):
        mark = server.mark()
        started = time.monotonic()
        server.push_update(server.document_message(ADMIN, ADMIN, file_id="big-docx",
                                                   file_name="big.docx", file_size=len(data)))
        (preview,) = await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == ADMIN,
                                           timeout=PREVIEW_TIMEOUT_S, since=mark)
        assert "段落:18999 段" in preview.params["text"], preview.params["text"][:200]
        windows.append((started, preview.time))
    return windows


async def phase_without_upload(server: FakeBotApi, questions: Iterator[str]) -> Phase:
    latencies = [(await ask(server, next(questions)))[1] for _ in range(BASELINE_QUESTIONS)]
    return Phase("no upload", Stats.of(latencies), len(latencies))


async def phase_with_upload(name: str, server: FakeBotApi, questions: Iterator[str],
                            data: bytes, count: int) -> Phase:
    done = asyncio.Event()
    latencies: list[tuple[float, float]] = []
    asking = asyncio.create_task(members_asking(server, questions, done, latencies))
    try:
        windows = await uploads(server, data, count)
    finally:
        done.set()
        await asking
    during = [latency for pushed, latency in latencies
              if any(start <= pushed <= end for start, end in windows)]
    return Phase(name, Stats.of(during), len(during),
                 tuple(end - start for start, end in windows))


@contextlib.contextmanager
def parsing_in_a_thread() -> Iterator[None]:
    real = ParseWorker.run

    async def in_thread(self, function, *args):
        return await asyncio.to_thread(function, *args)

    ParseWorker.run = in_thread
    try:
        yield
    finally:
        ParseWorker.run = real


async def measure(uploads_per_phase: int) -> tuple[list[Phase], list[Stall], Reading]:
    data = many_paragraph_docx(PARAGRAPHS)
    reading = measure_reading(data)
    stalls = await measure_stalls(data)
    questions = itertools.cycle(load_questions(100)[0])
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "knowledge"
        shutil.copytree(KNOWLEDGE_DIR, folder)
        knowledge = KnowledgeBase.load(folder)
        with FakeBotApi() as server:
            settings = Settings(token=TOKEN, api_base_url=server.url, knowledge_dir=folder,
                                db_path=Path(temporary) / "bot.sqlite3",
                                admin_ids=frozenset({ADMIN}))
            app = build_application(settings, knowledge, rate_limiter=False)
            async with polling(app, lecture_bot_hooks=True):
                for _ in range(20):  # warm-up
                    await ask(server, next(questions))
                progress("phase 1: no upload")
                phases = [await phase_without_upload(server, questions)]
                progress("phase 2: upload, parsed in the worker process")
                phases.append(await phase_with_upload("upload (worker process)", server,
                                                      questions, data, uploads_per_phase))
                progress("phase 3: upload, parsed in a thread")
                with parsing_in_a_thread():
                    phases.append(await phase_with_upload("upload (thread)", server,
                                                          questions, data,
                                                          uploads_per_phase))
    return phases, stalls, reading


async def measure_stalls(data: bytes) -> list[Stall]:
    progress("event-loop stalls: worker process and thread")
    worker = ParseWorker()
    gaps: dict[str, list[float]] = {"worker process": [], "thread": []}
    builds: dict[str, list[float]] = {"worker process": [], "thread": []}
    runners = {"worker process": worker.run,
               "thread": lambda function, *args: asyncio.to_thread(function, *args)}
    with tempfile.TemporaryDirectory() as folder:
        await worker.run(stage_for_preview, Path(folder), "warm-up.txt", "标题\n内容。\n".encode(),
                         ())  # starting the process is not what is measured
        for _ in range(STALL_RUNS):
            for where, run in runners.items():
                build_s = await _ticking(run(stage_for_preview, Path(folder), "big.docx", data,
                                             ()), gaps[where])
                builds[where].append(build_s)
    worker.close()
    return [Stall(where, float(np.percentile(np.asarray(found) * 1000, 95)),
                  max(found) * 1000, max(builds[where])) for where, found in gaps.items()]


async def _ticking(work, gaps: list[float]) -> float:
    """Runs `work` while a task records the gaps between its 1 ms sleeps; the work's time."""
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    await work
    elapsed = time.perf_counter() - started
    done.set()
    await ticker
    return elapsed


def measure_reading(data: bytes) -> Reading:
    progress("reading the document in process")
    sample = many_paragraph_docx(READ_SAMPLE_PARAGRAPHS)
    return Reading(python_docx_s=_best_of(lambda: _python_docx_lines(sample)),
                   ours_s=_best_of(lambda: read_docx(sample)),
                   ours_full_s=_best_of(lambda: read_docx(data)))


def _python_docx_lines(data: bytes) -> list[tuple[str, str | None]]:
    document = docx.Document(io.BytesIO(data))
    return [(p.text, p.style.name if p.style else None) for p in document.paragraphs]


def _best_of(work) -> float:
    times = []
    for _ in range(READ_REPEATS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def report(phases: list[Phase], stalls: list[Stall], reading: Reading, env: Env,
           data_size: int) -> Report:
    out = Report()
    out(f"Answers while a {PARAGRAPHS:,}-paragraph .docx ({data_size / 1024:.0f} KB) is "
        f"previewed (python -m benchmarks.upload)")
    out(f"environment: {json.dumps(env)}; load average at the end: {load_average()}")
    out()
    out(f"{'phase':<26}{'questions':>10}{'p50 ms':>9}{'p95 ms':>9}  previews s")
    for phase in phases:
        previews = ", ".join(f"{s:.2f}" for s in phase.previews_s) or "-"
        out(f"{phase.name:<26}{phase.count:>10}{phase.answers.p50_ms:>9.2f}"
            f"{phase.answers.p95_ms:>9.2f}  {previews}")
    baseline, shipped, thread = phases
    out()
    met = "met" if shipped.answers.p95_ms < TARGET_P95_MS else "NOT met"
    out(f"p95 during the upload (worker process): {shipped.answers.p95_ms:.1f} ms, target "
        f"< {TARGET_P95_MS:.0f} ms: {met}; {shipped.answers.p95_ms / baseline.answers.p95_ms:.2f}"
        f"x the p95 with no upload")
    out(f"p95 with the parse in a thread: {thread.answers.p95_ms:.1f} ms "
        f"({thread.answers.p95_ms / baseline.answers.p95_ms:.2f}x)")
    out()
    out(f"event loop while one preview is built ({STALL_RUNS} builds each, a 1 ms ticker):")
    for stall in stalls:
        out(f"  {stall.where:<16} gap p95 {stall.p95_gap_ms:6.1f} ms, longest "
            f"{stall.longest_gap_ms:6.1f} ms (build up to {stall.build_s:.2f} s)")
    out()
    out(f"reading {READ_SAMPLE_PARAGRAPHS:,} paragraphs and their styles (best of "
        f"{READ_REPEATS}): python-docx paragraph.style {reading.python_docx_s:.2f} s, "
        f"read_docx {reading.ours_s:.3f} s ({reading.python_docx_s / reading.ours_s:.0f}x "
        f"faster); read_docx on {PARAGRAPHS:,}: {reading.ours_full_s:.2f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upload", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=positive_int, default=4, metavar="N",
                        help="uploads in each upload phase (default 4)")
    args = parser.parse_args(argv)
    quiet_logging()
    env = environment()
    phases, stalls, reading = asyncio.run(measure(args.uploads))
    size = len(many_paragraph_docx(PARAGRAPHS))
    report(phases, stalls, reading, env, size).save("upload.txt")
    write_result("upload.json", json.dumps(
        {"environment": env, "paragraphs": PARAGRAPHS, "docx_bytes": size,
         "phases": [asdict(phase) for phase in phases],
         "stalls": [asdict(stall) for stall in stalls], "reading": asdict(reading)},
        ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
