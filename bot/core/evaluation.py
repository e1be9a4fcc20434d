"""Scores the answerer against a gold set of questions (used by tests and benchmarks).

A gold line is {"question", "kind", "expected": [passage ids], "split": "tune"|"test"}.
An answerable question (non-empty `expected`) is right when the answer is given and its first
passage is one of `expected`; any other question is right when the bot declines to answer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.core.answer import AnswerKind
from bot.core.knowledge import KnowledgeBase


@dataclass(frozen=True)
class GoldQuestion:
    question: str
    kind: str
    expected: tuple[str, ...]
    split: str

    @property
    def answerable(self) -> bool:
        return bool(self.expected)


@dataclass(frozen=True)
class Outcome:
    gold: GoldQuestion
    answered: bool
    top_passage: str | None
    shown: bool = False  # a paragraph shown first: an answer, or the closest paragraph

    @property
    def correct(self) -> bool:
        if self.gold.answerable:
            return self.answered and self.top_passage in self.gold.expected
        return not self.answered

    @property
    def shown_right(self) -> bool:
        return self.shown and self.top_passage in self.gold.expected


@dataclass(frozen=True)
class Summary:
    """A gold set's figures: answered right and shown right (of the answerable questions),
    refused (of the others), and wrong (of the confident answers)."""

    answered_right: float
    shown_right: float
    refused: float
    confident_wrong: float


def summary(outcomes: list[Outcome]) -> Summary:
    answerable = [o for o in outcomes if o.gold.answerable]
    others = [o for o in outcomes if not o.gold.answerable]
    answered = [o for o in outcomes if o.answered]

    def share(part: list[Outcome], test) -> float:
        return sum(map(test, part)) / len(part) if part else 0.0

    return Summary(share(answerable, lambda o: o.correct),
                   share(answerable, lambda o: o.shown_right),
                   share(others, lambda o: o.correct), share(answered, lambda o: not o.correct))


def load_gold(path: Path) -> list[GoldQuestion]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            questions.append(GoldQuestion(row["question"], row["kind"],
                                          tuple(row["expected"]), row["split"]))
    return questions


def evaluate(knowledge: KnowledgeBase, questions: list[GoldQuestion]) -> list[Outcome]:
    outcomes = []
    for gold in questions:
        answer = knowledge.answer(gold.question)
        top = answer.best.passage.passage_id if answer.best else None
        shown = answer.answered or answer.kind == AnswerKind.CLOSEST
        outcomes.append(Outcome(gold, answer.answered, top, shown))
    return outcomes


def accuracy(outcomes: list[Outcome]) -> float:
    return sum(o.correct for o in outcomes) / len(outcomes) if outcomes else 0.0


def report(outcomes: list[Outcome]) -> dict[str, dict[str, tuple[int, int]]]:
    """{split: {kind: (correct, total)}}, plus the "answerable" and "refusal" totals."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for outcome in outcomes:
        gold = outcome.gold
        group = "answerable" if gold.answerable else "refusal"
        for key in (gold.kind, group):
            table[gold.split][key][0] += outcome.correct
            table[gold.split][key][1] += 1
    return {split: {kind: (c, t) for kind, (c, t) in kinds.items()}
            for split, kinds in table.items()}
