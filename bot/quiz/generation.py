"""Quiz questions generated from a lecture's own sentences, with no hand work.

Multiple choice: a sentence with one key number, date or term blanked out; the three wrong
options are of the same kind (numbers near it in the same format, other lecture terms of the
same length that the paragraph never uses) and none of them, put in the blank, gives back the
paragraph's sentence. True/false: a sentence as written, or a copy with its key changed to a
wrong option. Every question cites its paragraph and explains itself with the key sentence.

Pure: a `Tokenizer` (for terms and their weights) and passages in, `Question`s out.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot import texts
from bot.core.lectures import Passage
from bot.core.text import Tokenizer, is_cjk

BLANK = "____"
# Telegram's limits for a quiz poll (constants.PollLimit): the question, each option, the
# explanation. Every generated or loaded question keeps within them.
MAX_QUESTION_CHARS = 300
MAX_OPTION_CHARS = 100
MAX_EXPLANATION_CHARS = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10

CHOICES = 4  # the answer and three wrong options, as members know from 学习强国
# The sentence shown around a blank: long enough to recall the sentence, short enough for a
# phone's poll (a whole 150-character sentence is a paragraph to read, not a question).
MAX_CONTEXT_CHARS = 90
# Up to this many questions a paragraph: the shipped lecture's six paragraphs then give ~30.
QUESTIONS_PER_PASSAGE = 5
# A term blanked out must be at least this informative (IDF in jieba's dictionary, see
# Tokenizer.word_weight): 意识形态 10.3 and 主战场 13.8 are kept, 工作 or 发展 (< 7) are not.
MIN_TERM_WEIGHT = 9.0
MIN_TERM_CHARS, MAX_TERM_CHARS = 2, 8
# Parts of speech that make a key term, in the kinds whose terms may stand in for each other
# as wrong options: nouns and names (网络安全, 中央办公厅), set phrases (意识形态, 崇洋媚外), nouns
# made of verbs (监管). A verb or an adverb is never blanked out.
TERM_KINDS = {"n": "noun", "nz": "noun", "nt": "noun", "ns": "noun", "nr": "noun", "nl": "noun",
              "ng": "noun", "l": "phrase", "i": "phrase", "vn": "verbal", "an": "verbal"}

# A year with its month (2024年1月), a year (2023年), or a value with its unit (9918.5万, 77.5%).
_NUMBER = re.compile(r"(?<![\d.])(?:(?P<year>\d{4})年(?:(?P<month>\d{1,2})月)?"
                     r"|(?P<value>\d+(?:\.\d+)?)(?P<unit>%|万|亿)?)(?![\d.])")
# Wrong values are the right one scaled by one of these: near it, as the issue asks, and far
# enough apart (≥ 10 %) that a member who read the passage can tell them apart.
VALUE_FACTORS = (0.7, 0.8, 0.9, 1.1, 1.2, 1.3)
YEAR_OFFSETS = (-3, -2, -1, 1, 2)
MONTH_OFFSETS = (-3, -2, 2, 3)
CLAUSE_MARKS = ",，;；:："
_CLAUSE_END = re.compile(f"[{CLAUSE_MARKS}]")
# Shown where a question's sentence is cut: the rest of the sentence is in the explanation.
ELLIPSIS = "……"

AUTO, MANUAL, DROPPED = "auto", "manual", "dropped"


@dataclass(frozen=True)
class Question:
    """One quiz question as a poll shows it; `source` says who made it (see bank.py)."""

    passage_id: str
    paragraph_hash: str
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    source: str = AUTO

    @property
    def key(self) -> str:
        """A short stable id: the same question keeps it whatever line it is on."""
        text = "\x1f".join((self.passage_id, self.question, *self.options))
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]

    @property
    def answer(self) -> str:
        return self.options[self.correct]


def paragraph_hash(text: str) -> str:
    """What a paragraph's questions are keyed by: they are regenerated when it changes."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Blank:
    """A key (number, date or term) of a passage that a question may blank out."""

    start: int  # offsets in the passage text
    end: int
    kind: str  # "number", or the kind of term (TERM_KINDS)
    weight: float

    def answer(self, text: str) -> str:
        return text[self.start:self.end]


