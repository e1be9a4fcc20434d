"""Publishing benchmark: from an admin pressing 发布 until the new lecture's text is searchable.

What is published
- "1x": a lecture of the shipped lecture's size, built from
  ../shared/lectures/party-lecture-online-conduct.txt: its six paragraphs, each with a short
  per-copy tag appended (（第1遍）) so none repeats a passage already in the folder, under
  three "第N部分 …" sections made from its own headings, plus one probe paragraph.
- "100x": the same paragraphs 100 times over (copy k tagged （第k遍）, so all passages stay
  distinct), as 300 sections, plus the same probe paragraph once. Both stay under the 2 MB
  upload limit.
The probe paragraph holds text found nowhere else; the probe question asks about it.

Each run (3 per size; the tables show medians)
- Untimed set-up: a fresh temporary copy of knowledge/, loaded with `KnowledgeBase.load`
  reusing one tokenizer (jieba and the lexicon are loaded once, before anything is timed).
  The loaded knowledge base is put in a stand-in application's `bot_data`, as the bot keeps it.
- stage: `publishing.stage` (size check, parse, staging write, warnings) and the preview
  message (`publishing.files.preview_text`): what happens between the upload's download and
  the preview with its 发布 button.
- Then, timed from the moment 发布 is pressed, as `handlers.lectures.publish` does it:
  publish: `publishing.publish` (the atomic move out of .staging) in a worker thread;
  rebuild: the real `handlers.lectures.rebuild`: `KnowledgeBase.reload` of the loaded
  knowledge base in a worker thread (re-reads every lecture in the folder, builds a new index
  with the same tokenizer), the broken-file check, and the swap into `bot_data`;
  answer: the probe question answered from the knowledge base now in `bot_data`.
  total = 发布 pressed → the answer is ready. It excludes Telegram round trips (answering the
  callback, editing the message, sending the reply).
- Checks: before 发布, the old index does not answer the probe from the new lecture; after
  it, the probe is answered and its best passage is the probe paragraph.
- Also shown, untimed in the total: `load_library` of the folder alone (the re-reading part of
  the rebuild; the rest is building the index).

All times are `time.perf_counter`, in one process, `gc.collect()` before each run.
Run from the repository root: `python -m benchmarks.publish`. Prints a table and writes it
to benchmarks/results/publish.txt, and the numbers to benchmarks/results/publish.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

from benchmarks import REPO_ROOT, Report, load_average, write_result
from bot.core.knowledge import LEXICON_DIR, KnowledgeBase
from bot.core.lectures import load_library
from bot.core.text import Lexicon, Tokenizer
from bot.handlers.lectures import rebuild
from bot.publishing import files as publishing
from bot.publishing.files import preview_text
from bot.services import KNOWLEDGE_KEY

SHARED_LECTURE = (Path(__file__).resolve().parents[2] / "shared" / "lectures"
                  / "party-lecture-online-conduct.txt")
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
RUNS = 3
SCALES = (1, 100)
FILE_NAME = "publish-bench.txt"
PROBE_PARAGRAPH = ("网络安全宣传周期间,各支部要组织党员集中观看防范电信网络诈骗警示教育片,"
                   "并由每名党员撰写一篇观后感交支部存档。")
PROBE_QUESTION = "支部要组织党员观看防范电信网络诈骗的警示教育片吗"
PHASES = ("stage", "publish", "rebuild", "answer", "total")


@dataclass(frozen=True)
class Run:
    stage: float
    publish: float
    rebuild: float
    answer: float
    total: float
    load_library: float


# --- the lectures -------------------------------------------------------------------------


def shipped_parts(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The shipped lecture's title and its (heading, paragraphs) groups, opening included.

    The gap marker, the date line and the closing line are left out: they are not passages.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title, body = lines[0], lines[2:-1]
    groups: list[tuple[str, list[str]]] = [("学习导言", [])]
    for line in body:
        if "此处隐藏" in line:
            continue
        if line[:2] in ("一、", "二、", "三、"):
            groups.append((line[2:], []))
        else:
            groups[-1][1].append(line)
    return title, groups


def lecture_text(copies: int) -> str:
    """`copies` tagged copies of the shipped lecture's paragraphs, plus the probe paragraph."""
    title, groups = shipped_parts(SHARED_LECTURE.read_text(encoding="utf-8"))
    lines = [f"{title}(基准测试 {copies}x)", "更新时间:2025-03 来源:基准测试"]
    number = 0
    for copy in range(1, copies + 1):
        for heading, paragraphs in groups:
            number += 1
            lines.append(f"第{number}部分 {heading}")
            lines.extend(f"{paragraph}（第{copy}遍）" for paragraph in paragraphs)
    lines.append(PROBE_PARAGRAPH)
    return "\n".join(lines) + "\n"


