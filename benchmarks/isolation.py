"""Isolation benchmark: another chat's answer time while one chat is in trouble.

Setup
- The real bot (`bot.app.build_application`, PTB's rate limiter on, as in production) long-polls
  `tests.fakebotapi.FakeBotApi` on 127.0.0.1: real HTTP, real PTB, nothing mocked. The
  knowledge folder is the shipped lecture plus a generated 86,000-character lecture.
- Three scenarios, each on a fresh server, bot and database:
  - quiet: nothing else happens (the reference);
  - flood: chat A (a group) asks a question and Telegram answers A's sendMessage with
    429 retry_after 10 s, twice (PTB's limiter waits and retries); the other chats start
    asking once A's first 429 came back;
  - full text: a member of group A presses 全文 of the long lecture three times; the other
    chats start asking right after the presses.
- The other chats: `--questions N` (default 20) private chats, each asking one question from
  tests/gold/lecture_questions.jsonl, one every 0.5 s, without waiting for the answers.
- Answer time: from the push of a question (`time.monotonic()` just before it) to the
  arrival of its sendMessage at the server (`Call.time`, the same clock). An answer that has
  not come `--deadline` seconds after the last question is counted at the deadline ("≥").
- Today's code and the baseline (`--baseline REF`, default: where this branch left main) run
  in the same invocation, one after the other, each in a child process: the baseline from a
  `git archive` of REF in a temporary folder, with this file copied in.

Run from the repository root: `python -m benchmarks.isolation [--questions N]`. Prints a table
and writes it to benchmarks/results/isolation.txt, the numbers to isolation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np

from benchmarks import REPO_ROOT, Report, positive_int, write_result
from benchmarks.harness import environment, quiet_logging

SCENARIOS = ("quiet", "flood", "full text")
GROUP_A = -100500600
MEMBER_A = 8001
FIRST_OTHER_CHAT = 9100
QUESTION_SPACING_S = 0.5
FLOOD_RETRY_AFTER_S = 10
FLOOD_TIMES = 2  # PTB's limiter retries up to 3 times: the third try goes through
FULL_TEXT_PRESSES = 3
LONG_LECTURE_CHARS = 86_000
TOKEN = "123456:BENCH-isolation"


def long_lecture_text() -> str:
    """About 86,000 characters: twelve sections of paragraphs of whole sentences."""
    sentence = "党员要自觉学网、懂网、用网,规范网络行为,发挥模范带头作用。"
    numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
    lines = ["长篇讲稿:网络空间里的党员", ""]
    per_paragraph = sentence * 10
    paragraphs = LONG_LECTURE_CHARS // len(per_paragraph) // len(numerals) + 1
    for s, label in enumerate(numerals, start=1):
        lines += [f"{label}、第{s}部分", ""]
        lines += [f"第{s}部分第{p}段。{per_paragraph}\n" for p in range(1, paragraphs + 1)]
    return "\n".join(lines)


def load_questions(count: int) -> list[str]:
    path = REPO_ROOT / "tests" / "gold" / "lecture_questions.jsonl"
    questions = [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines()
                 if line.strip()]
    return [questions[i % len(questions)] for i in range(count)]


# ------------------------------------------------------------------ child: one code version


@contextlib.asynccontextmanager
async def running(server, knowledge, db_path: Path) -> AsyncIterator:
    from telegram import Update

    from bot.app import build_application, cleanup, prepare
    from bot.config import Settings

    settings = Settings(token=TOKEN, api_base_url=server.url, knowledge_dir=knowledge.folder,
                        db_path=db_path)
    app = await asyncio.to_thread(build_application, settings, knowledge, rate_limiter=True)
    async with app:
        await prepare(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                        allowed_updates=Update.ALL_TYPES)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await cleanup(app)


async def scenario(name: str, knowledge, questions: Sequence[str], deadline_s: float,
                   workdir: Path) -> tuple[list[float], int]:
    """The other chats' answer times (seconds) while chat A has the named trouble, and how
    many were answered before the deadline."""
    from bot.core.navigation import lecture_key
    from tests.fakebotapi import FakeBotApi

    with FakeBotApi() as server:
        async with running(server, knowledge, workdir / f"{name}.sqlite3"):
            if name == "full text":
                mark = server.mark()
                server.push_update(server.text_message(GROUP_A, "/help", user_id=MEMBER_A))
                await server.wait_for("sendMessage", since=mark, timeout=30)
                under = server.sent_messages(GROUP_A)[-1]
                long_key = next(lecture_key(lec.lecture_id) for lec in knowledge.library.lectures
                                if lec.title.startswith("长篇讲稿"))
                for _ in range(FULL_TEXT_PRESSES):
                    server.push_update(server.callback_query(GROUP_A, MEMBER_A, under,
                                                             "ft:" + long_key))
            elif name == "flood":
                server.fail_next("sendMessage", 429, retry_after=FLOOD_RETRY_AFTER_S,
                                 times=FLOOD_TIMES,
                                 when=lambda params: params.get("chat_id") == GROUP_A)
                mark = server.mark()
                server.push_update(server.text_message(
                    GROUP_A, "/ask 网民规模有多大", user_id=MEMBER_A))
                await server.wait_for("sendMessage", lambda call: not call.ok, since=mark,
                                      timeout=30)
            start = server.mark()
            pushed: dict[int, float] = {}
            for i, question in enumerate(questions):
                chat = FIRST_OTHER_CHAT + i
                pushed[chat] = time.monotonic()
                server.push_update(server.text_message(chat, question))
                await asyncio.sleep(QUESTION_SPACING_S)
            end = time.monotonic() + deadline_s
            answered: dict[int, float] = {}
            while len(answered) < len(pushed) and time.monotonic() < end:
                for call in server.calls("sendMessage"):
                    chat = call.params.get("chat_id")
                    if call.seq > start and call.ok and chat in pushed and chat not in answered:
                        answered[chat] = call.time - pushed[chat]
                await asyncio.sleep(0.02)
            censored = time.monotonic() - min(pushed.values())
            return [answered.get(chat, censored) for chat in pushed], len(answered)


async def measure_all(questions: Sequence[str], deadline_s: float) -> dict:
    from bot.core.knowledge import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="bench-isolation-") as tmp:
        workdir = Path(tmp)
        folder = workdir / "knowledge"
        shutil.copytree(Path("knowledge"), folder)
        (folder / "long-lecture.txt").write_text(long_lecture_text(), encoding="utf-8")
        knowledge = await asyncio.to_thread(KnowledgeBase.load, folder)
        results = {}
        for name in SCENARIOS:
            seconds, answered = await scenario(name, knowledge, questions, deadline_s, workdir)
            results[name] = {"seconds": seconds, "answered": answered,
                             "asked": len(questions)}
        return results


def child(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=positive_int, default=20)
    parser.add_argument("--deadline", type=float, default=45.0)
    args = parser.parse_args(argv)
    quiet_logging()
    results = asyncio.run(measure_all(load_questions(args.questions), args.deadline))
    print("RESULT " + json.dumps(results))
    return 0


# ------------------------------------------------------------------ parent: both versions


def run_version(cwd: Path, questions: int, deadline: float) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.isolation", "--child", "--questions", str(questions),
         "--deadline", str(deadline)], cwd=cwd, capture_output=True, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        sys.stderr.write(completed.stderr[-4000:])
        raise SystemExit(f"benchmark child in {cwd} failed")
    return json.loads(lines[-1].removeprefix("RESULT "))


def baseline_tree(ref: str, into: Path) -> str:
    """A copy of the code at `ref` (git archive) with this benchmark copied in; its commit."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO_ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], cwd=REPO_ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    shutil.copy(Path(__file__), into / "benchmarks" / "isolation.py")
    return commit


