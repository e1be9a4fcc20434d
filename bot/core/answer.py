"""Question → Answer: decides whether the lecture answers, as plain data (no formatting).

The decision order: no question at all → small talk → a question about a part of a lecture
(第三部分讲了什么; the withheld part gets an honest "the source omits it") → a search whose
candidates the learned decision (`bot.core.decision`) weighs: a confident answer, the
closest paragraph offered as such, or "not covered" with what the lectures do cover.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from bot.core.checks import evidence
from bot.core.decision import DecisionModel
from bot.core.features import CANDIDATES, candidate_rows, question_signals, shares_a_word
from bot.core.lectures import (
    OPENING_SECTION_NO,
    Gap,
    Lecture,
    Library,
    Section,
    chinese_numeral,
    heading_lead,
)
from bot.core.links import Link, LinkIndex, linked_hit
from bot.core.questions import is_courtesy, is_cut, question_parts, read_text
from bot.core.reading import Reader, Reading
from bot.core.search import Hit, Index, Query
from bot.core.text import normalize
from bot.core.titles import TitleIndex

# In a question about a part of a lecture, its passages that hold this share of the question
# are shown first ("第三部分里平台责任怎么说"): the old answer threshold, a plain reading order
# tie-break, not an answer decision.
SECTION_LEADING_COVERAGE = 0.35

_NUMERAL = r"[一二三四五六七八九十两\d]{1,3}"
_SECTION_REFERENCE = re.compile(
    rf"第\s*(?P<n>{_NUMERAL})\s*(?:个)?\s*(?:大)?(?:部分|节|章|讲|篇|点|方面|板块|块)"
    rf"|(?<![第\d一二三四五六七八九十])(?P<m>[一二三四五六七八九十]{{1,2}})、"
)
_OPENING_REFERENCE = re.compile(r"开头|开篇|开场|导语|引言|前言")
# "统一思想那部分": a part named by its heading's first words, with a word for a part.
_PART_WORD = re.compile(r"部分|那块|这块|板块|那节|这节|章节")
MIN_HEADING_LEAD_CHARS = 2
_LAST_REFERENCE = re.compile(r"最后一(个)?(部分|节|章|点|块|大部分)|结尾部分|末尾部分")
_MISSING_REFERENCE = re.compile(r"隐藏|缺失|缺了|缺少|省略|删掉|被删|看不到|下载后查看|没有的部分")


class AnswerKind(StrEnum):
    ANSWERED = "answered"
    SECTION = "section"
    CLOSEST = "closest"  # not answered, but one paragraph is offered as the closest
    NOT_COVERED = "not_covered"
    MISSING_SECTION = "missing_section"
    SMALL_TALK = "small_talk"
    NO_QUESTION = "no_question"


@dataclass(frozen=True)
class Answer:
    """What the bot has to say about one question; renderers turn it into text."""

    question: str
    kind: AnswerKind
    hits: tuple[Hit, ...] = ()
    lecture: Lecture | None = None
    section: Section | None = None
    gaps: tuple[Gap, ...] = ()
    missing_section_no: int | None = None
    truncated: bool = False
    suggestions: tuple[Section, ...] = ()
    # Every question of a message that asked several, each answered on its own (this answer,
    # the best of them, among them); empty for a message with one question.
    parts: tuple[Answer, ...] = ()
    is_part: bool = False  # one of several questions of a message (its reply names it)
    # The decision's probability that the first hit answers the question (None when no
    # passage was weighed: small talk, a part of a lecture, nothing matched).
    confidence: float | None = None
    # Other candidates that would have answered on their own: worth a reader's time.
    related: tuple[Hit, ...] = ()
    # Where the first hit answers: the sentence and, for a fact, the span (`bot.core.reading`);
    # None when no paragraph is offered as an answer or the closest one.
    reading: Reading | None = None

    @property
    def answered(self) -> bool:
        return self.kind in (AnswerKind.ANSWERED, AnswerKind.SECTION)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Answerer:
    """Answers questions from one Library and its Index; immutable, safe to share."""

    def __init__(self, library: Library, index: Index, links: LinkIndex | None = None,
                 model: DecisionModel | None = None, reader: Reader | None = None):
        self.library = library
        self.index = index
        self.links = links if links is not None else LinkIndex((), None)
        self.model = model or DecisionModel.load()
        self.reader = reader or Reader(index.tokenizer)
        # Each passage's sentences read once, now, not on a question's time.
        self.reader.prepare(library.passages)
        self._titles = TitleIndex(library.lectures)
        self._chat_links: LinkIndex | None = None

    def answer(self, message: str, top_k: int = 5, chat_links: LinkIndex | None = None
               ) -> Answer:
        """The answer to a message: to its one question, or the best of the answers to its
        questions, with all of them in `parts`.

        `chat_links`: the links one chat's own admins taught (bot.teach.scoped), matched
        before the shared ones and only for that chat's questions."""
        if chat_links is not None and len(chat_links) and chat_links is not self._chat_links:
            scoped = copy.copy(self)  # shares the index and the model: a few attributes
            scoped._chat_links = chat_links
            return scoped.answer(message, top_k)
        message = message or ""
        truncated = is_cut(message)
        questions = question_parts(message)
        if not questions:
            return Answer(message, AnswerKind.NO_QUESTION, truncated=truncated)
        if len(questions) == 1:  # its link, if any, is matched there
            return self._answer(questions[0], message, truncated, top_k)
        # A message an admin linked as a whole is answered as linked, however many questions
        # it seems to hold.
        read = read_text(message)
        link = self._match(read)
        if link is not None:
            return self._linked_answer(link, read, message, truncated, top_k)
        last = len(questions) - 1
        answers = [self._answer(q, q, truncated and i == last, top_k)
                   for i, q in enumerate(questions)]
        answers = [a for a in answers if a.kind != AnswerKind.SMALL_TALK] or answers[:1]
        if len(answers) == 1:
            return replace(answers[0], question=message)
        answers = [replace(a, is_part=True) for a in answers]
        return replace(max(answers, key=_preference), parts=tuple(answers))

    def _match(self, query: str) -> Link | None:
        """The chat's own link for the query, else the shared one."""
        found = self._chat_links.match(query) if self._chat_links is not None else None
        return found or self.links.match(query)

    def _answer(self, query: str, question: str, truncated: bool, top_k: int) -> Answer:
        # Question links (bot.core.links): a question an admin linked, or a close rewording
        # of it, is answered as linked before anything else is decided.
        link = self._match(query)
        if link is not None:
            return self._linked_answer(link, query, question, truncated, top_k)
        searched, found = self.index.search_query(query, max(top_k, CANDIDATES))
        hits = tuple(found)
        kind_args = {"question": question, "hits": hits[:top_k], "truncated": truncated}
        small_talk = self.is_small_talk(query)
        if small_talk:
            return Answer(kind=AnswerKind.SMALL_TALK, **kind_args)
        lecture = self._lecture_in_question(query, hits)
        if lecture is not None:
            about_part = self._about_part(query, lecture, kind_args)
            if about_part is not None:
                return about_part
        probabilities = self.candidate_probabilities(query, searched, hits, small_talk)
        if not len(probabilities):
            return Answer(kind=AnswerKind.NOT_COVERED, suggestions=self._suggestions(hits),
                          **kind_args)
        rank = int(probabilities.argmax())
        confidence = float(probabilities[rank])
        related = tuple(hits[i] for i, p in enumerate(probabilities)
                        if i != rank and p >= self.model.thresholds.confident)
        chosen, reading = hits[rank], None
        if confidence >= self.model.thresholds.closest:  # shown: read where it answers
            chosen, reading = self._read(query, chosen)
        ordered = ((chosen,) + tuple(h for h in hits if h is not hits[rank]))[:top_k]
        args = {**kind_args, "hits": ordered, "confidence": confidence, "reading": reading}
        if confidence >= self.model.thresholds.confident:
            return Answer(kind=AnswerKind.ANSWERED, lecture=_lecture_of(self.library, chosen),
                          related=related, **args)
        if confidence >= self.model.thresholds.closest:
            return Answer(kind=AnswerKind.CLOSEST, lecture=_lecture_of(self.library, chosen),
                          suggestions=self._suggestions(hits), **args)
        return Answer(kind=AnswerKind.NOT_COVERED, suggestions=self._suggestions(hits), **args)

    def _read(self, question: str, hit: Hit) -> tuple[Hit, Reading | None]:
        """The hit with the sentence that answers highlighted, and where it answers."""
        analysis = self.reader.analyze(question)
        # A span is read only where one is shown (a fact); the others are answered by the
        # likeliest sentence.
        reading = self.reader.read(analysis, hit.passage, with_span=analysis.wants_span)
        if reading is None:
            return hit, None
        return replace(hit, matched_sentences=(reading.sentence_index,)), reading

    def is_small_talk(self, query: str) -> bool:
        """Greetings, thanks, praise, questions about the bot: answered with help, never
        with a paragraph."""
        return self.index.tokenizer.is_small_talk(query) or is_courtesy(query)

    def candidate_probabilities(self, query: str, searched: Query, hits: tuple[Hit, ...],
                                small_talk: bool = False):
        """The decision's probability for each of the first candidates, in rank order; 0 for
        a candidate that shares no word with the question (`shares_a_word`)."""
        probabilities = self.model.probabilities(self.candidate_features(query, searched, hits,
                                                                         small_talk))
        return probabilities * showable(hits[:len(probabilities)])

    def candidate_features(self, query: str, searched: Query, hits: tuple[Hit, ...],
                           small_talk: bool = False):
        """The evidence rows the decision weighs (also what the training script records)."""
        candidates = hits[:CANDIDATES]
        verdicts = evidence(query, candidates, self.index.tokenizer, searched.words)
        sentence_coverages = [self.index.sentence_coverage(hit, searched) for hit in candidates]
        analysis = self.reader.analyze(query)
        readings = self.reader.weigh_all(analysis, [hit.passage for hit in candidates])
        return candidate_rows(question_signals(query, small_talk), searched, candidates,
                              verdicts, sentence_coverages, readings, len(self.index))

    def _linked_answer(self, link: Link, query: str, question: str, truncated: bool,
                       top_k: int) -> Answer:
        """The linked passage first (the search's other hits after it), or "not covered"."""
        hits = tuple(self.index.search(query, top_k))
        passage = self.library.passage(link.passage_id) if link.passage_id else None
        if passage is None:
            return Answer(question, AnswerKind.NOT_COVERED, hits=hits, truncated=truncated,
                          suggestions=self._suggestions(hits))
        first, reading = self._read(query, linked_hit(passage, hits, self.index.tokenizer,
                                                      (query, link.question)))
        rest = tuple(hit for hit in hits if hit.passage.passage_id != passage.passage_id)
        # An admin confirmed the link: as sure as the bot can be.
        return Answer(question, AnswerKind.ANSWERED, hits=(first, *rest)[:top_k],
                      lecture=self.library.lecture(passage.lecture_id), truncated=truncated,
                      confidence=1.0, reading=reading)

    def _lecture_in_question(self, query: str, hits: tuple[Hit, ...]) -> Lecture | None:
        """The lecture a question is about: named in it, else the best hit's, else the first."""
        named = self._titles.named_in(normalize(query))
        if named is not None:
            return named
        if hits:
            return _lecture_of(self.library, hits[0])
        return self.library.lectures[0] if self.library.lectures else None

    def _about_part(self, query: str, lecture: Lecture, kind_args: dict) -> Answer | None:
        number = _section_number(query, lecture)
        if number is None and _MISSING_REFERENCE.search(query) and lecture.gaps:
            return Answer(kind=AnswerKind.MISSING_SECTION, lecture=lecture, gaps=lecture.gaps,
                          **kind_args)
        if number is None:
            return None
        if number in lecture.missing_section_nos:
            gaps = tuple(g for g in lecture.gaps if number in g.missing_section_nos)
            return Answer(kind=AnswerKind.MISSING_SECTION, lecture=lecture, gaps=gaps,
                          missing_section_no=number, **kind_args)
        section = next((s for s in lecture.sections if s.number == number), None)
        if section is None or not section.passages:
            return Answer(kind=AnswerKind.NOT_COVERED, lecture=lecture,
                          missing_section_no=number, suggestions=lecture.sections, **kind_args)
        hits = _hits_in_section(section, kind_args["hits"])
        return Answer(kind=AnswerKind.SECTION, lecture=lecture, section=section,
                      **{**kind_args, "hits": hits})

    def _suggestions(self, hits: tuple[Hit, ...]) -> tuple[Section, ...]:
        """Every section of the lectures nearest to the question (all lectures if none is)."""
        return self.library.sections_of(hit.passage.lecture_id for hit in hits)