# --- one run ------------------------------------------------------------------------------


async def press_publish(app: SimpleNamespace, folder: Path, token: str,
                        question: str) -> tuple[dict[str, float], KnowledgeBase]:
    """发布 as the handler does it: publish in a thread, rebuild, then answer the question."""
    pressed = time.perf_counter()
    await asyncio.to_thread(publishing.publish, folder, token)
    published = time.perf_counter()
    fresh, broken = await rebuild(app)
    rebuilt = time.perf_counter()
    if broken:
        raise AssertionError(f"the rebuild kept the old index: {broken}")
    answer = app.bot_data[KNOWLEDGE_KEY].answer(question)
    answered = time.perf_counter()
    if not answer.answered or answer.best.passage.text != PROBE_PARAGRAPH:
        raise AssertionError(f"the probe was not answered from the new lecture: {answer}")
    return {"publish": published - pressed, "rebuild": rebuilt - published,
            "answer": answered - rebuilt, "total": answered - pressed}, fresh


def one_run(tokenizer: Tokenizer, data: bytes, workdir: Path) -> tuple[Run, int]:
    folder = workdir / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    knowledge = KnowledgeBase.load(folder, tokenizer)
    before = knowledge.answer(PROBE_QUESTION)
    if before.best is not None and before.best.passage.text == PROBE_PARAGRAPH:
        raise AssertionError("the old index already knows the probe")
    app = SimpleNamespace(bot_data={KNOWLEDGE_KEY: knowledge})
    gc.collect()

    start = time.perf_counter()
    preview = publishing.stage(folder, FILE_NAME, data, knowledge.library)
    preview_text(preview)
    staged = time.perf_counter() - start
    if preview.warnings:
        raise AssertionError(f"unexpected preview warnings: {preview.warnings}")

    times, fresh = asyncio.run(press_publish(app, folder, preview.token, PROBE_QUESTION))
    if fresh is knowledge:
        raise AssertionError("the rebuild kept the previous index")

    start = time.perf_counter()
    load_library(folder)
    reread = time.perf_counter() - start
    shutil.rmtree(folder)
    return Run(stage=staged, load_library=reread, **times), len(preview.lecture.passages)


