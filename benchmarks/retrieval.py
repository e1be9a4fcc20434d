"""Retrieval benchmark: lecture-bot's Index side by side with rank_bm25 and bm25s, in one run.

Data
- CMRC 2018 dev (SQuAD-style JSON, ../shared/data/cmrc2018_dev.json or --cmrc PATH): every
  paragraph's `context` is one passage (848); every question (3,219) is asked; the right
  passage is the paragraph the question belongs to.
- Scale check: the same passages repeated 10 times with distinct ids (8,480) and 500 sampled
  questions; a hit on any copy of the right passage counts.
- The gold sets (tests/gold/*.jsonl: the held-out main:test split, the tuning files and the
  holdout) over the lecture(s) in knowledge/.

Systems
- lecture-bot: `bot.core.search.Index` with `bot.core.text.Tokenizer` (built-in lexicon on CMRC, the
  knowledge folder's lexicon on the gold set).
- rank_bm25: `BM25Okapi` (defaults k1 1.5, b 0.75, epsilon 0.25) over plain `jieba.lcut`
  tokens from a private `jieba.Tokenizer()`: no normalisation, stop words kept, punctuation
  kept.
- bm25s: `bm25s.BM25(method="lucene")` (defaults k1 1.5, b 0.75, numpy backend) over the same
  tokens, passed as lists of strings.

Measures
- R@1, R@5, MRR@5: every system returns its top 5 passages for each question, as the bot
  asks its index for (`Answerer.answer(top_k=5)`); lecture-bot's search builds a Hit with
  coverage and highlighted sentences for each of them, so a larger k costs it more.
- Query latency p50/p95 (ms): `time.perf_counter` around one call that tokenizes the question
  and ranks; 50 warm-up queries per system first; the systems take turns by blocks of 100
  questions, so changing background load on the machine falls on all of them alike.
- Build time (s): building the index from passage texts, tokenization included, jieba's
  dictionary loading excluded (each tokenizer is loaded and warmed up before).
- Build peak memory (MB): `tracemalloc` peak during a second, separate build of each system.
  It counts Python allocations, numpy arrays included, not the process's RSS.
- Gold set: lecture-bot's answerer through `bot.core.evaluation` (answerable top-1 and refusal
  accuracy per split); lecture-bot's index alone and the baselines as top-1 on answerable
  questions only, since the baselines cannot refuse.

Writes benchmarks/results/retrieval.txt (the printed text) and retrieval.json. `--quick` asks
300 sampled CMRC questions and skips the scale check; it writes retrieval_quick.txt/.json so
that a smoke run does not overwrite the full results.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import bm25s
import jieba
import numpy as np
from rank_bm25 import BM25Okapi

from benchmarks import REPO_ROOT, Report, load_average, write_result
from bot.core import evaluation
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Passage, split_sentences
from bot.core.search import Index
from bot.core.text import Lexicon, Tokenizer

DEFAULT_CMRC = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmrc2018_dev.json"
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
GOLD_DIR = REPO_ROOT / "tests" / "gold"

OURS = "lecture-bot"
TOP_K = 5  # what the bot asks its index for
WARMUP_QUERIES = 50
BLOCK_QUERIES = 100  # systems take turns by blocks of this many questions
QUICK_QUESTIONS = 300
SCALE_COPIES = 10
SCALE_QUESTIONS = 500
SEED = 2018
# In the scale check, a system whose warm-up projects more query time than this is skipped.
SCALE_QUERY_BUDGET_S = 120.0
COPY_MARK = "#copy"
WARMUP_TEXT = "党员要增强网络安全意识,遵守國家法律法規。"

Words = Callable[[str], list[str]]
Search = Callable[[str], list[str]]  # question → passage ids, best first
Builder = Callable[[Sequence[Passage]], Search]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    fmt: str
    higher_is_better: bool

    def show(self, values: dict[str, float]) -> str:
        value = values.get(self.key)
        return "-" if value is None else self.fmt.format(value)


R_AT_1 = Metric("r_at_1", "R@1", "{:.3f}", True)
R_AT_5 = Metric("r_at_5", "R@5", "{:.3f}", True)
MRR = Metric("mrr_at_5", "MRR@5", "{:.3f}", True)
P50 = Metric("p50_ms", "p50 ms", "{:.2f}", False)
P95 = Metric("p95_ms", "p95 ms", "{:.2f}", False)
BUILD_S = Metric("build_s", "build s", "{:.2f}", False)
BUILD_MB = Metric("build_peak_mb", "build peak MB", "{:.1f}", False)
CMRC_METRICS = (R_AT_1, R_AT_5, MRR, P50, P95, BUILD_S, BUILD_MB)
SCALE_METRICS = (R_AT_1, P50, P95, BUILD_S)


@dataclass(frozen=True)
class Question:
    text: str
    expected: frozenset[str]
    split: str = ""


# --- data --------------------------------------------------------------------------------


def load_cmrc(path: Path) -> tuple[list[Passage], list[Question]]:
    """Every paragraph as a passage, every question with its paragraph as the right answer."""
    data = json.loads(path.read_text(encoding="utf-8"))
    passages: list[Passage] = []
    questions: list[Question] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            passage = _passage(paragraph["id"], article.get("title", ""), len(passages),
                               paragraph["context"])
            passages.append(passage)
            questions.extend(Question(qa["question"], frozenset({passage.passage_id}))
                             for qa in paragraph["qas"])
    return passages, questions


def _passage(passage_id: str, title: str, order: int, text: str) -> Passage:
    return Passage(passage_id=passage_id, lecture_id="cmrc2018-dev", lecture_title=title,
                   section_no=0, section_heading="", paragraph_no=order + 1, order=order,
                   text=text, sentence_spans=split_sentences(text))


def replicate(passages: Sequence[Passage], copies: int) -> list[Passage]:
    """The passages `copies` times over; copies after the first get distinct ids."""
    return [p if n == 0 else replace(p, passage_id=f"{p.passage_id}{COPY_MARK}{n}")
            for n in range(copies) for p in passages]


def original_id(passage_id: str) -> str:
    return passage_id.partition(COPY_MARK)[0]


# --- systems -----------------------------------------------------------------------------


def plain_jieba() -> Words:
    """`lcut` of a private, already loaded jieba tokenizer."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.lcut


