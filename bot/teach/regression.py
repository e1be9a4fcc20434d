"""Every link is a test: a lecture's questions file is its regression set.

A link passes when the bot answers its question as linked (with the linked paragraph first,
or refusing a `-` link). A check fails on a linked question answered otherwise, a ref to a
paragraph that does not exist, a link orphaned by an edit (or a bad line), and one question
linked to two different refs. Used by `lecture-bot check` and by the upload preview.

Links make their own questions right by construction, so a passing check says nothing about
how well the bot matches on its own: `without_links` measures that (informational).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts
from bot.core.answer import Answerer
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Lecture, Library
from bot.core.links import (
    NOT_COVERED_REF,
    LectureLinks,
    Link,
    LinkBook,
    LinkIndex,
    passage_texts,
    read_lecture_links,
)
from bot.core.search import Index

# The upload preview lists this many failures; the rest are counted (`lecture-bot check`
# lists them all).
PREVIEW_FAILURES_SHOWN = 10


@dataclass(frozen=True)
class Failure:
    """A line that fails: answered otherwise (expected / got), or a problem with the line."""

    line_no: int
    question: str
    expected: str = ""
    got: str = ""
    problem: str = ""


@dataclass(frozen=True)
class LectureCheck:
    """One lecture's regression run."""

    lecture: Lecture
    file_name: str
    total: int
    failures: tuple[Failure, ...]
    moved: int = 0  # links that followed their paragraph to a new ref
    right_without_links: int | None = None  # linked questions the bot answers on its own
    linked: int = 0  # links that can be answered (the base of right_without_links)

    @property
    def passed(self) -> int:
        return self.total - len(self.failures)


def check_knowledge(knowledge: KnowledgeBase, without_links: bool = False) -> list[LectureCheck]:
    """Runs every lecture's questions file of a loaded knowledge folder."""
    plain = knowledge.with_links(LinkBook.empty()) if without_links else None
    return [check_lecture(knowledge, found, plain) for found in knowledge.links.lectures]


def check_lecture(knowledge: KnowledgeBase, found: LectureLinks,
                  plain: KnowledgeBase | None = None) -> LectureCheck:
    lecture = knowledge.library.lecture(found.lecture_id)
    assert lecture is not None
    conflicts = {earlier: later for earlier, later in knowledge.links.index.conflicts}
    failures = [Failure(p.line_no, p.question, problem=p.reason) for p in found.problems]
    failures += [Failure(o.line_no, o.question, problem=texts.LINKS_ORPHANED.format(ref=o.ref))
                 for o in found.orphans]
    for link in found.links:
        if link in conflicts:
            failures.append(Failure(link.line_no, link.question,
                                    problem=_conflict(link, conflicts[link], knowledge)))
        elif not answers_as_linked(knowledge, link):
            failures.append(Failure(link.line_no, link.question, _expected(knowledge, link),
                                    _got(knowledge, link.question)))
    right = None
    if plain is not None:
        right = sum(answers_as_linked(plain, link) for link in found.links)
    return LectureCheck(lecture, found.path.name,
                        len(found.links) + len(found.orphans) + len(found.problems),
                        tuple(sorted(failures, key=lambda f: f.line_no)), len(found.moved),
                        right, len(found.links))


def answers_as_linked(knowledge: KnowledgeBase, link: Link) -> bool:
    answer = knowledge.answer(link.question)
    if link.passage_id is None:
        return not answer.answered
    return answer.answered and answer.best is not None and \
        answer.best.passage.passage_id == link.passage_id


def preview_check(knowledge: KnowledgeBase, staged: Lecture) -> LectureCheck | None:
    """The regression run of a lecture's questions file against a version not yet published.

    Only the new version's paragraphs are searched (a lecture's links point into it), so a
    preview of a large library costs one lecture's index, not the library's. Links follow
    their paragraph into the new version: by their anchors, else by the text the ref had in
    the version in service. None if the lecture has no questions file.
    """
    current = knowledge.library.lecture(staged.lecture_id)
    found = read_lecture_links(knowledge.folder, staged, passage_texts(current))
    if found is None:
        return None
    library = Library((staged,))
    index = Index(staged.passages, knowledge.index.tokenizer)
    links = LinkBook((found,), LinkIndex(found.links, knowledge.index.tokenizer,
                                         knowledge.links.index))
    alone = KnowledgeBase(knowledge.folder, library, index,
                          Answerer(library, index, links.index), links)
    return check_lecture(alone, found)


def _expected(knowledge: KnowledgeBase, link: Link) -> str:
    if link.ref == NOT_COVERED_REF:
        return texts.CHECK_REFUSED
    passage = knowledge.library.passage(link.passage_id or "")
    return f"{link.ref} {passage.citation}" if passage else link.ref


def _got(knowledge: KnowledgeBase, question: str) -> str:
    answer = knowledge.answer(question)
    if not answer.answered or answer.best is None:
        return texts.CHECK_REFUSED
    passage = answer.best.passage
    return f"{passage.section_no}.{passage.paragraph_no} {passage.citation}"


def _conflict(link: Link, later: Link, knowledge: KnowledgeBase) -> str:
    if later.lecture_id == link.lecture_id:
        return texts.LINKS_CONFLICT.format(line=later.line_no)
    found = knowledge.links.for_lecture(later.lecture_id)
    return texts.LINKS_CONFLICT_ELSEWHERE.format(file=found.path.name if found else "",
                                                  line=later.line_no)


def failure_line(failure: Failure) -> str:
    question = texts.echoed(failure.question)
    if failure.problem:
        return texts.CHECK_PROBLEM.format(line=failure.line_no, question=question,
                                          problem=failure.problem)
    return texts.CHECK_FAILURE.format(line=failure.line_no, question=question,
                                      expected=failure.expected, got=failure.got)


def summary(check: LectureCheck) -> str:
    return texts.CHECK_SUMMARY.format(title=check.lecture.title, file=check.file_name,
                                      passed=check.passed, total=check.total)


def report_lines(checks: Sequence[LectureCheck]) -> list[str]:
    """What `lecture-bot check` prints: one line per lecture, then each failure."""
    if not checks:
        return [texts.CHECK_NO_LINKS]
    lines = []
    for check in checks:
        lines.append(summary(check))
        lines += ["  " + failure_line(f) for f in check.failures]
        if check.moved:
            lines.append("  " + texts.CHECK_MOVED.format(count=check.moved))
        if check.right_without_links is not None:
            lines.append("  " + texts.CHECK_WITHOUT_LINKS.format(
                right=check.right_without_links, total=check.linked))
    return lines


def preview_lines(check: LectureCheck | None) -> list[str]:
    """The upload preview's regression part (nothing when the lecture has no links)."""
    if check is None:
        return []
    lines = [texts.PREVIEW_REGRESSION.format(passed=check.passed, total=check.total)]
    lines += ["· " + failure_line(f) for f in check.failures[:PREVIEW_FAILURES_SHOWN]]
    if len(check.failures) > PREVIEW_FAILURES_SHOWN:
        lines.append(texts.PREVIEW_MORE_FAILURES.format(
            count=len(check.failures) - PREVIEW_FAILURES_SHOWN))
    if check.moved:
        lines.append(texts.CHECK_MOVED.format(count=check.moved))
    return ["\n".join(lines)]
