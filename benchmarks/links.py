"""Question links: do they hijack unrelated questions, and do they slow answers down?

Matching (how `bot.core.links.REWORDING_SIMILARITY` was chosen)
- The gold sets: tests/gold/*.jsonl (820 questions on the shipped lecture) and
  tests/gold/lectures/*.gold.jsonl (100 on each of four other lectures), each question with
  its right passages ([] = refuse). Two questions of one lecture "agree" when they share a
  right passage or both should be refused. Questions of different lectures are not compared:
  each is labelled against its own lecture (组织生活会一年开几次 is refused by the shipped
  lecture and answered by another).
- All pairs: for every pair of distinct questions of one lecture with the same content words
  (what a close rewording must keep), their weighted word similarity; for each threshold, how
  many pairs would match and agree (a rewording answered right) and match but disagree (a
  hijack).
- Link some, ask the others, through the real answerer: for 5 seeds and each lecture, a
  random half of its gold questions is linked (to its first right passage, or `-`) and the
  other half asked, with every gold lecture loaded; counted: questions answered through a
  link, and of those the ones whose right answer differs from the link's (false matches).

Speed
- The shipped knowledge folder (one lecture), loaded twice with separate tokenizers (each
  remembers its own recent words, so neither profits from the other's work): one without
  links, one with 1,000 links (the 410 even-numbered gold questions of the shipped lecture
  with their right passages, and 590 CMRC 2018 dev questions linked round-robin to the
  lecture's paragraphs).
- Asked: the 410 other gold questions (mostly not linked: the cost of looking for a link on
  the common path), and the 410 linked ones (answered through their link). `perf_counter`
  around `KnowledgeBase.answer`, the systems taking turns by blocks of 100 questions (more
  than a tokenizer remembers), after 50 warm-up questions each; p50 and p95 over 5 rounds.
- Building the index of 1,000 links (`LinkIndex`), and its memory (tracemalloc peak); and
  building it again with one more link, given the previous index (what a review choice costs).

Run from the repository root: `python -m benchmarks.links`. Writes benchmarks/results/links.txt
and links.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks import REPO_ROOT, Report, load_average, write_result
from bot.core import links as core_links
from bot.core.evaluation import GoldQuestion, load_gold
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Library
from bot.core.links import NOT_COVERED_REF, Link, LinkBook, LinkIndex, QuestionMatcher
from bot.core.text import Lexicon, Tokenizer

GOLD_DIR = REPO_ROOT / "tests" / "gold"
GOLD_LECTURES_DIR = GOLD_DIR / "lectures"
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
DEFAULT_CMRC = REPO_ROOT.parent / "shared" / "data" / "cmrc2018_dev.json"
THRESHOLDS = (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8)
SEEDS = (1, 2, 3, 4, 5)
LINK_COUNT = 1000
WARMUP = 50
BLOCK = 100  # questions per turn: more than the tokenizer's WORDS_CACHE_SIZE
ROUNDS = 5


def gold_sets() -> dict[str, list[GoldQuestion]]:
    """Each lecture's gold questions, labelled against a knowledge folder of that lecture."""
    sets = {"party-lecture-online-conduct": [q for path in sorted(GOLD_DIR.glob("*.jsonl"))
                                             for q in load_gold(path)]}
    for path in sorted(GOLD_LECTURES_DIR.glob("*.gold.jsonl")):
        sets[path.name.removesuffix(".gold.jsonl")] = load_gold(path)
    return sets


def every_gold_lecture(folder: Path) -> Path:
    """A knowledge folder with the shipped lecture and the gold lectures (for the split)."""
    shutil.copytree(KNOWLEDGE_DIR, folder)
    for lecture in GOLD_LECTURES_DIR.glob("*.txt"):
        shutil.copy(lecture, folder / lecture.name)
    return folder


def agree(a: GoldQuestion, b: GoldQuestion) -> bool:
    if not a.expected and not b.expected:
        return True
    return bool(set(a.expected) & set(b.expected))


def link_for(question: GoldQuestion, line_no: int) -> Link:
    lecture_id, _, ref = (question.expected[0].rpartition(":") if question.expected
                          else ("", "", NOT_COVERED_REF))
    lecture_id = lecture_id or "party-lecture-online-conduct"
    return Link(question.question, lecture_id, ref, line_no, ref)


def link_agrees(link: Link, question: GoldQuestion) -> bool:
    if link.passage_id is None:
        return not question.expected
    return link.passage_id in question.expected


# --- matching ------------------------------------------------------------------------------