def index_search(index: Index) -> Search:
    return lambda question: [hit.passage.passage_id for hit in index.search(question, TOP_K)]


def lecture_bot(tokenizer: Tokenizer) -> Builder:
    return lambda passages: index_search(Index(passages, tokenizer))


def rank_bm25(words: Words) -> Builder:
    def build(passages: Sequence[Passage]) -> Search:
        ids = [p.passage_id for p in passages]
        model = BM25Okapi([words(p.text) for p in passages])
        return lambda question: [ids[i] for i in _top(model.get_scores(words(question)))]
    return build


def bm25s_lucene(words: Words) -> Builder:
    def build(passages: Sequence[Passage]) -> Search:
        ids = [p.passage_id for p in passages]
        model = bm25s.BM25(method="lucene")
        model.index([words(p.text) for p in passages], show_progress=False)
        k = min(TOP_K, len(ids))

        def search(question: str) -> list[str]:
            documents, _ = model.retrieve([words(question)], k=k, show_progress=False)
            return [ids[i] for i in documents[0]]
        return search
    return build


def baselines(words: Words) -> dict[str, Builder]:
    return {"rank_bm25": rank_bm25(words), "bm25s": bm25s_lucene(words)}


def _top(scores: np.ndarray) -> np.ndarray:
    if len(scores) <= TOP_K:
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, TOP_K)[:TOP_K]
    return top[np.argsort(-scores[top], kind="stable")]


# --- measuring ---------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_timed(builder: Builder, passages: Sequence[Passage]) -> tuple[Search, float]:
    gc.collect()
    start = time.perf_counter()
    search = builder(passages)
    return search, time.perf_counter() - start


