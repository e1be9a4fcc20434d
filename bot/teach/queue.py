"""The review queue: what the bot did not answer well, grouped by wording, newest first.

Pure: the question log's rows and the reviewer's marks in, review items out. An occurrence
is a question the bot did not answer (not covered, or only the closest passages) or a 👎 on
an answer; occurrences whose wordings are the same question or close rewordings of each other
(as question links match them) make one item, whatever chats they came from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.asking.store import AskedQuestion, Dislike
from bot.core.lectures import Library, Passage
from bot.core.links import LinkIndex, QuestionMatcher, QuestionShape
from bot.core.search import Index

# The reply kinds a member's question waits for review with ("closest": the answer-or-refuse
# decision offered only the nearest passages).
UNANSWERED_KINDS = ("not_covered", "closest")
# Candidate paragraphs offered per item: three fit a phone screen with their previews.
CANDIDATES_SHOWN = 3


class OccurrenceKind(StrEnum):
    NOT_COVERED = "not_covered"
    CLOSEST = "closest"
    DISLIKED = "disliked"


@dataclass(frozen=True)
class Occurrence:
    """One thing to review: a question not answered, or an answer someone marked 👎."""

    key: str  # what a decision marks: a new 👎 after a decision is a new occurrence
    handle: str  # short and stable, for buttons
    kind: OccurrenceKind
    person: int | None  # the asker or the voter: counted, never shown
    question: AskedQuestion
    at: str
    disliked_passage: str | None = None

    @classmethod
    def unanswered(cls, question: AskedQuestion) -> Occurrence:
        handle = f"q{question.question_id}"
        kind = (OccurrenceKind.CLOSEST if question.reply_kind == OccurrenceKind.CLOSEST
                else OccurrenceKind.NOT_COVERED)
        return cls(handle, handle, kind, question.user_id, question, question.asked_at)

    @classmethod
    def disliked(cls, dislike: Dislike) -> Occurrence:
        handle = f"d{dislike.feedback_id}"
        return cls(f"{handle}@{dislike.given_at}", handle, OccurrenceKind.DISLIKED,
                   dislike.user_id, dislike.question, dislike.given_at, dislike.passage_id)

    @property
    def chat_id(self) -> int:
        return self.question.chat_id

    @property
    def in_private_chat(self) -> bool:
        """Asked in a private chat (where the chat is the asker), so a follow-up can go there."""
        return self.question.user_id is not None and self.question.chat_id == \
            self.question.user_id


@dataclass(frozen=True)
class ReviewItem:
    """Near-identical wordings waiting for one decision, the newest first."""

    occurrences: tuple[Occurrence, ...]

    @property
    def newest(self) -> Occurrence:
        return self.occurrences[0]

    @property
    def question(self) -> str:
        return self.newest.question.text

    @property
    def people(self) -> int:
        """How many people asked (or voted): anonymous rows count one each."""
        return len({o.person if o.person is not None else o.key for o in self.occurrences})

    @property
    def kinds(self) -> tuple[OccurrenceKind, ...]:
        return tuple(dict.fromkeys(o.kind for o in self.occurrences))

    @property
    def chat_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(o.chat_id for o in self.occurrences))

    def has(self, handle: str) -> bool:
        return any(o.handle == handle for o in self.occurrences)


def occurrences(questions: Sequence[AskedQuestion],
                dislikes: Sequence[Dislike]) -> list[Occurrence]:
    return [*map(Occurrence.unanswered, questions), *map(Occurrence.disliked, dislikes)]


def review_queue(found: Sequence[Occurrence], marked: Collection[str], links: LinkIndex,
                 matcher: QuestionMatcher[int],
                 shapes: dict[str, QuestionShape | None],
                 chat_links: Mapping[int, LinkIndex] | None = None) -> list[ReviewItem]:
    """The items waiting for review, newest first.

    Left out: occurrences already decided (or skipped by this reviewer), and unanswered
    questions that a link answers now (linked by hand, or in another group's review). A 👎
    stays until it is decided: the answer it disliked may have come from a link.
    `matcher` is a fresh QuestionMatcher (it groups the wordings); `shapes` remembers each
    wording's shape (made with the matcher's tokenizer) from one review screen to the next.
    `chat_links`: each group's own links (bot.teach.scoped), which answer in that group.
    """
    def shape(text: str) -> QuestionShape | None:
        if text not in shapes:
            shapes[text] = matcher.shape(text)
        return shapes[text]

    def linked(o: Occurrence) -> bool:
        own = (chat_links or {}).get(o.chat_id)
        return any(index.match(o.question.text, shape(o.question.text)) is not None
                   for index in (links, own) if index is not None)

    waiting = [o for o in found if o.key not in marked
               and (o.kind == OccurrenceKind.DISLIKED or not linked(o))]
    waiting.sort(key=lambda o: (o.at, o.question.question_id), reverse=True)
    groups: list[list[Occurrence]] = []
    for occurrence in waiting:
        text = occurrence.question.text
        group = matcher.find(text, shape(text))
        if group is None:
            group = len(groups)
            groups.append([])
        groups[group].append(occurrence)
        matcher.add(text, group, shape(text))
    return [ReviewItem(tuple(group)) for group in groups]


def candidates(item: ReviewItem, library: Library, index: Index,
               limit: int = CANDIDATES_SHOWN) -> list[Passage]:
    """The paragraphs offered for an item: those the bot considered when it was asked (if
    they still exist), then the search's best for the question today; never a paragraph a
    member marked 👎 for it."""
    disliked = {o.disliked_passage for o in item.occurrences}
    ids = [pid for o in item.occurrences for pid in o.question.candidates]
    ids += [hit.passage.passage_id for hit in index.search(item.question, limit + len(disliked))]
    chosen: list[Passage] = []
    for passage_id in dict.fromkeys(ids):
        passage = library.passage(passage_id)
        if passage is not None and passage_id not in disliked:
            chosen.append(passage)
        if len(chosen) == limit:
            break
    return chosen