def pair_sweep(sets: dict[str, list[GoldQuestion]],
               tokenizer: Tokenizer) -> tuple[list[dict], float, int]:
    """Per threshold: pairs with the same content words that match and agree / disagree.

    Pairs within one lecture's gold set only: a question's right answer is labelled for its
    own lecture (组织生活会一年开几次 is refused by the shipped lecture, answered by another)."""
    matcher: QuestionMatcher[int] = QuestionMatcher(tokenizer)
    pairs = []
    for gold in sets.values():
        shapes = [matcher.shape(q.question) for q in gold]
        groups: dict[frozenset[str], list[int]] = defaultdict(list)
        for i, shape in enumerate(shapes):
            if shape is not None and shape.content:
                groups[shape.content].append(i)
        for members in groups.values():
            for x, i in enumerate(members):
                for j in members[x + 1:]:
                    if shapes[i].key != shapes[j].key:
                        pairs.append((core_links.similarity(shapes[i], shapes[j]),
                                      agree(gold[i], gold[j])))
    rows = []
    for threshold in THRESHOLDS:
        matched = [ok for similarity, ok in pairs if similarity >= threshold]
        rows.append({"threshold": threshold, "agree": sum(matched),
                     "disagree": len(matched) - sum(matched)})
    worst = max((s for s, ok in pairs if not ok), default=0.0)
    return rows, round(worst, 3), len(pairs)