class TermPool:
    """The key terms of every lecture by length: where wrong options of a term come from."""

    def __init__(self, tokenizer: Tokenizer, passages: Iterable[Passage]):
        self.tokenizer = tokenizer
        self.terms: dict[tuple[str, int], list[str]] = {}
        self._blanks: dict[str, list[Blank]] = {}
        for passage in passages:
            blanks = list(self._term_blanks(passage.text))
            self._blanks[passage.passage_id] = blanks
            for blank in blanks:
                same_length = self.terms.setdefault((blank.kind, blank.end - blank.start), [])
                term = blank.answer(passage.text)
                if term not in same_length:
                    same_length.append(term)

    def blanks(self, passage: Passage) -> list[Blank]:
        terms = self._blanks.get(passage.passage_id)
        if terms is None:
            terms = list(self._term_blanks(passage.text))
        return sorted([*_number_blanks(passage.text), *terms], key=lambda b: b.start)

    def _term_blanks(self, text: str) -> Iterable[Blank]:
        offset = 0
        for word, tag in self.tokenizer.tagged_words(text):
            start, offset = offset, offset + len(word)
            if not (MIN_TERM_CHARS <= len(word) <= MAX_TERM_CHARS and tag in TERM_KINDS
                    and all(is_cjk(ch) for ch in word)):
                continue
            if word in self.tokenizer.lexicon.stop_words:
                continue
            weight = self.tokenizer.word_weight(word)
            if weight >= MIN_TERM_WEIGHT:
                yield Blank(start, offset, TERM_KINDS[tag], weight)


def _number_blanks(text: str) -> Iterable[Blank]:
    for match in _NUMBER.finditer(text):
        if match["value"] and not match["unit"] and "." not in match["value"] \
                and int(match["value"]) < 10:
            continue  # 一是 3 个方面: a small count is not worth a question
        yield Blank(match.start(), match.end(), "number", float("inf"))


def wrong_numbers(answer: str, rng: random.Random) -> list[str]:
    """Numbers near `answer` in its format: 2024年1月 → 2023年1月, 9918.5万 → 8926.7万."""
    match = _NUMBER.fullmatch(answer)
    if match is None:
        return []
    if match["year"]:
        year = int(match["year"])
        if not match["month"]:
            wrong = [f"{year + d}年" for d in YEAR_OFFSETS]
            rng.shuffle(wrong)
            return wrong
        month = int(match["month"])
        dates = {(year + d, month) for d in YEAR_OFFSETS}
        dates |= {(year, month + d) for d in MONTH_OFFSETS if 1 <= month + d <= 12}
        wrong = [f"{y}年{m}月" for y, m in sorted(dates)]
        rng.shuffle(wrong)
        return wrong
    value, unit = match["value"], match["unit"] or ""
    decimals = len(value.partition(".")[2])
    wrong = []
    for factor in VALUE_FACTORS:
        scaled = float(value) * factor
        if unit == "%" and scaled >= 100:
            continue
        text = f"{scaled:.{decimals}f}"
        if text != value and f"{text}{unit}" not in wrong:
            wrong.append(f"{text}{unit}")
    rng.shuffle(wrong)
    return wrong


def wrong_terms(blank: Blank, pool: TermPool, passage: Passage, context: str) -> list[str]:
    """Other lecture terms of the same kind and length, never used in this paragraph; those
    sharing characters with the answer first (网络安全 → 网络生态): they are the plausible ones."""
    answer = blank.answer(passage.text)
    candidates = [t for t in pool.terms.get((blank.kind, len(answer)), [])
                  if t != answer and t not in passage.text and t not in context
                  and answer not in t and t not in answer]
    return sorted(candidates, key=lambda t: (-len(set(t) & set(answer)), _digest(t + answer)))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _rng(*parts: object) -> random.Random:
    return random.Random(int(_digest("\x1f".join(map(str, parts)))[:12], 16))


def context_window(text: str, span: tuple[int, int], blank: Blank) -> tuple[int, int]:
    """The clauses of the blank's sentence around it, within MAX_CONTEXT_CHARS."""
    sentence_start, sentence_end = span
    cuts = [sentence_start, *(m.end() for m in _CLAUSE_END.finditer(text, sentence_start,
                                                                       sentence_end)),
            sentence_end]
    cuts = sorted(set(cuts))
    first = max(i for i, cut in enumerate(cuts) if cut <= blank.start)
    last = min(i for i, cut in enumerate(cuts) if cut >= blank.end)
    grew = True
    while grew:
        grew = False
        if first > 0 and cuts[last] - cuts[first - 1] <= MAX_CONTEXT_CHARS:
            first, grew = first - 1, True
        if last < len(cuts) - 1 and cuts[last + 1] - cuts[first] <= MAX_CONTEXT_CHARS:
            last, grew = last + 1, True
    start, end = cuts[first], cuts[last]
    while start < blank.start and text[start].isspace():
        start += 1
    return start, end


@dataclass(frozen=True)
class _Draft:
    """A blank with its sentence window and wrong options, before it becomes a question."""

    passage: Passage
    blank: Blank
    window: tuple[int, int]
    sentence: tuple[int, int]
    wrong: tuple[str, ...]

    @property
    def answer(self) -> str:
        return self.blank.answer(self.passage.text)

    def context(self, fill: str) -> str:
        """The window with `fill` in the blank; …… marks where the sentence goes on."""
        text = self.passage.text
        start, end = self.window
        shown = text[start:self.blank.start] + fill + text[self.blank.end:end]
        head = ELLIPSIS if text[self.sentence[0]:start].strip() else ""
        if text[end:self.sentence[1]].strip():
            return head + shown.rstrip(CLAUSE_MARKS) + ELLIPSIS
        return head + shown