def build_peak_mb(builder: Builder, passages: Sequence[Passage]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        builder(passages)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def build_all(builders: dict[str, Builder], passages: Sequence[Passage],
              with_memory: bool) -> tuple[dict[str, Search], dict[str, dict[str, float]]]:
    searches, results = {}, {}
    for name, builder in builders.items():
        progress(f"building {name} over {len(passages)} passages")
        searches[name], seconds = build_timed(builder, passages)
        results[name] = {BUILD_S.key: seconds}
        if with_memory:
            results[name][BUILD_MB.key] = build_peak_mb(builder, passages)
    return searches, results


@dataclass
class QueryRun:
    """One system's answers to a question set: rank of the right passage, and latency."""

    ranks: list[int | None] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        n = len(self.ranks)
        found = [r for r in self.ranks if r is not None]
        return {
            R_AT_1.key: sum(r == 1 for r in found) / n,
            R_AT_5.key: sum(r <= 5 for r in found) / n,
            MRR.key: sum(1 / r for r in found) / n,
            P50.key: float(np.percentile(self.latencies_ms, 50)),
            P95.key: float(np.percentile(self.latencies_ms, 95)),
        }


def rank_of(passage_ids: Sequence[str], expected: frozenset[str]) -> int | None:
    """1-based rank of the first right passage (any copy of it), None if absent."""
    return next((rank for rank, pid in enumerate(passage_ids, start=1)
                 if original_id(pid) in expected), None)


def run_queries(searches: dict[str, Search], questions: Sequence[Question],
                budget_s: float | None = None) -> tuple[dict[str, QueryRun], dict[str, str]]:
    """Warm-up, then every question, the systems taking turns by blocks; and what was skipped.

    Blocks rather than single questions: alternating systems on every query would have each
    one evict the others' data from the CPU caches and slow them all down.
    """
    skipped = {}
    warmup = questions[:WARMUP_QUERIES]
    for name, search in searches.items():
        start = time.perf_counter()
        for question in warmup:
            search(question.text)
        projected = (time.perf_counter() - start) / len(warmup) * len(questions)
        if budget_s is not None and projected > budget_s:
            skipped[name] = (f"warm-up projects {projected:.0f} s for {len(questions)} queries, "
                             f"over the {budget_s:.0f} s budget")
    active = {name: search for name, search in searches.items() if name not in skipped}
    runs = {name: QueryRun() for name in active}
    progress(f"asking {len(questions)} questions to {', '.join(active)}")
    for first in range(0, len(questions), BLOCK_QUERIES):
        block = questions[first:first + BLOCK_QUERIES]
        for name, search in active.items():
            for question in block:
                start = time.perf_counter()
                passage_ids = search(question.text)
                elapsed_ms = (time.perf_counter() - start) * 1000
                runs[name].ranks.append(rank_of(passage_ids, question.expected))
                runs[name].latencies_ms.append(elapsed_ms)
    return runs, skipped


def ratios(rows: dict[str, dict[str, float]], metrics: Sequence[Metric]) -> dict[str, dict]:
    """Per metric: lecture-bot's value over the best baseline's."""
    out = {}
    for metric in metrics:
        candidates = [n for n, v in rows.items() if n != OURS and metric.key in v]
        if metric.key not in rows.get(OURS, {}) or not candidates:
            continue
        pick = max if metric.higher_is_better else min
        best = pick(candidates, key=lambda n, key=metric.key: rows[n][key])
        ours, theirs = rows[OURS][metric.key], rows[best][metric.key]
        out[metric.key] = {"baseline": best, "ratio": ours / theirs if theirs else None}
    return out


# --- benchmarks --------------------------------------------------------------------------


def cmrc_benchmark(builders: dict[str, Builder], passages: list[Passage],
                   questions: list[Question]) -> dict:
    searches, rows = build_all(builders, passages, with_memory=True)
    runs, _ = run_queries(searches, questions)
    for name, run in runs.items():
        rows[name].update(run.metrics())
    return {"passages": len(passages), "questions": len(questions), "systems": rows,
            "ratios": ratios(rows, CMRC_METRICS)}


def scale_benchmark(builders: dict[str, Builder], passages: list[Passage],
                    questions: list[Question]) -> dict:
    corpus = replicate(passages, SCALE_COPIES)
    sample = random.Random(SEED).sample(questions, min(SCALE_QUESTIONS, len(questions)))
    searches, rows = build_all(builders, corpus, with_memory=False)
    runs, skipped = run_queries(searches, sample, SCALE_QUERY_BUDGET_S)
    for name, run in runs.items():
        rows[name].update(run.metrics())
    return {"passages": len(corpus), "copies": SCALE_COPIES, "questions": len(sample),
            "systems": rows, "skipped": skipped, "ratios": ratios(rows, (P50, P95))}


def gold_benchmark(words: Words) -> dict:
    progress("gold set")
    knowledge = KnowledgeBase.load(KNOWLEDGE_DIR)
    gold = gold_questions()
    answerer = evaluation.report(evaluation.evaluate(knowledge, gold))
    passages = knowledge.library.passages
    searches = {f"{OURS} (index only)": index_search(knowledge.index)}
    searches.update({name: build(passages) for name, build in baselines(words).items()})
    answerable = [Question(g.question, frozenset(g.expected), g.split)
                  for g in gold if g.answerable]
    top1: dict[str, dict[str, list[int]]] = {}
    for name, search in searches.items():
        top1[name] = {}
        for question in answerable:
            counts = top1[name].setdefault(question.split, [0, 0])
            counts[0] += rank_of(search(question.text)[:1], question.expected) == 1
            counts[1] += 1
    return {"questions": len(gold), "lectures": len(knowledge.library.lectures),
            "passages": len(passages), "answerer": answerer, "top1_answerable": top1}


def gold_questions() -> list[evaluation.GoldQuestion]:
    """Every gold file's questions, each split named after its file: extra:tune, main:test …"""
    questions = []
    for path in sorted(GOLD_DIR.glob("*.jsonl")):
        name = path.stem.removeprefix("lecture_questions").lstrip("_") or "main"
        questions += [replace(q, split=f"{name}:{q.split}") for q in evaluation.load_gold(path)]
    return questions


def setup_info(cmrc: Path, quick: bool) -> dict:
    packages = ("numpy", "jieba", "rapidfuzz", "rank-bm25", "bm25s")
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_average": load_average(),
            "packages": {p: metadata.version(p) for p in packages}, "cmrc": str(cmrc),
            "quick": quick, "top_k": TOP_K, "warmup_queries": WARMUP_QUERIES,
            "block_queries": BLOCK_QUERIES}


