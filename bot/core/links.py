"""Question links: a wording members used, linked by an admin to the paragraph that answers it.

One UTF-8 file per lecture, beside it: `<lecture file stem>.questions.tsv`, one link a line,
`question<TAB>ref`, where ref is the passage id after the colon (`3.2`, `0.1`) or `-` for "the
lecture does not answer this". Lines starting with `#` are comments (a question that starts
with `#` is written after a backslash, `\\#…`); a link whose paragraph
an edit removed is kept as the comment `#段落已删除<TAB>question<TAB>ref`. A bad line is
reported with its number; the other lines still work.

Links follow their paragraph through edits by its text: `.links/<lecture id>.json` in the
knowledge folder keeps, for each linked ref, the paragraph's text when the link was last
confirmed. After an edit a ref is re-resolved to the paragraph that now holds that text (or
a lightly edited copy of it); a link whose text is nowhere is orphaned.

`LinkIndex.match(question)` finds the link for a member's question: the same question after
normalisation (the tokenizer's words: width, traditional characters, aliases folded,
punctuation dropped), or a close rewording of it (see `REWORDING_SIMILARITY`).

Pure and read-only: no Telegram; `bot.teach` writes the files.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Generic, TypeVar

from rapidfuzz import fuzz

from bot import texts
from bot.core.lectures import Lecture, Library, Passage
from bot.core.search import MAX_HIGHLIGHTED_SENTENCES, SENTENCE_HIGHLIGHT_SHARE, Hit
from bot.core.text import Tokenizer, is_cjk

log = logging.getLogger(__name__)

LINKS_SUFFIX = ".questions.tsv"
ANCHORS_DIR = ".links"
NOT_COVERED_REF = "-"
ORPHAN_MARK = texts.LINKS_ORPHAN_MARK
_REF = re.compile(r"^\d+\.\d+$")

# A paragraph counts as the linked one after an edit when its text is at least this similar
# (rapidfuzz ratio, 0-100) to the text the link was made on. No two different paragraphs of
# CMRC 2018 dev (848 Wikipedia paragraphs) score above 78.3, nor of the shipped lecture above
# 24.4; the lecture's second paragraph with one of its six sentences rewritten scores 92.
FOLLOW_SIMILARITY = 85

# A close rewording has the same content words as the linked question (aliases folded, so
# 网信办 is 网信部门; function words aside, see FUNCTION_WORDS) and shares this much of all its
# words, each weighted by how informative it is in Chinese at large (Tokenizer.word_weight):
# what differs may be particles, function words and question words (啥时候 / 什么时候), never
# a premise (农村, 2024年) or the thing asked (说啥 / 几条). Chosen on the gold sets
# (`python -m benchmarks.links`, 1,220 questions on five lectures): 161 pairs of one lecture's
# questions have the same content words; the two of them with different right answers share
# 0.32 at most (0.35 is the lowest threshold without a false match), and at 0.45, which keeps
# a margin, 114 of the 159 pairs with the same right answer still match. Linking a random half
# of each lecture's questions and asking the other half: 54-64 answered through a link, none
# wrongly.
REWORDING_SIMILARITY = 0.45

# Words a rewording may add, drop or swap (部门之间推来推去 / 部门之间互相推来推去, 要会些啥 /
# 要会点啥) beyond the stop words: they say how something is asked, never what (a premise such
# as 农村 or 2024年 is a content word and must match). Mutual, degree and frequency adverbs, the
# "a little" measure particles, and determiners of scope: a closed class of the language, so a
# table. What a differing function word still weighs is counted by `similarity`.
FUNCTION_WORDS = frozenset((
    "互相", "相互", "彼此", "一起", "一块儿",  # mutual
    "稍微", "稍稍", "略微", "有些", "十分", "相当", "格外", "更加",  # degree
    "一直", "总是", "老是", "经常", "常常", "往往",  # frequency
    "点", "点儿", "一点儿", "些", "些许",  # a little
    "各", "各个", "各种", "各类",  # scope
))

# Only this much of a question is matched against links, as much as is searched.
MAX_MATCHED_QUESTION_CHARS = 300


@dataclass(frozen=True)
class LinkLine:
    """One link as written in a questions file."""

    line_no: int
    question: str
    ref: str
    orphaned: bool = False  # kept commented out: an edit removed its paragraph


@dataclass(frozen=True)
class LineProblem:
    """A line that does not work, and why (in Chinese, for admins)."""

    line_no: int
    question: str
    reason: str


@dataclass(frozen=True)
class Link:
    """A working link: a question and the passage it is answered with (None: refused)."""

    question: str
    lecture_id: str
    ref: str
    line_no: int
    written_ref: str  # as the file says; differs from `ref` when the paragraph moved

    @property
    def passage_id(self) -> str | None:
        return None if self.ref == NOT_COVERED_REF else f"{self.lecture_id}:{self.ref}"

    @property
    def moved(self) -> bool:
        return self.ref != self.written_ref


@dataclass(frozen=True)
class LectureLinks:
    """One lecture's questions file, resolved against the lecture as it is now."""

    lecture_id: str
    path: Path
    links: tuple[Link, ...]
    orphans: tuple[LinkLine, ...] = ()
    problems: tuple[LineProblem, ...] = ()
    # ref → text of every paragraph a working link points to: the anchors to keep.
    anchors: dict[str, str] = field(default_factory=dict)

    @property
    def moved(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.moved)