def default_baseline() -> str:
    return subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=REPO_ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _cell(stats: dict, q: float | None, deadline_hit: bool) -> str:
    value = max(stats["seconds"]) if q is None else percentile(stats["seconds"], q)
    text = f"{value * 1000:,.1f}"
    if deadline_hit and stats["answered"] < stats["asked"] and value >= max(stats["seconds"]):
        text = "≥" + text
    return text


def report(now: dict, before: dict, head: str, base: str, questions: int,
           deadline: float) -> Report:
    out = Report()
    out("lecture-bot: isolation benchmark (python -m benchmarks.isolation)")
    out(f"{questions} other chats ask one question each, {QUESTION_SPACING_S} s apart, while "
        "group A is in trouble")
    env = environment()
    out(f"Python {env['python']}, python-telegram-bot {env['python_telegram_bot']}, "
        f"{env['cpus']} CPUs, load average {env['load_average_1min_at_start']} at start")
    out(f"today: {head} (this tree)   baseline: {base} (git archive)")
    out()
    out(f"{'other chats answer time, ms':<30}{'p50':>10}{'p95':>10}{'max':>10}  answered")
    for name in SCENARIOS:
        for label, data in (("today", now), ("baseline", before)):
            stats = data[name]
            row = f"{name + ' · ' + label:<30}"
            for q in (50, 95, None):
                row += f"{_cell(stats, q, True):>10}"
            out(row + f"  {stats['answered']}/{stats['asked']}")
    out()
    out("p95 ratio, baseline / today (higher: today is better)")
    for name in SCENARIOS:
        ratio = percentile(before[name]["seconds"], 95) / percentile(now[name]["seconds"], 95)
        # A baseline answer that never came was counted at the time waited: a lower bound.
        at_least = "≥" if before[name]["answered"] < before[name]["asked"] else " "
        met = "met" if percentile(now[name]["seconds"], 95) < 1.0 else "NOT MET"
        out(f"  {name:<12} {at_least}{ratio:8.1f}x   target p95 < 1 s today: {met}")
    out()
    out("Notes")
    out("- flood: Telegram answers group A's sendMessage with 429 retry_after "
        f"{FLOOD_RETRY_AFTER_S} s, {FLOOD_TIMES} times; PTB's limiter waits and retries.")
    out(f"- full text: a member presses 全文 of a {LONG_LECTURE_CHARS:,}-character lecture "
        f"{FULL_TEXT_PRESSES} times in group A (Telegram's 20 messages a minute per group).")
    out(f"- An answer not in {deadline:g} s after the last question is counted at the time "
        "waited (≥).")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--child" in argv:
        argv.remove("--child")
        return child(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=positive_int, default=20)
    parser.add_argument("--deadline", type=float, default=45.0)
    parser.add_argument("--baseline", default=None, help="git ref of the code to compare with")
    args = parser.parse_args(argv)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    now = run_version(REPO_ROOT, args.questions, args.deadline)
    with tempfile.TemporaryDirectory(prefix="bench-isolation-base-") as tmp:
        base = baseline_tree(args.baseline or default_baseline(), Path(tmp))
        before = run_version(Path(tmp), args.questions, args.deadline)
    report(now, before, head, base, args.questions, args.deadline).save("isolation.txt")
    write_result("isolation.json", json.dumps(
        {"today": {"commit": head, **now}, "baseline": {"commit": base, **before},
         "environment": environment()}, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