def measure(tokenizer: Tokenizer, copies: int, runs: int) -> dict:
    text = lecture_text(copies)
    data = text.encode("utf-8")
    results = []
    passages = 0
    for number in range(1, runs + 1):
        progress(f"{copies}x: run {number} of {runs}")
        with tempfile.TemporaryDirectory(prefix="publish-bench-") as workdir:
            run, passages = one_run(tokenizer, data, Path(workdir))
        results.append(run)
    return {
        "copies": copies,
        "bytes": len(data),
        "chars": len(text),
        "passages": passages,
        "runs": [asdict(run) for run in results],
        "median": {key: statistics.median(getattr(run, key) for run in results)
                   for key in (*PHASES, "load_library")},
        "min": {key: min(getattr(run, key) for run in results) for key in PHASES},
        "max": {key: max(getattr(run, key) for run in results) for key in PHASES},
    }


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- report -------------------------------------------------------------------------------


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def print_results(say: Report, results: dict) -> None:
    setup = results["setup"]
    say(f"Publishing benchmark: 发布 pressed -> new text searchable (python -m benchmarks.publish)"
        f", {setup['date']}")
    say(f"Python {setup['python']}, {setup['platform']}, {setup['cpus']} CPUs, "
        f"load average {setup['load_average']} at start")
    say(f"Folder: a temporary copy of knowledge/ ({setup['base_lectures']} lecture, "
        f"{setup['base_passages']} passages) + the published lecture; "
        f"median of {setup['runs']} runs each")
    say()
    sizes = results["sizes"]
    labels = [f"{size['copies']}x" for size in sizes]
    rows = [
        ("lecture size", [f"{size['bytes'] / 1024:,.1f} kB" for size in sizes]),
        ("passages in the new lecture", [f"{size['passages']:,}" for size in sizes]),
        ("stage: parse + preview", [seconds(size["median"]["stage"]) for size in sizes]),
        ("publish: atomic move", [seconds(size["median"]["publish"]) for size in sizes]),
        ("rebuild: reload + swap", [seconds(size["median"]["rebuild"]) for size in sizes]),
        ("  of which re-reading the folder*", [seconds(size["median"]["load_library"])
                                              for size in sizes]),
        ("answer the probe question", [seconds(size["median"]["answer"]) for size in sizes]),
        ("total, 发布 -> answered", [seconds(size["median"]["total"]) for size in sizes]),
        ("  total, min .. max", [f"{seconds(size['min']['total'])} .. "
                                 f"{seconds(size['max']['total'])}" for size in sizes]),
        ("upload -> answered (stage + total)",
         [seconds(size["median"]["stage"] + size["median"]["total"]) for size in sizes]),
    ]
    name_width = max(len(name) for name, _ in rows) + 2
    width = max(14, *(len(cell) + 2 for _, cells in rows for cell in cells))
    say(" " * name_width + "".join(label.rjust(width) for label in labels))
    for name, cells in rows:
        say(name.ljust(name_width) + "".join(cell.rjust(width) for cell in cells))
    say()
    small, large = sizes[0]["median"]["total"], sizes[-1]["median"]["total"]
    say(f"Total, {labels[-1]} / {labels[0]}: {large / small:.1f}x "
        f"({seconds(large)} vs {seconds(small)})")
    say()
    say("Notes")
    for line in NOTES:
        say(line)


NOTES = (
    "- stage runs before 发布 is pressed (between the download and the preview); the total",
    "  starts at the press: publish + rebuild + answer, without Telegram round trips.",
    "- rebuild is bot.handlers.lectures.rebuild itself: KnowledgeBase.reload in a worker",
    "  thread, reusing the loaded tokenizer (jieba is not reloaded), then the swap. It",
    "  re-reads and re-indexes every lecture in the folder, the old ones included.",
    "- * re-reading the folder: load_library alone, timed separately after each run; the",
    "  rest of the rebuild is building the new index.",
    "- Until the swap, questions are answered from the old index (the rebuild runs off the",
    "  event loop), so the total is how long the new text is not yet searchable.",
)


# --- main ---------------------------------------------------------------------------------


def setup_info(runs: int, base: KnowledgeBase) -> dict:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "load_average": load_average(),
        "runs": runs,
        "lecture": str(SHARED_LECTURE),
        "base_lectures": len(base.library.lectures),
        "base_passages": len(base.library.passages),
        "probe_question": PROBE_QUESTION,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.publish",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs per size (default {RUNS})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not SHARED_LECTURE.is_file():
        print(f"The shipped lecture is not there: {SHARED_LECTURE}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    progress("loading the tokenizer and the knowledge folder")
    tokenizer = Tokenizer(Lexicon.load(KNOWLEDGE_DIR / LEXICON_DIR))
    base = KnowledgeBase.load(KNOWLEDGE_DIR, tokenizer)
    base.answer(PROBE_QUESTION)  # first-use tables (zhconv and the like) load here
    results = {"setup": setup_info(max(args.runs, 1), base),
               "sizes": [measure(tokenizer, copies, max(args.runs, 1)) for copies in SCALES]}
    say = Report()
    print_results(say, results)
    say.save("publish.txt")
    write_result("publish.json", json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