def split_protocol(sets: dict[str, list[GoldQuestion]],
                   knowledge: KnowledgeBase) -> list[dict]:
    """Per seed and lecture: link a random half of its gold questions, ask the other half
    through the real answerer (with every gold lecture loaded); summed over the lectures."""
    rows = []
    tokenizer = knowledge.index.tokenizer
    matcher: QuestionMatcher[int] = QuestionMatcher(tokenizer)
    for seed in SEEDS:
        row = {"seed": seed, "linked": 0, "asked": 0, "through_link": 0, "same_question": 0,
               "false": 0}
        for gold in sets.values():
            order = list(range(len(gold)))
            random.Random(seed).shuffle(order)
            linked, asked = order[: len(order) // 2], order[len(order) // 2:]
            index = LinkIndex([link_for(gold[i], n) for n, i in enumerate(linked, 1)],
                              tokenizer)
            with_links = knowledge.with_links(LinkBook((), index))
            row["linked"] += len(linked)
            row["asked"] += len(asked)
            for i in asked:
                link = index.match(gold[i].question)
                if link is None:
                    continue
                row["through_link"] += 1
                row["same_question"] += matcher.same_question(link.question, gold[i].question)
                answer = with_links.answer(gold[i].question)
                top = answer.best.passage.passage_id if answer.answered and answer.best else None
                if top != link.passage_id:
                    raise AssertionError(f"not answered as linked: {gold[i].question}")
                row["false"] += not link_agrees(link, gold[i])
        rows.append(row)
    return rows


# --- speed ---------------------------------------------------------------------------------


def thousand_links(gold: Sequence[GoldQuestion], library: Library, cmrc: Path) -> list[Link]:
    links = [link_for(q, n) for n, q in enumerate(gold[::2], 1)]
    data = json.loads(cmrc.read_text(encoding="utf-8"))
    questions = [qa["question"] for article in data["data"] for paragraph in article["paragraphs"]
                 for qa in paragraph["qas"]]
    passages = library.passages
    for n, question in enumerate(random.Random(2018).sample(questions, LINK_COUNT - len(links))):
        passage = passages[n % len(passages)]
        ref = core_links.passage_ref_in_lecture(passage)
        links.append(Link(question, passage.lecture_id, ref, len(links) + 1, ref))
    return links


def timed(answer: Callable[[str], object], questions: Sequence[str]) -> list[float]:
    times = []
    for question in questions:
        start = time.perf_counter()
        answer(question)
        times.append((time.perf_counter() - start) * 1000)
    return times


def take_turns(systems: dict[str, KnowledgeBase], questions: Sequence[str]) -> dict[str, list]:
    for knowledge in systems.values():
        timed(knowledge.answer, questions[:WARMUP])
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(ROUNDS):
        for start in range(0, len(questions), BLOCK):
            block = questions[start:start + BLOCK]
            for name, knowledge in systems.items():
                times[name] += timed(knowledge.answer, block)
    return times


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def build_cost(links: Sequence[Link], tokenizer: Tokenizer) -> tuple[float, float, float]:
    """Seconds to index the links, seconds to index them plus one more given the first index
    (a refresh after a review choice), and the build's peak memory in MB."""
    start = time.perf_counter()
    first = LinkIndex(links, tokenizer)
    seconds = time.perf_counter() - start
    one_more = Link("党员上网发言有啥讲究没有", links[0].lecture_id, links[0].ref, len(links) + 1,
                    links[0].ref)
    start = time.perf_counter()
    LinkIndex([*links, one_more], tokenizer, previous=first)
    refresh = time.perf_counter() - start
    tracemalloc.start()
    LinkIndex([Link(link.question + " ", link.lecture_id, link.ref, link.line_no,
                    link.written_ref) for link in links], tokenizer)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, refresh, peak / 2**20


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cmrc", type=Path, default=DEFAULT_CMRC)
    args = parser.parse_args(argv)
    report = Report()
    sets = gold_sets()
    shipped = sets["party-lecture-online-conduct"]
    plain = KnowledgeBase.load(KNOWLEDGE_DIR)
    report("lecture-bot: question links (python -m benchmarks.links)")
    report("gold questions: " + ", ".join(f"{name} {len(gold)}" for name, gold in sets.items())
           + f"; load average {load_average()}")
    report()

    sweep, worst, pairs = pair_sweep(sets, plain.index.tokenizer)
    report(f"All pairs of one lecture's gold questions with the same content words ({pairs} "
           "pairs of distinct questions)")
    report(f"  {'similarity >=':<15}{'match, agree':>14}{'match, disagree':>17}")
    for row in sweep:
        chosen = "  <- REWORDING_SIMILARITY" \
            if row["threshold"] == core_links.REWORDING_SIMILARITY else ""
        report(f"  {row['threshold']:<15.2f}{row['agree']:>14}{row['disagree']:>17}{chosen}")
    report(f"  the most similar disagreeing pair: {worst}")
    report()

    with tempfile.TemporaryDirectory() as scratch:
        every = KnowledgeBase.load(every_gold_lecture(Path(scratch) / "knowledge"),
                                   plain.index.tokenizer)
        split = split_protocol(sets, every)
    report("Per lecture, link a random half, ask the other half (real answerer, "
           f"REWORDING_SIMILARITY {core_links.REWORDING_SIMILARITY}; summed over the lectures)")
    report(f"  {'seed':<6}{'linked':>8}{'asked':>8}{'via a link':>12}"
           f"{'same question':>15}{'rewording':>11}{'false':>8}")
    for row in split:
        report(f"  {row['seed']:<6}{row['linked']:>8}{row['asked']:>8}"
               f"{row['through_link']:>12}{row['same_question']:>15}"
               f"{row['through_link'] - row['same_question']:>11}{row['false']:>8}")
    report("  (same question: equal after normalisation, e.g. traditional characters or "
           "punctuation; the gold sets repeat some questions)")
    report()

    links = thousand_links(shipped, plain.library, args.cmrc)
    linked = KnowledgeBase.load(KNOWLEDGE_DIR, Tokenizer(Lexicon.load(KNOWLEDGE_DIR / "lexicon")))
    linked = linked.with_links(LinkBook((), LinkIndex(links, linked.index.tokenizer)))
    others = [q.question for q in shipped[1::2]]
    linked_questions = [q.question for q in shipped[::2]]
    systems = {"no links": plain, f"{len(links):,} links": linked}
    common = take_turns(systems, others)
    through = take_turns(systems, linked_questions)
    build_s, refresh_s, build_mb = build_cost(links, linked.index.tokenizer)
    results = {"pairs": sweep, "worst_disagreeing": worst, "split": split,
               "links": len(links), "build_s": round(build_s, 3),
               "refresh_s": round(refresh_s, 4), "build_peak_mb": round(build_mb, 2),
               "latency_ms": {}}
    report(f"Answer latency, ms ({ROUNDS} rounds; {len(others)} questions not linked, "
           f"{len(linked_questions)} linked)")
    report(f"  {'':<34}{'p50':>8}{'p95':>8}")
    for label, times in (("not linked", common), ("linked", through)):
        for name in systems:
            p50, p95 = percentiles(times[name])
            results["latency_ms"][f"{label}/{name}"] = [round(p50, 3), round(p95, 3)]
            report(f"  {label + ' questions, ' + name:<34}{p50:>8.3f}{p95:>8.3f}")
    base = percentiles(common["no links"])[0]
    with_links = percentiles(common[f"{len(links):,} links"])[0]
    ratio = with_links / base
    results["p50_ratio_not_linked"] = round(ratio, 3)
    report(f"  p50 with {len(links):,} links / without, questions not linked: {ratio:.3f} "
           f"(target <= 1.10: {'MET' if ratio <= 1.10 else 'NOT MET'})")
    linked_ratio = percentiles(through[f"{len(links):,} links"])[0] / \
        percentiles(through["no links"])[0]
    results["p50_ratio_linked"] = round(linked_ratio, 3)
    report(f"  p50 with {len(links):,} links / without, linked questions: {linked_ratio:.3f}")
    report()
    report(f"Building the index of {len(links):,} links: {build_s:.2f} s, "
           f"peak {build_mb:.1f} MB (tracemalloc); after one more link (a review choice), "
           f"given the previous index: {refresh_s * 1000:.1f} ms")
    report.save("links.txt")
    write_result("links.json", json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