def _draft(passage: Passage, pool: TermPool, blank: Blank,
           sentence: tuple[int, int]) -> _Draft | None:
    """The blank as a question, or None if it cannot make a fair one."""
    text = passage.text
    answer = blank.answer(text)
    window = context_window(text, sentence, blank)
    shown = text[window[0]:blank.start] + BLANK + text[blank.end:window[1]]
    if answer in shown or len(shown) - len(BLANK) < len(answer) * 2:
        return None  # given away elsewhere in the stem, or too little left to recall it
    if blank.kind == "number":
        wrong = wrong_numbers(answer, _rng(passage.text, blank.start))
    else:
        wrong = wrong_terms(blank, pool, passage, shown)
    fair = [w for w in wrong if shown.replace(BLANK, w) not in text
            and len(w) <= MAX_OPTION_CHARS]
    if len(fair) < CHOICES - 1:
        return None
    return _Draft(passage, blank, window, sentence, tuple(fair[:CHOICES - 1]))


def passage_questions(passage: Passage, pool: TermPool) -> list[Question]:
    """Up to QUESTIONS_PER_PASSAGE questions on the passage, at most one in five true/false."""
    drafts = _chosen_drafts(passage, pool)
    true_false = _true_false_pick(drafts)
    return [(_true_false if draft is true_false else _multiple_choice)(draft)
            for draft in drafts]


def _chosen_drafts(passage: Passage, pool: TermPool) -> list[_Draft]:
    """The best blank of each sentence in turn (numbers, then the most informative terms), so
    the questions spread over the paragraph; each answer is asked once per paragraph."""
    by_sentence: list[list[_Draft]] = []
    for span in passage.sentence_spans:
        blanks = [b for b in pool.blanks(passage) if span[0] <= b.start and b.end <= span[1]]
        blanks.sort(key=lambda b: (-b.weight, b.start))
        drafts = (_draft(passage, pool, b, span) for b in blanks)
        by_sentence.append([d for d in drafts if d is not None])
    chosen: list[_Draft] = []
    answers: set[str] = set()
    for rank in range(max((len(d) for d in by_sentence), default=0)):
        for drafts in by_sentence:
            if rank < len(drafts) and drafts[rank].answer not in answers \
                    and len(chosen) < QUESTIONS_PER_PASSAGE:
                chosen.append(drafts[rank])
                answers.add(drafts[rank].answer)
    return sorted(chosen, key=lambda d: d.blank.start)


def _true_false_pick(drafts: Sequence[_Draft]) -> _Draft | None:
    """One draft with a number becomes true/false (a changed number reads as naturally as the
    original; a changed term often does not), when the paragraph gives a full five questions:
    so never more than one question in five is true/false."""
    if len(drafts) < QUESTIONS_PER_PASSAGE:
        return None
    return next((d for d in drafts if d.blank.kind == "number"), None)


def _multiple_choice(draft: _Draft) -> Question:
    options = [draft.answer, *draft.wrong]
    _rng(draft.passage.text, draft.blank.start, "order").shuffle(options)
    stem = texts.QUIZ_FILL_STEM.format(sentence=draft.context(BLANK))
    return _question(draft, stem, tuple(options), options.index(draft.answer))


def _true_false(draft: _Draft) -> Question:
    """The sentence as written (true) or with its key changed to a wrong option (false)."""
    is_true = _rng(draft.passage.text, draft.blank.start, "truth").random() < 0.5
    statement = draft.context(draft.answer if is_true else draft.wrong[0])
    options = (texts.QUIZ_TRUE, texts.QUIZ_FALSE)
    stem = texts.QUIZ_TRUE_FALSE_STEM.format(statement=statement)
    return _question(draft, stem, options, 0 if is_true else 1)


def _question(draft: _Draft, stem: str, options: tuple[str, ...], correct: int) -> Question:
    passage = draft.passage
    return Question(passage.passage_id, paragraph_hash(passage.text), stem, options, correct,
                    explanation(passage, draft.sentence, draft.window))


def explanation(passage: Passage, sentence: tuple[int, int], window: tuple[int, int]) -> str:
    """The key sentence and the citation, within Telegram's 200 characters: the whole sentence
    when it fits, else the clauses around the blank."""
    citation = passage.citation
    room = MAX_EXPLANATION_CHARS - len(texts.QUIZ_EXPLANATION.format(sentence="",
                                                                      citation=citation))
    quote = passage.text[sentence[0]:sentence[1]].strip()
    if len(quote) > room:
        quote = passage.text[window[0]:window[1]].strip() + "…"
    if len(quote) > room:
        quote = quote[:max(room - 1, 0)] + "…"
    return texts.QUIZ_EXPLANATION.format(sentence=quote, citation=citation)[
        :MAX_EXPLANATION_CHARS]


def lecture_questions(passages: Sequence[Passage], pool: TermPool) -> list[Question]:
    return [q for passage in passages for q in passage_questions(passage, pool)]