def links_path(folder: Path, lecture_id: str) -> Path:
    return folder / f"{lecture_id}{LINKS_SUFFIX}"


def anchors_path(folder: Path, lecture_id: str) -> Path:
    return folder / ANCHORS_DIR / f"{lecture_id}.json"


def valid_ref(ref: str) -> bool:
    return ref == NOT_COVERED_REF or bool(_REF.match(ref))


def clean_question(text: str) -> str:
    """A question as a line of the file can hold it: no tabs or line breaks."""
    return " ".join(text.split())


def link_line(question: str, ref: str) -> str:
    return f"{escape_question(clean_question(question))}\t{ref}"


# A question that starts with "#" (or with this escape) is written after a backslash: the
# line would otherwise read as a comment, and the link be lost.
_ESCAPE = "\\"


def escape_question(question: str) -> str:
    return _ESCAPE + question if question.startswith(("#", _ESCAPE)) else question


def unescape_question(question: str) -> str:
    return question[1:] if question.startswith(_ESCAPE) else question


def orphan_line(question: str, ref: str) -> str:
    return f"{ORPHAN_MARK}\t{clean_question(question)}\t{ref}"


def parse_links(text: str) -> tuple[list[LinkLine], list[LineProblem]]:
    """The links of a file's text and the lines that are not links (syntax only)."""
    lines, problems = [], []
    for line_no, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.rstrip()  # a leading tab is an empty question, not indentation
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            orphan = _orphan(line.strip(), line_no)
            if orphan is not None:
                lines.append(orphan)
            continue
        if "\t" not in line:
            problems.append(LineProblem(line_no, clean_question(line), texts.LINKS_NO_TAB))
            continue
        question, ref = line.rsplit("\t", 1)
        question = unescape_question(clean_question(question))
        ref = unicodedata.normalize("NFKC", ref).strip()
        if not question:
            problems.append(LineProblem(line_no, "", texts.LINKS_EMPTY_QUESTION))
        elif not valid_ref(ref):
            problems.append(LineProblem(line_no, question,
                                        texts.LINKS_BAD_REF.format(ref=texts.echoed(ref))))
        else:
            lines.append(LinkLine(line_no, question, ref))
    return lines, problems


def _orphan(line: str, line_no: int) -> LinkLine | None:
    parts = line.split("\t")
    if len(parts) == 3 and parts[0].strip() == ORPHAN_MARK and parts[1].strip():
        return LinkLine(line_no, clean_question(parts[1]), parts[2].strip(), orphaned=True)
    return None