# --- printing ----------------------------------------------------------------------------


def table(rows: dict[str, dict[str, float]], metrics: Sequence[Metric]) -> list[str]:
    name_width = max(len("system"), *map(len, rows)) + 2
    widths = [max(len(m.label), 7) + 2 for m in metrics]

    def line(name: str, cells: Sequence[str]) -> str:
        return name.ljust(name_width) + "".join(
            cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

    return [line("system", [m.label for m in metrics])] + [
        line(name, [m.show(values) for m in metrics]) for name, values in rows.items()]


def ratio_lines(result: dict, metrics: Sequence[Metric]) -> list[str]:
    lines = []
    for metric in metrics:
        entry = result["ratios"].get(metric.key)
        if entry is None:
            continue
        best = entry["baseline"]
        ratio = "n/a" if entry["ratio"] is None else f"{entry['ratio']:.2f}x"
        ours, theirs = (metric.show(result["systems"][n]) for n in (OURS, best))
        lines.append(f"  {metric.label:<14} {OURS} / {best} = {ratio}  ({ours} vs {theirs})")
    return lines


def print_cmrc(say: Report, result: dict) -> None:
    say(f"CMRC 2018 dev: {result['passages']} passages, {result['questions']} questions, "
        f"top {TOP_K} per question")
    for line in table(result["systems"], CMRC_METRICS):
        say(line)
    say()
    say("Ratios vs the best baseline for each metric (higher is better for R@k/MRR, "
        "lower for the rest):")
    for line in ratio_lines(result, CMRC_METRICS):
        say(line)


def print_scale(say: Report, result: dict) -> None:
    say(f"Scale check: {result['passages']} passages (CMRC x {result['copies']}, distinct ids), "
        f"{result['questions']} sampled questions; a hit on any copy counts")
    for line in table(result["systems"], SCALE_METRICS):
        say(line)
    for name, reason in result["skipped"].items():
        say(f"  {name}: queries skipped ({reason})")
    for line in ratio_lines(result, (P50, P95)):
        say(line)


def print_gold(say: Report, result: dict) -> None:
    say(f"Gold sets ({GOLD_DIR.relative_to(REPO_ROOT)}/*.jsonl, split main:test is held out from"
        f" tuning): {result['questions']} questions over "
        f"{result['lectures']} lecture(s), {result['passages']} passages")
    rows = {f"{OURS} (answerer)": {split: (kinds["answerable"], kinds.get("refusal"))
                                   for split, kinds in result["answerer"].items()}}
    for name, splits in result["top1_answerable"].items():
        rows[name] = {split: (tuple(counts), None) for split, counts in splits.items()}
    width = max(map(len, rows)) + 2
    say("system".ljust(width) + f"{'split':<18}{'answerable top-1':<22}refusal accuracy")
    for name, splits in rows.items():
        refusal_na = "n/a (index alone)" if name.startswith(OURS) else "n/a (no refusal)"
        for split in sorted(splits):
            answerable, refusal = splits[split]
            refusal_text = _fraction(refusal) if refusal else refusal_na
            say(name.ljust(width) + f"{split:<18}{_fraction(answerable):<22}{refusal_text}")
    say("  answerer top-1 counts a question right only if the bot answers and cites an expected")
    say("  passage first; the other rows rank the lecture's passages and never decline.")


def _fraction(counts: Sequence[int]) -> str:
    correct, total = counts
    return f"{correct}/{total} = {correct / total:.3f}" if total else "0/0"


def print_results(say: Report, results: dict) -> None:
    setup = results["setup"]
    packages = ", ".join(f"{p} {v}" for p, v in setup["packages"].items())
    say(f"Retrieval benchmark, {setup['date']}" + (" (--quick)" if setup["quick"] else ""))
    say(f"Python {setup['python']}, {setup['cpus']} CPUs; {packages}")
    say()
    print_cmrc(say, results["cmrc"])
    if results["scale"] is not None:
        say()
        print_scale(say, results["scale"])
    say()
    print_gold(say, results["gold"])
    say()
    say("Notes:")
    for line in NOTES:
        say(line.format(top_k=TOP_K, warmup=WARMUP_QUERIES, block=BLOCK_QUERIES,
                        load=setup["load_average"]))


NOTES = (
    "- latency: one call per question (tokenizing it + ranking the top {top_k}), timed with",
    "  time.perf_counter; {warmup} warm-up queries per system first; the systems take turns by",
    "  blocks of {block} questions. Load average when the run started: {load} (other work on",
    "  the machine inflates latencies).",
    "- build: index from passage texts, tokenization included, jieba dictionary loading",
    "  excluded.",
    "- build peak MB: tracemalloc peak during a separate build; it counts Python allocations,",
    "  numpy arrays included, not the process RSS.",
    "- baselines: plain jieba.lcut tokens (private jieba.Tokenizer), no normalisation, stop",
    "  words or punctuation removal; rank_bm25 BM25Okapi and bm25s 'lucene' with their default",
    "  parameters. They cannot decline to answer.",
)


# --- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.retrieval",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cmrc", type=Path, default=DEFAULT_CMRC, metavar="PATH",
                        help=f"CMRC 2018 dev set, SQuAD-style JSON (default {DEFAULT_CMRC})")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_QUESTIONS} CMRC questions, no scale check (smoke run)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.cmrc.is_file():
        print(f"CMRC 2018 dev set not found: {args.cmrc}\n"
              "Put cmrc2018_dev.json there (see ../shared/data/README.md) or pass --cmrc PATH.",
              file=sys.stderr)
        return 2
    jieba.setLogLevel(logging.WARNING)
    progress("loading tokenizers")
    tokenizer, words = Tokenizer(Lexicon.load(None)), plain_jieba()
    tokenizer.warm_up()
    tokenizer.analyze(WARMUP_TEXT)  # zhconv and the like load their tables on first use
    words(WARMUP_TEXT)
    builders = {OURS: lecture_bot(tokenizer), **baselines(words)}
    passages, questions = load_cmrc(args.cmrc)
    if args.quick:
        questions = random.Random(SEED).sample(questions, min(QUICK_QUESTIONS, len(questions)))
    results = {
        "setup": setup_info(args.cmrc, args.quick),
        "cmrc": cmrc_benchmark(builders, passages, questions),
        "scale": None if args.quick else scale_benchmark(builders, passages, questions),
        "gold": gold_benchmark(words),
    }
    say = Report()
    print_results(say, results)
    stem = "retrieval_quick" if args.quick else "retrieval"
    say.save(f"{stem}.txt")
    write_result(f"{stem}.json", json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
