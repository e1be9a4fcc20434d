"""每日一题 benchmark: loading the questions at start-up, with and without the questions files.

What is loaded
- "1x": the shipped lecture (../shared/lectures/party-lecture-online-conduct.txt).
- "20x": twenty copies of it as twenty lectures, copy k's paragraphs tagged （第k遍） so that
  every paragraph is distinct (and so has questions of its own).

Each run (3 per size; the tables show medians), on a fresh temporary folder, with one
tokenizer loaded before anything is timed (jieba and the lexicon, as the running bot has):
- generate all: `QuizBank.load` with no questions files. This is also the baseline: what a
  bot that regenerated its questions at every start (no file) would pay at every start.
- restart: `QuizBank.load` again, every file in step: read and checked, nothing generated.
- one paragraph changed: one paragraph of the first lecture edited, then `QuizBank.load`:
  that paragraph's questions regenerated (the term pool is built for it), the rest read.
Peak memory is tracemalloc's peak during the load (Python allocations only).
Ratios are the baseline's time over ours.

Run from the repository root: `python -m benchmarks.quiz`. Prints a table and writes it to
benchmarks/results/quiz.txt, and the numbers to benchmarks/results/quiz.json.
"""

from __future__ import annotations

import gc
import json
import logging
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from benchmarks import REPO_ROOT, Report, load_average, write_result
from bot.core.knowledge import LEXICON_DIR, KnowledgeBase
from bot.core.text import Lexicon, Tokenizer
from bot.quiz.bank import QuizBank

SHARED_LECTURE = REPO_ROOT.parent / "shared" / "lectures" / "party-lecture-online-conduct.txt"
SIZES = {"1x": 1, "20x": 20}
RUNS = 3


def make_folder(root: Path, copies: int) -> Path:
    text = SHARED_LECTURE.read_text(encoding="utf-8")
    for k in range(1, copies + 1):
        lines = text.splitlines()
        # Paragraph lines are the long ones; headings, title and meta lines stay as they are.
        tagged = [f"{line}（第{k}遍）" if len(line) > 60 else line for line in lines]
        (root / f"lecture-{k:03d}.txt").write_text("\n".join(tagged) + "\n", encoding="utf-8")
    return root


def timed(load: Callable[[], QuizBank]) -> tuple[float, float, QuizBank]:
    """Seconds and peak MB of one load."""
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    bank = load()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak, bank


def one_run(tokenizer: Tokenizer, copies: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as temporary:
        folder = make_folder(Path(temporary), copies)
        knowledge = KnowledgeBase.load(folder, tokenizer)

        def load() -> QuizBank:
            return QuizBank.load(knowledge.library, tokenizer)

        generate, generate_mb, bank = timed(load)
        questions = len(bank.askable())
        restart, restart_mb, again = timed(load)
        assert again.askable() == bank.askable(), "a restart reads back the same questions"
        first = knowledge.library.lectures[0]
        paragraph = first.passages[0].text
        first.path.write_text(first.path.read_text("utf-8").replace(paragraph,
                                                                    paragraph + "新增一句。"),
                              encoding="utf-8")
        knowledge = KnowledgeBase.load(folder, tokenizer)
        changed, changed_mb, _ = timed(load)
    return {"questions": questions, "generate_s": generate, "generate_mb": generate_mb,
            "restart_s": restart, "restart_mb": restart_mb, "changed_s": changed,
            "changed_mb": changed_mb}


def main() -> None:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    report = Report()
    report(f"# 每日一题: loading the questions (load average {load_average()})")
    tokenizer = Tokenizer(Lexicon.load(REPO_ROOT / "knowledge" / LEXICON_DIR))
    results = {}
    for name, copies in SIZES.items():
        runs = [one_run(tokenizer, copies) for _ in range(RUNS)]
        results[name] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    report()
    report("| lectures | questions | generate all (= baseline: no file) | restart (file in step) "
           "| one paragraph changed | ratio restart / changed |")
    report("| --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        report(f"| {name} | {r['questions']:.0f} | {r['generate_s'] * 1000:.0f} ms, "
               f"{r['generate_mb']:.1f} MB | {r['restart_s'] * 1000:.1f} ms, "
               f"{r['restart_mb']:.1f} MB | {r['changed_s'] * 1000:.0f} ms, "
               f"{r['changed_mb']:.1f} MB | {r['generate_s'] / r['restart_s']:.0f}× / "
               f"{r['generate_s'] / r['changed_s']:.1f}× |")
    report()
    report("Medians of 3 runs; times are time.perf_counter, memory is tracemalloc's peak.")
    report.save("quiz.txt")
    write_result("quiz.json", json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