def resolve_links(lecture: Lecture, lines: Sequence[LinkLine], problems: Sequence[LineProblem],
                  anchors: dict[str, str], path: Path) -> LectureLinks:
    """Each link against the lecture as it is now, following moved paragraphs by their text.

    A ref without an anchor (a link written by hand) is taken as written if the paragraph
    exists; a ref whose anchor text is nowhere in the lecture is orphaned.
    """
    by_ref = passages_by_ref(lecture)
    followed: dict[str, Passage | None] = {}
    links, orphans, bad = [], [], list(problems)
    for line in lines:
        if line.orphaned:
            orphans.append(line)
            continue
        if line.ref == NOT_COVERED_REF:
            links.append(Link(line.question, lecture.lecture_id, line.ref, line.line_no, line.ref))
            continue
        anchor = anchors.get(line.ref)
        if anchor is None:
            passage = by_ref.get(line.ref)
            if passage is None:
                bad.append(LineProblem(line.line_no, line.question,
                                       texts.LINKS_UNKNOWN_REF.format(ref=line.ref)))
                continue
        else:
            if line.ref not in followed:
                followed[line.ref] = _follow(lecture, by_ref, line.ref, anchor)
            passage = followed[line.ref]
            if passage is None:
                orphans.append(replace(line, orphaned=True))
                continue
        ref = passage_ref_in_lecture(passage)
        links.append(Link(line.question, lecture.lecture_id, ref, line.line_no, line.ref))
    kept = {link.ref: by_ref[link.ref].text for link in links if link.ref in by_ref}
    return LectureLinks(lecture.lecture_id, path, tuple(links), tuple(orphans),
                        tuple(sorted(bad, key=lambda p: p.line_no)), kept)


def _follow(lecture: Lecture, by_ref: dict[str, Passage], ref: str, anchor: str) -> Passage | None:
    """The paragraph that now holds the anchor text: the same ref, moved, or lightly edited."""
    same = by_ref.get(ref)
    if same is not None and same.text == anchor:
        return same
    exact = next((p for p in lecture.passages if p.text == anchor), None)
    if exact is not None:
        return exact
    scored = [(fuzz.ratio(anchor, p.text, score_cutoff=FOLLOW_SIMILARITY), p)
              for p in lecture.passages]
    best = max(scored, key=lambda item: item[0], default=(0.0, None))
    return best[1] if best[0] >= FOLLOW_SIMILARITY else None