def showable(hits: tuple[Hit, ...]) -> np.ndarray:
    """1 for each hit that may be shown as an answer or the closest paragraph, else 0."""
    return np.array([float(shares_a_word(hit)) for hit in hits])


def _preference(answer: Answer) -> tuple[int, float]:
    """Which answer of a message's several speaks for it: an answer before the closest
    paragraph before the rest, then the surer one."""
    order = {AnswerKind.ANSWERED: 3, AnswerKind.SECTION: 3, AnswerKind.MISSING_SECTION: 2,
             AnswerKind.CLOSEST: 1}
    return order.get(answer.kind, 0), answer.confidence or 0.0


def _lecture_of(library: Library, hit: Hit) -> Lecture | None:
    return library.lecture(hit.passage.lecture_id)


def _section_number(query: str, lecture: Lecture) -> int | None:
    match = _SECTION_REFERENCE.search(query)
    if match:
        return chinese_numeral(match.group("n") or match.group("m"))
    if _LAST_REFERENCE.search(query) and lecture.sections:
        return lecture.sections[-1].number
    if _OPENING_REFERENCE.search(query):
        return OPENING_SECTION_NO
    if _PART_WORD.search(query):
        return _section_named_in(query, lecture)
    return None


def _section_named_in(query: str, lecture: Lecture) -> int | None:
    """The section whose heading's first words the question names (统一思想那部分)."""
    folded = normalize(query)
    for section in lecture.sections:
        lead = normalize(heading_lead(section.heading))
        if len(lead) >= MIN_HEADING_LEAD_CHARS and lead in folded:
            return section.number
    return None


def _hits_in_section(section: Section, hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
    """The section's passages: those the question itself matches first, then reading order."""
    ids = {p.passage_id for p in section.passages}
    leading = [h for h in hits
               if h.passage.passage_id in ids and h.coverage >= SECTION_LEADING_COVERAGE]
    shown = {h.passage.passage_id for h in leading}
    rest = [Hit(p, 0.0, 0.0, (), ()) for p in section.passages if p.passage_id not in shown]
    return tuple(leading + rest)
