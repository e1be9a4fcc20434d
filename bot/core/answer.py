"""Question → Answer: decides whether the lecture answers, as plain data (no formatting).

The decision order: no question at all → small talk → a question about a part of a lecture
(第三部分讲了什么; the withheld part gets an honest "the source omits it") → a search whose
best passage must cover enough of the question to count as an answer. Anything else is
"not covered", with the closest passages kept as suggestions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.core.confidence import COVERAGE_THRESHOLD, answering_hits
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
from bot.core.search import Hit, Index
from bot.core.text import has_word_chars, normalize
from bot.core.titles import TitleIndex

# Only this much of a question is searched: real questions are far shorter, and a pasted
# 10,000-character text must not cost more than a normal question.
MAX_QUESTION_CHARS = 300

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
# Where one question ends and another begins: a question mark; 另外 or 顺便问下 after a pause
# ("事后追责怎么搞 另外第二部分讲了啥"); 还有 only after a sentence's end, since "网上,还有哪些
# 乱象" is one question.
_QUESTION_BREAK = re.compile(
    r"(?:[？?。!！;；]+|^|[\s,，])\s*(?:另外|顺便问一?下|再问一?下)"
    r"|[？?。!！;；]+\s*还有|[？?]+")
# A message is answered from at most this many of its questions.
MAX_QUESTIONS_TRIED = 3
_MISSING_REFERENCE = re.compile(r"隐藏|缺失|缺了|缺少|省略|删掉|被删|看不到|下载后查看|没有的部分")


class AnswerKind(StrEnum):
    ANSWERED = "answered"
    SECTION = "section"
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
    also_asked: tuple[str, ...] = ()  # the message's other questions, not answered here

    @property
    def answered(self) -> bool:
        return self.kind in (AnswerKind.ANSWERED, AnswerKind.SECTION)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Answerer:
    """Answers questions from one Library and its Index; immutable, safe to share."""

    def __init__(self, library: Library, index: Index, links: LinkIndex | None = None):
        self.library = library
        self.index = index
        self.links = links if links is not None else LinkIndex((), None)
        self._titles = TitleIndex(library.lectures)

    def answer(self, question: str, top_k: int = 5) -> Answer:
        question = question or ""
        truncated = len(question) > MAX_QUESTION_CHARS
        query = question[:MAX_QUESTION_CHARS]
        if not has_word_chars(query):
            return Answer(question, AnswerKind.NO_QUESTION, truncated=truncated)
        # Question links (issue 11, bot.core.links): a question an admin linked, or a close
        # rewording of it, is answered as linked before anything else is decided.
        link = self.links.match(query)
        if link is not None:
            return self._linked_answer(link, query, question, truncated, top_k)
        parts = [p.strip() for p in _QUESTION_BREAK.split(query) if has_word_chars(p)]
        if len(parts) > 1:
            # Several questions in one message ("三地是啥？还有网民多少"): the first that the
            # lectures answer is answered, and the member is asked to send the later ones
            # apart (earlier ones were tried: the lectures do not answer them).
            for i, part in enumerate(parts[:MAX_QUESTIONS_TRIED]):
                answer = self._answer(part, question, truncated, top_k)
                if answer.answered:
                    later = [p for p in parts[i + 1:] if not self.index.tokenizer.is_small_talk(p)]
                    return replace(answer, also_asked=tuple(later))
        return self._answer(query, question, truncated, top_k)

    def _answer(self, query: str, question: str, truncated: bool, top_k: int) -> Answer:
        hits = tuple(self.index.search(query, top_k))
        kind_args = {"question": question, "hits": hits, "truncated": truncated}
        if self.index.tokenizer.is_small_talk(query):
            return Answer(kind=AnswerKind.SMALL_TALK, **kind_args)
        lecture = self._lecture_in_question(query, hits)
        if lecture is not None:
            about_part = self._about_part(query, lecture, kind_args)
            if about_part is not None:
                return about_part
        answering = answering_hits(query, hits, self.index.tokenizer)
        if answering:
            return Answer(kind=AnswerKind.ANSWERED,
                          lecture=_lecture_of(self.library, answering[0]),
                          **{**kind_args, "hits": answering})
        return Answer(kind=AnswerKind.NOT_COVERED, suggestions=self._suggestions(hits),
                      **kind_args)

    def _linked_answer(self, link: Link, query: str, question: str, truncated: bool,
                       top_k: int) -> Answer:
        """The linked passage first (the search's other hits after it), or "not covered"."""
        hits = tuple(self.index.search(query, top_k))
        passage = self.library.passage(link.passage_id) if link.passage_id else None
        if passage is None:
            return Answer(question, AnswerKind.NOT_COVERED, hits=hits, truncated=truncated,
                          suggestions=self._suggestions(hits))
        first = linked_hit(passage, hits, self.index.tokenizer, (query, link.question))
        rest = tuple(hit for hit in hits if hit.passage.passage_id != passage.passage_id)
        return Answer(question, AnswerKind.ANSWERED, hits=(first, *rest)[:top_k],
                      lecture=self.library.lecture(passage.lecture_id), truncated=truncated)

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
    leading = [h for h in hits if h.passage.passage_id in ids and h.coverage >= COVERAGE_THRESHOLD]
    shown = {h.passage.passage_id for h in leading}
    rest = [Hit(p, 0.0, 0.0, (), ()) for p in section.passages if p.passage_id not in shown]
    return tuple(leading + rest)