def read_anchors(folder: Path, lecture_id: str) -> dict[str, str]:
    path = anchors_path(folder, lecture_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable link anchors %s: %s", path, error)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str) and _REF.match(str(k))}


def read_lecture_links(folder: Path, lecture: Lecture,
                       fallback_anchors: dict[str, str] | None = None) -> LectureLinks | None:
    """The lecture's questions file resolved against `lecture`; None if it has none.

    `fallback_anchors` stand in for refs the anchors file lacks (the text those refs had in
    the version being replaced, when a new version is previewed).
    """
    path = links_path(folder, lecture.lecture_id)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        log.warning("questions file %s not read: %s", path, error)
        return LectureLinks(lecture.lecture_id, path, (),
                            problems=(LineProblem(0, "", texts.LINKS_UNREADABLE),))
    anchors = {**(fallback_anchors or {}), **read_anchors(folder, lecture.lecture_id)}
    lines, problems = parse_links(text)
    return resolve_links(lecture, lines, problems, anchors, path)


def passage_ref_in_lecture(passage: Passage) -> str:
    """The ref a questions file uses for a passage: its id after the colon (3.2)."""
    return f"{passage.section_no}.{passage.paragraph_no}"


def passages_by_ref(lecture: Lecture) -> dict[str, Passage]:
    return {passage_ref_in_lecture(p): p for p in lecture.passages}


def passage_texts(lecture: Lecture | None) -> dict[str, str]:
    """ref → text of every paragraph of a lecture: the anchors a version offers."""
    if lecture is None:
        return {}
    return {ref: p.text for ref, p in passages_by_ref(lecture).items()}


T = TypeVar("T")


@dataclass(frozen=True)
class QuestionShape:
    """What matching needs of a question: its exact form, content words and word weights."""

    key: str
    content: frozenset[str]
    weights: dict[str, float]


class QuestionMatcher(Generic[T]):
    """Questions with a value each; finds the value of the same question or a close rewording.

    Used for links and for grouping the questions waiting for review.
    """

    def __init__(self, tokenizer: Tokenizer, known: dict[str, QuestionShape] | None = None):
        """`known`: shapes an earlier matcher with the same tokenizer computed (see `shapes`)."""
        self.tokenizer = tokenizer
        self._known = known or {}
        self.shapes: dict[str, QuestionShape] = {}  # of the questions added
        self._exact: dict[str, T] = {}
        self._by_content: dict[frozenset[str], list[tuple[QuestionShape, T]]] = {}

    def __len__(self) -> int:
        return len(self._exact)

    def add(self, question: str, value: T, shape: QuestionShape | None = None) -> T | None:
        """Adds a question; returns the value it replaces (the same question added before).
        `shape`: the question's, if the caller has it already."""
        shape = shape or self._known.get(question) or self.shape(question)
        if shape is None:
            return None
        self.shapes[question] = shape
        previous = self._exact.get(shape.key)
        self._exact[shape.key] = value
        entries = self._by_content.setdefault(shape.content, [])
        entries[:] = [(s, v) for s, v in entries if s.key != shape.key]
        entries.append((shape, value))
        return previous

    def find(self, question: str, shape: QuestionShape | None = None) -> T | None:
        shape = shape or self.shape(question)
        if shape is None:
            return None
        if shape.key in self._exact:
            return self._exact[shape.key]
        if not shape.content:
            return None
        best, best_score = None, REWORDING_SIMILARITY
        for candidate, value in self._by_content.get(shape.content, ()):
            score = similarity(shape, candidate)
            if score >= best_score:  # ties: the later question wins
                best, best_score = value, score
        return best

    def same_question(self, a: str, b: str) -> bool:
        shape_a, shape_b = self.shape(a), self.shape(b)
        return shape_a is not None and shape_b is not None and shape_a.key == shape_b.key

    def shape(self, question: str) -> QuestionShape | None:
        """What matching compares of a question; None if it has no words at all."""
        words = self.tokenizer.words(question[:MAX_MATCHED_QUESTION_CHARS])
        if not words:
            return None
        unique = set(words)
        return QuestionShape("".join(words), frozenset(self._content(unique)),
                             {w: self.tokenizer.word_weight(w) for w in unique})

    def _content(self, words: Iterable[str]) -> Iterable[str]:
        """What a rewording must keep: the words that are neither stop words nor function
        words. A run jieba's HMM glued together (要会些, 要会点: no dictionary word) counts by
        its characters, so that its particles drop out like any other."""
        stop = self.tokenizer.lexicon.stop_words
        for word in words:
            if word in stop or word in FUNCTION_WORDS:
                continue
            if len(word) > 1 and all(map(is_cjk, word)) and not self.tokenizer.knows(word):
                yield from (ch for ch in word if ch not in stop and ch not in FUNCTION_WORDS)
            else:
                yield word


def question_key(tokenizer: Tokenizer, question: str) -> str:
    """The question's normalised form: equal for the same question however it is written."""
    shape = QuestionMatcher(tokenizer).shape(question)
    return shape.key if shape is not None else clean_question(question)


def similarity(a: QuestionShape, b: QuestionShape) -> float:
    """Weighted Jaccard similarity of two questions' words."""
    shared = sum(a.weights[w] for w in a.weights.keys() & b.weights.keys())
    union = shared + sum(weight for w, weight in a.weights.items() if w not in b.weights) + \
        sum(weight for w, weight in b.weights.items() if w not in a.weights)
    return shared / union if union > 0 else 0.0


class LinkIndex:
    """Every working link of a knowledge folder, for matching members' questions."""

    def __init__(self, links: Iterable[Link], tokenizer: Tokenizer | None,
                 previous: LinkIndex | None = None):
        """`previous`: an index with the same tokenizer whose questions need no new analysis
        (a refresh after one link changed costs one question, not a thousand)."""
        self.links = tuple(links)
        self._matcher: QuestionMatcher[Link] | None = None
        conflicts = []
        if tokenizer is not None and self.links:
            known = None
            if previous is not None and previous._matcher is not None \
                    and previous._matcher.tokenizer is tokenizer:
                known = previous._matcher.shapes
            self._matcher = QuestionMatcher(tokenizer, known)
            for link in self.links:
                previous = self._matcher.add(link.question, link)
                if previous is not None and previous.passage_id != link.passage_id:
                    conflicts.append((previous, link))
        # Pairs (earlier, later) of one question linked to two different refs; the later wins.
        self.conflicts: tuple[tuple[Link, Link], ...] = tuple(conflicts)

    def __len__(self) -> int:
        return len(self.links)

    def match(self, question: str, shape: QuestionShape | None = None) -> Link | None:
        """The link for this question: the same question, or a close rewording of it."""
        if self._matcher is None:
            return None
        return self._matcher.find(question, shape)

    def same_question(self, question: str) -> tuple[Link, ...]:
        """Every link whose question is this question after normalisation."""
        if self._matcher is None:
            return ()
        shape = self._matcher.shape(question)
        return tuple(link for link in self.links
                     if shape is not None and (known := self._matcher.shapes.get(link.question))
                     is not None and known.key == shape.key)


@dataclass(frozen=True)
class LinkBook:
    """The questions files of a knowledge folder, resolved, and the index over their links."""

    lectures: tuple[LectureLinks, ...]
    index: LinkIndex

    @classmethod
    def empty(cls) -> LinkBook:
        return cls((), LinkIndex((), None))

    def for_lecture(self, lecture_id: str) -> LectureLinks | None:
        return self._by_lecture.get(lecture_id)

    @cached_property
    def _by_lecture(self) -> dict[str, LectureLinks]:
        return {links.lecture_id: links for links in self.lectures}


def load_links(folder: Path, library: Library, tokenizer: Tokenizer,
               previous: LinkBook | None = None) -> LinkBook:
    """Every lecture's questions file, resolved against the library as it is now."""
    lectures = [found for lecture in library.lectures
                if (found := read_lecture_links(folder, lecture)) is not None]
    links = (link for found in lectures for link in found.links)
    return LinkBook(tuple(lectures), LinkIndex(links, tokenizer,
                                               previous.index if previous else None))


def linked_hit(passage: Passage, hits: Sequence[Hit], tokenizer: Tokenizer,
               questions: Sequence[str]) -> Hit:
    """The linked passage as an answer's first hit, its best sentences highlighted.

    The search's own hit when it found the passage; else the sentences that hold most of the
    questions' content words (the member's wording and the linked one), weighted as coverage
    weighs them.
    """
    for hit in hits:
        if hit.passage.passage_id == passage.passage_id:
            return hit
    stop = tokenizer.lexicon.stop_words
    wanted = {w for q in questions for w in tokenizer.words(q) if w not in stop}
    scores = []
    for sentence in passage.sentences:
        present = wanted & set(tokenizer.words(sentence))
        scores.append(sum(tokenizer.word_weight(w) for w in present))
    return Hit(passage, 0.0, 0.0, _best_sentences(scores), ())


def _best_sentences(scores: Sequence[float]) -> tuple[int, ...]:
    """As the search highlights: the best few, each close enough to the best one."""
    best = max(scores, default=0.0)
    if best <= 0:
        return ()
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    return tuple(sorted(i for i in order[:MAX_HIGHLIGHTED_SENTENCES]
                        if scores[i] >= SENTENCE_HIGHLIGHT_SHARE * best))
