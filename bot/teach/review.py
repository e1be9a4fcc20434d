"""What a review choice does and what the reviewer reads, without Telegram.

The handlers (bot/handlers/teach.py) load the queue, then call these: the texts of an item
and of a candidate, where a choice is written (`choose`), and the follow-ups it owes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Lecture, Passage
from bot.core.links import (
    NOT_COVERED_REF,
    LectureLinks,
    passage_ref_in_lecture,
    question_key,
)
from bot.teach import linkfile
from bot.teach.queue import OccurrenceKind, ReviewItem
from bot.teach.store import FollowUp

# A review shows this much of a question and of each candidate paragraph: enough to
# recognise them on a phone, and three candidates stay on one screen.
MAX_QUESTION_CHARS = 200
CANDIDATE_PREVIEW_CHARS = 60
# An upload's reply lists this many bad lines and counts the rest: one message, readable.
MAX_LISTED_PROBLEMS = 20

_KIND_TEXTS = {OccurrenceKind.NOT_COVERED: texts.REVIEW_KIND_NOT_COVERED,
               OccurrenceKind.CLOSEST: texts.REVIEW_KIND_CLOSEST,
               OccurrenceKind.DISLIKED: texts.REVIEW_KIND_DISLIKED}


def item_text(item: ReviewItem, remaining: int, chat: str,
              candidates: Sequence[Passage]) -> str:
    """The question, its chat (never who asked), why it is here, and the candidates."""
    if candidates:
        listed = texts.REVIEW_CANDIDATES.format(candidates="\n".join(
            texts.REVIEW_CANDIDATE.format(number=n, citation=p.citation, preview=preview(p))
            for n, p in enumerate(candidates, start=1)))
    else:
        listed = texts.REVIEW_NO_CANDIDATES
    people = texts.REVIEW_PEOPLE.format(count=item.people) if item.people > 1 else ""
    return texts.REVIEW_ITEM.format(
        remaining=remaining, question=shown_question(item.question), chat=chat,
        kinds="、".join(_KIND_TEXTS[kind] for kind in item.kinds), people=people,
        candidates=listed)


def shown_question(question: str) -> str:
    return question if len(question) <= MAX_QUESTION_CHARS else \
        question[:MAX_QUESTION_CHARS] + "…"


def preview(passage: Passage) -> str:
    text = passage.text
    return text if len(text) <= CANDIDATE_PREVIEW_CHARS else \
        text[:CANDIDATE_PREVIEW_CHARS] + "…"


@dataclass(frozen=True)
class Choice:
    """Where a review choice goes: a lecture's file, and the ref (or "-")."""

    lecture: Lecture
    ref: str
    passage: Passage | None


def choice_for(knowledge: KnowledgeBase, passage: Passage | None,
               candidates: Sequence[Passage]) -> Choice | None:
    """A passage's own lecture; "讲稿没讲" goes to the lecture of the best candidate (or the
    first lecture): a `-` link refuses the question whichever file holds it."""
    if passage is not None:
        lecture = knowledge.library.lecture(passage.lecture_id)
        return Choice(lecture, passage_ref_in_lecture(passage), passage) if lecture else None
    lectures = [knowledge.library.lecture(p.lecture_id) for p in candidates]
    lecture = next((lec for lec in lectures if lec), None) or \
        next(iter(knowledge.library.lectures), None)
    return Choice(lecture, NOT_COVERED_REF, None) if lecture else None


def write_choice(knowledge: KnowledgeBase, question: str, choice: Choice) -> None:
    """Writes the link in the lecture's questions file (file work: run it in a thread)."""
    same = [link.question for link in knowledge.links.index.same_question(question)]
    linkfile.set_link(knowledge.folder, choice.lecture, question, choice.ref, same,
                      [lecture.lecture_id for lecture in knowledge.library.lectures])


def follow_ups(item: ReviewItem, passage: Passage, knowledge: KnowledgeBase) -> list[FollowUp]:
    """One follow-up per private chat that asked a wording of the item (its newest)."""
    key = question_key(knowledge.index.tokenizer, item.question)
    owed: dict[int, FollowUp] = {}
    for occurrence in item.occurrences:
        if occurrence.in_private_chat and occurrence.chat_id not in owed:
            owed[occurrence.chat_id] = FollowUp(occurrence.chat_id, key,
                                                occurrence.question.text, passage.passage_id)
    return list(owed.values())


def upload_report(title: str, resolved: LectureLinks) -> str:
    """The reply to an uploaded questions file: how many links work, and the bad lines."""
    text = texts.QUESTIONS_UPDATED.format(title=title, count=len(resolved.links))
    problems = list(resolved.problems)
    if not problems:
        return text
    lines = [texts.QUESTIONS_BAD_LINE.format(line=p.line_no, reason=p.reason)
             for p in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        lines.append(texts.QUESTIONS_MORE_BAD_LINES.format(
            count=len(problems) - MAX_LISTED_PROBLEMS))
    return text + "\n\n" + texts.QUESTIONS_BAD_LINES.format(lines="\n".join(lines))
