"""Reading: what kind of thing a question asks for, and where in a paragraph it stands.

Classic question answering without a neural reader. A question is analysed into the answer
type its interrogative expects (多少 a quantity, 哪年 a date, 谁 a person …), the words left
and right of the interrogative, the word it asks about (什么[奖], 几个[国家]) and its focus
(its content words, most informative first). Chinese asks in situ ("X成立于哪一年" is
answered by "X成立于1990年"), so the answer is where the question's own words stand around
a span of the expected type. For each candidate paragraph two small learned scorers
(gradient-boosted trees, `bot.core.forest`, trained by `benchmarks/reading.py` on CMRC 2018
dev with grouped cross-validation by article) pick the answering sentence, then the span
inside it.

Interrogatives are a closed class of the language: a table of them is fine. No content word,
topic, name or lecture term is listed here. Pure: no Telegram, no I/O after start-up.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import ClassVar

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from bot.core.checks import number_in_text
from bot.core.forest import Forest, ForestFileError
from bot.core.lectures import Passage
from bot.core.text import Tokenizer, normalize

WEIGHTS_FILE = "reading.json"


class AnswerType(StrEnum):
    QUANTITY = "quantity"
    DATE = "date"
    PERSON = "person"
    ORGANIZATION = "organization"
    PLACE = "place"
    LIST = "list"
    REASON = "reason"
    METHOD = "method"
    YES_NO = "yes_no"
    DEFINITION = "definition"
    ENTITY = "entity"  # 什么/哪个 + a noun: a name of that kind
    TOPIC = "topic"  # no interrogative: a plain topic question


# The interrogatives, most particular first: the first table with a match decides the type.
_INTERROGATIVES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern)) for kind, pattern in (
        (AnswerType.DATE,
         r"哪一?年|哪一?天|何年|何时|几时|什么时候|啥时候|什么时间|啥时间|哪个月|几月|几号|几日|"
         r"几点|什么年代|哪个年代|哪个朝代|哪个时期|什么时期|哪一?年代"),
        (AnswerType.QUANTITY,
         r"多少|百分之几|几成|第几|多[大高长远重深宽久厚]|"
         r"(?<![前这那好十没])几(?=[个名人位次年月天岁倍项件条种部家所座批届只匹辆万亿千百十])"),
        (AnswerType.PERSON, r"谁|哪位|何人|什么人|啥人|哪个人|哪些人|哪一位"),
        (AnswerType.ORGANIZATION,
         r"(哪个|哪家|哪一个|什么|啥)(部门|单位|机构|组织|公司|机关|团体|政党|党派|企业|学校|大学|"
         r"委员会|媒体|银行|球队|乐队)"),
        (AnswerType.PLACE,
         r"哪里|哪儿|何处|何地|什么地方|啥地方|在哪|去哪|到哪|从哪|"
         r"(哪个|哪一个|哪座|什么)(地方|国家|城市|省份?|地区|位置|区域|州|县|城)|哪国|哪省"),
        (AnswerType.LIST, r"哪些|哪几|包括什么|包括哪|包含什么|有哪"),
        (AnswerType.REASON, r"为什么|为何|为啥|何故|什么原因|啥原因|原因是什么|怎么会"),
        (AnswerType.DEFINITION,
         r"什么是|啥是|何为|何谓|指什么|指的是什么|是什么意思|啥意思|什么意思|的含义|的定义|是指"),
        (AnswerType.METHOD, r"怎么|怎样|如何|咋|什么方式|什么方法|什么办法|啥办法"),
        (AnswerType.YES_NO,
         r"能不能|是否|是不是|可不可以|会不会|有没有|要不要|算不算|对不对|对吗|对吧|是吧|能否|"
         r"[吗嘛](?=[?？\s]*$)"),
        (AnswerType.ENTITY, r"什么|啥|哪个|哪种|哪一|哪部|哪首|哪款|何种"),
    ))
# Types whose answer is a span worth bolding; the others are answered by whole sentences.
SPAN_TYPES = frozenset({AnswerType.QUANTITY, AnswerType.DATE, AnswerType.PERSON,
                        AnswerType.ORGANIZATION, AnswerType.PLACE, AnswerType.ENTITY,
                        AnswerType.LIST})
# Measure words and the like between an interrogative and the noun it asks for (几个国家).
_MEASURE = re.compile(r"^[个种位些样类项名家所座部首款只条件次一]+")
_PUNCTUATION = re.compile(r"[\W_]+")
_KEPT = re.compile(r"[^\W_]")  # a character _bare keeps
_DROPPED = re.compile(r"[^1]")  # … after those are marked 1: the others
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DIGIT_CHAR = re.compile(r"\d")
_LATIN_CHAR = re.compile(r"[a-z]")

# Spans of each kind a sentence may hold, found in its (length-preserving) folded text.
_DIGIT = r"[\d〇零一二三四五六七八九十百千万亿两.,，]"
_SPAN_PATTERNS: dict[str, re.Pattern[str]] = {
    "quantity": re.compile(
        rf"(约|近|超过|逾|达)?{_DIGIT}*\d{_DIGIT}*\s*(%|‰|[万亿千百]*"
        r"[个名人位次年天岁倍项件条种部家所座批届只辆元米吨克亩字页号分秒]?)"
        r"|[一二三四五六七八九十两百千万亿]+[个名人位次倍项件条种部家所座批届只辆元米吨字页]"),
    "date": re.compile(r"(公元前?)?\d{1,4}\s*年(\d{1,2}\s*月)?(\d{1,2}\s*[日号])?"
                       r"|\d{1,2}\s*月\d{1,2}\s*[日号]|[一二三四五六七八九十〇零]{2,4}年"
                       r"|\d{1,2}世纪(\d+年代)?|[一二三四五六七八九十]+世纪"),
    "title": re.compile(r"《[^》]{1,30}》|“[^”]{1,20}”|「[^」]{1,20}」"),
    "body": re.compile(r"[\u4e00-\u9fff]{1,10}(部门|办公厅|委员会|部|局|厅|院|署|会|公司|集团|"
                       r"大学|学院|组织|联盟|银行|协会|中心|党|政府)"),
    "list": re.compile(r"[^,，。;；]{1,12}[、和及与][^,，。;；]{1,12}"),
}
# The span kinds that answer each type (the reader's "of the right type").
_TYPE_SPANS: dict[AnswerType, tuple[str, ...]] = {
    AnswerType.QUANTITY: ("quantity",),
    AnswerType.DATE: ("date",),
    AnswerType.PERSON: ("body",),
    AnswerType.ORGANIZATION: ("body",),
    AnswerType.PLACE: ("body",),
    AnswerType.ENTITY: ("title", "body"),
    AnswerType.LIST: ("list",),
}
# jieba's parts of speech a span of each type tends to be made of (dictionary tags).
_TYPE_TAGS: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"nr", "nrt", "nrfg"}),
    AnswerType.PLACE: frozenset({"ns", "s", "f"}),
    AnswerType.ORGANIZATION: frozenset({"nt", "nz"}),
    AnswerType.QUANTITY: frozenset({"m", "q", "mq"}),
    AnswerType.DATE: frozenset({"t", "m"}),
}
# A sentence opening with a pronoun speaks of the one before it (他…, 该…, 其…): a closed class.
_REFERENCES = frozenset("他她它其该此这那")
# Words that open an answer in a sentence (是X, 由X, 于X, 在X, 达X): a closed class.
_OPENERS = frozenset("是为于在由叫称有达约共及和与被让把向")
# Tag groups a span's first and last words are described by.
_TAG_GROUPS = ("n", "nr", "ns", "nt", "nz", "m", "t", "v", "a", "q", "eng", "other")
# Punctuation a span may hold inside (names, lists, numbers), never at an end unless paired.
_INNER_PUNCTUATION = frozenset("、·-—.&/《》“”「」()（）'’")
_CLAUSE_END = frozenset(",，。;；:：!！?？\n")
_OPENING = {"《": "》", "“": "”", "「": "」", "(": ")", "（": "）"}
# At most this many words and characters in a span: CMRC's answers are short (median 6
# characters); longer ones are whole clauses the sentence itself shows.
MAX_SPAN_WORDS = 7
MAX_SPAN_CHARS = 24
# Characters beside a span compared with the question's words beside its interrogative.
WINDOW = 4
# … and the question's words beside its interrogative matched in order, gaps allowed.
ALIGNED = 10
# The types whose answer is a number or a date: found by their form, they are looked for
# only where they stand (see _eligible_sentences; measured in benchmarks/reading.py).
FILTERED_TYPES = frozenset({AnswerType.QUANTITY, AnswerType.DATE})
# Sentence rows kept per reader: a question's few candidates, a few questions back.
ROWS_CACHE_SIZE = 16
# Passages read that the reader was not prepared with (training, a passage built apart).
PASSAGES_CACHE_SIZE = 4096
# Sentences whose spans a reader keeps: one is read per question answered with a fact.
SPANS_CACHE_SIZE = 1024
# How many of a paragraph's best sentences the span is looked for in: the one shown (held
# out on CMRC dev, three gave span EM/F1 36.3/56.9 and one 35.7/56.8, for a third of the
# reading; benchmarks/reading.py).
SPAN_SENTENCES = 1

TYPE_ORDER = tuple(AnswerType)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks: the answer type, where its interrogative stands, what about."""

    question: str  # folded (normalize)
    answer_type: AnswerType
    interrogative: str  # as folded, "" for a topic question
    before: str  # the question's words before the interrogative, punctuation dropped
    after: str   # … and after it
    head: str    # the noun the interrogative asks for: 国家 in 哪个国家, 奖 in 什么奖
    focus: tuple[str, ...]  # content words, most informative first (an alias group's word)
    weights: tuple[float, ...]  # their information (Tokenizer.word_weight), same order
    # Each focus word as the question wrote it and as its alias group names it (全国 and
    # 我国): a sentence holds the word if it holds either.
    forms: tuple[tuple[str, ...], ...]
    constraints: tuple[str, ...]  # numbers and years it states, which an answer must share
    # Its characters (letters, digits, CJK) with their information, and its two-character
    # runs: what a sentence shares with it, looked up for every sentence read.
    char_weights: tuple[tuple[str, float], ...]
    bigrams: tuple[str, ...]

    @property
    def head_forms(self) -> tuple[str, ...]:
        """The head as written and, when it is a focus word, in that word's other forms."""
        for word, forms in zip(self.focus, self.forms, strict=True):
            if word == self.head or self.head in forms:
                return forms
        return (self.head,) if self.head else ()

    @property
    def wants_span(self) -> bool:
        return self.answer_type in SPAN_TYPES

    def holds(self, text: str) -> list[bool]:
        """Which focus words the text holds, in any of their forms (same order as `focus`)."""
        return [any(form in text for form in forms) for forms in self.forms]


def analyze_question(question: str, tokenizer: Tokenizer,
                     aliases: Mapping[str, tuple[str, ...]] | None = None) -> QuestionAnalysis:
    """`aliases`: `aliases_of(tokenizer)`, when the caller keeps it (a Reader does)."""
    folded = normalize(question)
    kind, match = AnswerType.TOPIC, None
    for candidate, pattern in _INTERROGATIVES:
        match = pattern.search(folded)
        if match:
            kind = candidate
            break
    if aliases is None:
        aliases = aliases_of(tokenizer)
    words = tokenizer.analyze(folded).content_words
    ranked = sorted(dict.fromkeys(words), key=lambda w: -tokenizer.word_weight(w))
    written: dict[str, list[str]] = {word: [word, *aliases.get(word, ())] for word in ranked}
    for surface, _ in tokenizer.tagged_words(folded):
        for canonical in tokenizer.words(surface):
            if canonical in written and surface not in written[canonical]:
                written[canonical].append(surface)
    if match is None:
        before, after, wh, head = _bare(folded), "", "", ""
    else:
        wh = match.group()
        before, after = _bare(folded[:match.start()]), _bare(folded[match.end():])
        head = _head_of(after, tokenizer)
    chars = sorted({ch for ch in folded if ch.isalnum()})
    bigrams = tuple(sorted({folded[i:i + 2] for i in range(len(folded) - 1)
                            if folded[i:i + 2].isalnum()}))
    return QuestionAnalysis(folded, kind, wh, before, after, head, tuple(ranked),
                            tuple(tokenizer.word_weight(w) for w in ranked),
                            tuple(tuple(written[w]) for w in ranked),
                            tuple(_NUMBER.findall(folded)),
                            tuple((ch, tokenizer.word_weight(ch)) for ch in chars), bigrams)


def aliases_of(tokenizer: Tokenizer) -> dict[str, tuple[str, ...]]:
    """Each alias group's word → the other words of its group, folded (GCD → gcd). A Reader
    keeps its own (no module-level cache: it would keep a replaced tokenizer alive)."""
    groups: dict[str, list[str]] = {}
    for alias, canonical in tokenizer.lexicon.aliases.items():
        groups.setdefault(canonical, []).append(fold_chars(alias))
    return {canonical: tuple(aliases) for canonical, aliases in groups.items()}


def _bare(text: str) -> str:
    return _PUNCTUATION.sub("", text)


def _head_of(after: str, tokenizer: Tokenizer) -> str:
    rest = _MEASURE.sub("", after)
    words = tokenizer.words(rest[:8]) if rest else []
    return words[0] if words and not words[0].isascii() else ""


@dataclass(frozen=True)
class Reading:
    """Where a paragraph answers a question: its sentence and, for a fact, the span."""

    passage_id: str
    sentence_index: int
    sentence: str
    span: tuple[int, int] | None  # offsets within `sentence`
    answer_type: AnswerType
    sentence_probability: float
    span_probability: float
    # Whether the span is likely enough to be shown in bold (ReaderModel.bold_floors): a weak
    # span is read (for the benchmarks) but not put before the member as the answer.
    span_sure: bool = True

    @property
    def span_text(self) -> str:
        return self.sentence[self.span[0]:self.span[1]] if self.span else ""

    @property
    def shows_span(self) -> bool:
        return self.span is not None and self.answer_type in SPAN_TYPES and self.span_sure

    def as_dict(self) -> dict:
        return {"sentence": self.sentence, "span": self.span_text if self.shows_span else None,
                "type": str(self.answer_type), "passage_id": self.passage_id}


# --------------------------------------------------------------------- the sentences

SENTENCE_FEATURES: tuple[str, ...] = (
    "words", "words_of_best", "chars", "chars_of_best", "bigrams", "bigrams_of_best",
    "fuzz", "fuzz_of_best", "anchor_before", "anchor_after", "anchor_of_best",
    "head", "typed", "typed_count", "typed_anchored", "constraints", "focus_count",
    "rarest", "common_run", "words_previous", "words_next", "opens_with_reference",
    "chars_with_previous", "position", "is_first", "is_last", "sentences", "log_chars",
    "rank_words", "rank_chars", "words_only_here", "ordered_chars", "typed_near_focus",
    "typed_rare", "near_rare", "typed_near_rarest", "typed_near_head",
    *(f"type_{kind}" for kind in TYPE_ORDER),
)
_S = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
# Each feature scaled to about 0-1 by the largest value that still tells sentences apart.
MAX_ANCHOR = 8
MAX_COUNT = 5
LOG_SENTENCES_SCALE = math.log(50)
LOG_SENTENCE_CHARS_SCALE = math.log(500)
MAX_RANK = 10
# Characters between a word of the question and a span of the asked type within which they
# still "stand together" (a clause is about twenty).
NEAR_CHARS = 20


@dataclass(frozen=True, eq=False)
class PassageSentences:
    """A passage's sentences as the reader reads them, prepared once per passage (for the
    knowledge's passages at start-up, `Reader.prepare`), not once per question: folded,
    without punctuation, the spans of each kind they hold, and the columns of a sentence row
    no question changes."""

    texts: tuple[str, ...]   # as written
    folded: tuple[str, ...]  # fold_chars: same offsets
    joined: str              # the folded sentences joined by a NUL, to rule out a word at once
    bare: tuple[str, ...]    # each folded sentence without punctuation (_bare)
    kept: tuple[tuple[int, ...], ...]  # offset in a folded sentence → offset in its bare one
    # Per span kind (_SPAN_PATTERNS), per sentence: (start, end) of each match.
    typed: Mapping[str, tuple[tuple[tuple[int, int], ...], ...]]
    static: np.ndarray       # (sentences, len(_STATIC_SENTENCE)) read-only
    # Each sentence's words (their lengths: they are slices of it) and parts of speech.
    word_lengths: tuple[tuple[int, ...], ...]
    tags: tuple[tuple[str, ...], ...]
    # The passage's distinct characters (code points, sorted) and which sentences hold each:
    # a question's characters are looked up all at once.
    char_codes: np.ndarray   # (characters,)
    char_held: np.ndarray    # (characters, sentences) bool

    @classmethod
    def of(cls, passage: Passage, tokenizer: Tokenizer) -> PassageSentences:
        texts = passage.sentences
        folded = tuple(fold_chars(s) for s in texts)
        count = len(folded)
        static = np.zeros((count, len(_STATIC_SENTENCE)))
        for i, sentence in enumerate(folded):
            static[i] = (float(sentence.lstrip()[:1] in _REFERENCES), i / count,
                         float(i == 0), float(i == count - 1),
                         math.log1p(count) / LOG_SENTENCES_SCALE,
                         math.log1p(len(sentence)) / LOG_SENTENCE_CHARS_SCALE)
        static.setflags(write=False)
        bare = tuple(_bare(s) for s in folded)
        kept = tuple(_kept_offsets(s) for s in folded)
        typed = {kind: tuple(tuple(m.span() for m in pattern.finditer(sentence))
                             for sentence in folded)
                 for kind, pattern in _SPAN_PATTERNS.items()}
        tagged = [tokenizer.tagged_words(s) for s in texts]
        # Which sentences hold each character: (code point, sentence) pairs, made unique.
        points = [np.frombuffer(sentence.encode("utf-32-le"), dtype=np.uint32)
                  for sentence in folded]
        pairs = np.unique(np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [p.astype(np.int64) * max(count, 1) + i for i, p in enumerate(points)]))
        codes = np.unique(pairs // max(count, 1))
        held = np.zeros((len(codes), count), dtype=bool)
        held[np.searchsorted(codes, pairs // max(count, 1)), pairs % max(count, 1)] = True
        return cls(texts, folded, "\0".join(folded), bare, kept, typed, static,
                   tuple(tuple(len(word) for word, _ in words) for words in tagged),
                   tuple(tuple(tag for _, tag in words) for words in tagged), codes, held)

    def tagged(self, i: int) -> list[tuple[str, str]]:
        """Sentence i's words as written, with their parts of speech."""
        text, at, words = self.texts[i], 0, []
        for length, tag in zip(self.word_lengths[i], self.tags[i], strict=True):
            words.append((text[at:at + length], tag))
            at += length
        return words

    def holding(self, codes: np.ndarray) -> np.ndarray:
        """(sentences, len(codes)): whether each sentence holds each character."""
        at = np.minimum(np.searchsorted(self.char_codes, codes), len(self.char_codes) - 1)
        found = self.char_codes[at] == codes if len(self.char_codes) else \
            np.zeros(len(codes), dtype=bool)
        return (self.char_held[at] & found[:, None]).T if len(self.char_codes) else \
            np.zeros((len(self.folded), len(codes)), dtype=bool)


def _kept_offsets(text: str) -> tuple[int, ...]:
    """For each offset of the text (and its end), where it falls in the text without
    punctuation: _bare(text[:i]) == _bare(text)[:kept[i]]."""
    marks = _DROPPED.sub("0", _KEPT.sub("1", text)).encode("ascii")
    return (0, *np.cumsum(np.frombuffer(marks, dtype=np.uint8) - 48).tolist())


# The columns of a sentence row that depend on the passage alone.
_STATIC_SENTENCE = ("opens_with_reference", "position", "is_first", "is_last", "sentences",
                    "log_chars")


def fold_chars(text: str) -> str:
    """`normalize` character by character, so that offsets stay those of `text`: width,
    case and traditional characters folded; what would change the length stays as is."""
    return text.translate(_FOLDED)


class _FoldTable(dict):
    """Code point → its folded character, filled as characters are first met (a
    `str.translate` table: the folding runs in C once a character is known)."""

    def __missing__(self, point: int) -> str:
        char = chr(point)
        folded = unicodedata.normalize("NFKC", char).lower()
        if len(folded) != 1:
            folded = char
        else:
            simplified = normalize(folded)
            folded = simplified if len(simplified) == 1 else folded
        self[point] = folded
        return folded


# Shared by every reader: a character folds the same whatever the lexicon (it grows with the
# distinct characters met, a few thousand).
_FOLDED = _FoldTable()


def _anchor(text: str, anchor: str, reverse: bool) -> int:
    """How many characters of the anchor's end (or start) the text holds in a row: the
    question's words around its interrogative, as the answering sentence writes them."""
    if not anchor:
        return 0
    best, low, high = 0, 1, min(len(anchor), 12)
    while low <= high:  # longest end of the anchor found in the text (a prefix closed set)
        middle = (low + high) // 2
        piece = anchor[-middle:] if reverse else anchor[:middle]
        if piece in text:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def sentence_rows(analysis: QuestionAnalysis, sentences: PassageSentences) -> np.ndarray:
    """One row of SENTENCE_FEATURES per sentence of the passage."""
    return passages_rows(analysis, [sentences])[0]


def passages_rows(analysis: QuestionAnalysis, passages: Sequence[PassageSentences]
                  ) -> list[np.ndarray]:
    """`sentence_rows` of several passages, made together column by column over all their
    sentences (a question's candidates are read at once); what none of them holds (a word,
    a two-character run) is not looked for sentence by sentence."""
    sizes = [len(p.folded) for p in passages]
    count = sum(sizes)
    rows = np.zeros((count, len(SENTENCE_FEATURES)))
    if not count:
        return [rows[:0] for _ in passages]
    filled = [p for p in passages if p.folded]
    bounds = np.cumsum([0, *(len(p.folded) for p in filled)])
    starts = bounds[:-1]
    # Each sentence's passage, and whether it opens one.
    owner = np.repeat(np.arange(len(filled)), np.diff(bounds))
    opens = np.zeros(count, dtype=bool)
    opens[starts] = True
    folded = [sentence for p in filled for sentence in p.folded]
    joined = "\0".join(p.joined for p in filled)
    rows[:, _STATIC_SENTENCE_COLUMNS] = np.vstack([p.static for p in filled])
    question = analysis.question
    column = _column_setter(rows)
    # Which focus words each sentence holds, in any of their forms.
    weights = np.array(analysis.weights)
    held = np.zeros((count, len(analysis.forms)), dtype=bool)
    for j, forms in enumerate(analysis.forms):
        present = [form for form in forms if form in joined]
        if len(present) == 1:
            held[:, j] = [present[0] in sentence for sentence in folded]
        elif present:
            held[:, j] = [any(form in sentence for form in present) for sentence in folded]
    total = weights.sum() or 1.0
    if len(weights):
        # How many sentences of its own passage hold each word: one alone points to it.
        holders = np.add.reduceat(held.astype(np.intp), starts, axis=0)[owner]
        column("words", held @ weights / total)
        column("words_only_here", (held & (holders == 1)) @ weights / total)
        column("rarest", held[:, 0])
    column("focus_count", np.minimum(held.sum(axis=1), 8) / 8)
    # The question's characters each sentence holds, alone and with the sentence before.
    chars = [ch for ch, _ in analysis.char_weights]
    if chars:
        char_weights = np.array([w for _, w in analysis.char_weights])
        char_total = char_weights.sum() or 1.0
        codes = np.array([ord(ch) for ch in chars], dtype=np.int64)
        has = np.vstack([p.holding(codes) for p in filled])
        column("chars", has @ char_weights / char_total)
        with_previous = has.copy()
        with_previous[1:] |= has[:-1] & ~opens[1:, None]
        column("chars_with_previous", with_previous @ char_weights / char_total)
    bigrams = [g for g in analysis.bigrams if g in joined]
    if bigrams:
        column("bigrams", [sum(g in sentence for g in bigrams) / len(analysis.bigrams)
                           for sentence in folded])
    if len(question) >= 4:
        column("fuzz", process.cdist([question], folded, scorer=fuzz.partial_ratio,
                                     dtype=np.float64)[0] / 100.0)
    if question:
        column("ordered_chars", process.cdist([question], folded, scorer=LCSseq.similarity,
                                              dtype=np.int64)[0] / len(question))
        # A sentence sharing no character with the question shares no run of them.
        asked = np.array(sorted(map(ord, set(question))), dtype=np.int64)
        shares = np.vstack([p.holding(asked) for p in filled]).any(axis=1).tolist()
        column("common_run", [_common_run(question, sentence) / len(question) if share else 0.0
                              for sentence, share in zip(folded, shares, strict=True)])
    if analysis.before:
        column("anchor_before", [min(_anchor(s, analysis.before, True), MAX_ANCHOR)
                                 / MAX_ANCHOR for s in folded])
    if analysis.after:
        column("anchor_after", [min(_anchor(s, analysis.after, False), MAX_ANCHOR)
                                / MAX_ANCHOR for s in folded])
    if analysis.head and analysis.head in joined:
        column("head", [analysis.head in sentence for sentence in folded])
    if analysis.constraints:
        patterns = [number_in_text(n) for n in analysis.constraints]
        column("constraints", [sum(p.search(s) is not None for p in patterns) / len(patterns)
                               for s in folded])
    else:
        column("constraints", 1.0)
    _typed_columns(analysis, filled, rows)
    rows[:, _S[f"type_{analysis.answer_type}"]] = 1.0
    # How each sentence compares with its paragraph's best, and its neighbours.
    for name in ("words", "chars", "bigrams", "fuzz"):
        values = rows[:, _S[name]]
        best = np.maximum.reduceat(values, starts)[owner]
        rows[:, _S[f"{name}_of_best"]] = np.divide(values, best, out=np.zeros(count),
                                                   where=best > 0)
    # A fact of the asked type counts for more where few sentences hold one (a lecture
    # names few numbers; an encyclopedia article many).
    typed = rows[:, _S["typed"]]
    rarity = 1.0 - (np.add.reduceat(typed, starts) / np.diff(bounds))[owner]
    rows[:, _S["typed_rare"]] = typed * rarity
    rows[:, _S["near_rare"]] = rows[:, _S["typed_near_focus"]] * rarity
    anchors = rows[:, _S["anchor_before"]] + rows[:, _S["anchor_after"]]
    best = np.maximum.reduceat(anchors, starts)[owner]
    rows[:, _S["anchor_of_best"]] = np.divide(anchors, best, out=np.zeros(count),
                                              where=best > 0)
    words = rows[:, _S["words"]]
    rows[1:, _S["words_previous"]] = np.where(opens[1:], 0.0, words[:-1])
    rows[:-1, _S["words_next"]] = np.where(opens[1:], 0.0, words[1:])
    for start, end in zip(starts.tolist(), bounds[1:].tolist(), strict=True):
        rows[start:end, _S["rank_words"]] = _ranks(rows[start:end, _S["words"]]) / MAX_RANK
        rows[start:end, _S["rank_chars"]] = _ranks(rows[start:end, _S["chars"]]) / MAX_RANK
    pieces = iter(np.split(rows, bounds[1:-1]))
    return [next(pieces) if p.folded else rows[:0] for p in passages]


def _typed_columns(analysis: QuestionAnalysis, passages: Sequence[PassageSentences],
                   rows: np.ndarray) -> None:
    """The spans of the asked type each sentence holds (the question's own left out), and
    how they stand to the question's words."""
    kinds = _TYPE_SPANS.get(analysis.answer_type, ())
    if not kinds:
        return
    head_forms = analysis.head_forms
    at = 0
    for passage in passages:
        for i, sentence in enumerate(passage.folded):
            bare, kept = passage.bare[i], passage.kept[i]
            typed = [(s, e) for kind in kinds for s, e in passage.typed[kind][i]
                     if (text := bare[kept[s]:kept[e]]) and text not in analysis.question]
            row = rows[at]
            at += 1
            if not typed:
                continue
            row[_S["typed"]] = 1.0
            row[_S["typed_count"]] = min(len(typed), MAX_COUNT) / MAX_COUNT
            row[_S["typed_anchored"]] = max(_anchored(bare, kept, span, analysis)
                                            for span in typed)
            focus = _focus_positions(sentence, analysis)
            if focus:
                row[_S["typed_near_focus"]] = _nearness(typed, focus)
                row[_S["typed_near_rarest"]] = _nearness(
                    typed, _focus_positions(sentence, analysis, 1))
            if head_forms:
                row[_S["typed_near_head"]] = _nearness(typed, [
                    (start, start + len(form)) for form in head_forms
                    for start in _occurrences(sentence, form)])


_STATIC_SENTENCE_COLUMNS = [_S[name] for name in _STATIC_SENTENCE]


def _column_setter(rows: np.ndarray):
    def column(name: str, values) -> None:
        rows[:, _S[name]] = values
    return column


def _anchored(bare: str, kept: Sequence[int], span: tuple[int, int],
              analysis: QuestionAnalysis) -> float:
    """How much of the question's words around its interrogative stand around this span
    (`bare`, `kept`: the sentence without punctuation and where its offsets fall in it)."""
    before = _anchor_at(bare[:kept[span[0]]], analysis.before, reverse=True)
    after = _anchor_at(bare[kept[span[1]]:], analysis.after, reverse=False)
    return (min(before, MAX_ANCHOR) + min(after, MAX_ANCHOR)) / (2 * MAX_ANCHOR)


def _nearness(spans: Sequence[tuple[int, int]], focus: Sequence[tuple[int, int]]) -> float:
    """1 when a span of the asked type touches a word of the question, falling to 0 at
    NEAR_CHARS characters away: the focus and an answer of its type standing together."""
    gaps = [max(s - fe, fs - e, 0) for s, e in spans for fs, fe in focus]
    return max(0.0, 1 - min(gaps) / NEAR_CHARS) if gaps else 0.0


# Longest run of the question's characters a sentence is credited with (as _anchor's).
MAX_COMMON_RUN = 12


def _common_run(question: str, sentence: str) -> int:
    """The longest run of the question's characters the sentence holds as written (at most
    MAX_COMMON_RUN): from each start, only a run longer than the best so far is tried."""
    best, length = 0, len(question)
    for start in range(length):
        while best < MAX_COMMON_RUN and start + best < length \
                and question[start:start + best + 1] in sentence:
            best += 1
    return best


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value, 1 for the next … (ties share the better rank)."""
    listed = values.tolist()
    rank = {value: i for i, value in enumerate(sorted(set(listed), reverse=True))}
    return np.minimum([rank[value] for value in listed], MAX_RANK).astype(float)


# --------------------------------------------------------------------- the spans

SPAN_FEATURES: tuple[str, ...] = (
    "log_chars", "words", "question_share", "in_question",
    "typed", "typed_exact", "typed_inside", "quoted", "tag_of_type",
    "anchor_before", "anchor_after", "anchors",
    "distance_before", "distance_after", "distance", "head_end", "head_inside",
    "opener_before", "clause_end_after", "clause_start_before", "position",
    "sentence_probability", "sentence_rank", "has_number", "has_latin",
    "window_before", "window_after", "first_word_asked", "last_word_asked",
    "ordered_before", "ordered_after", "word_before_asked", "word_after_asked",
    "de_after", "de_before",
    *(f"first_{group}" for group in _TAG_GROUPS), *(f"last_{group}" for group in _TAG_GROUPS),
    *(f"type_{kind}" for kind in TYPE_ORDER),
)
_P = {name: i for i, name in enumerate(SPAN_FEATURES)}
# Characters from a span to the question's nearest word, as far as it tells spans apart.
MAX_DISTANCE = 60


@dataclass(frozen=True, eq=False)
class SentenceSpans:
    """A sentence's candidate spans (`span_candidates`) and what they are apart from any
    question, made once per sentence: its words, offsets and tags, each span's words and
    the question-free columns of its row."""

    sentence: str
    folded: str
    folded_words: tuple[str, ...]
    tags: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    starts: np.ndarray       # (spans,)
    ends: np.ndarray
    first: np.ndarray        # the word each span starts in
    last: np.ndarray         # … and ends in
    bare: str                # the sentence without punctuation
    kept: np.ndarray         # offset in `folded` → offset in `bare` (len(folded) + 1)
    matches: Mapping[str, tuple[np.ndarray, np.ndarray]]  # per span kind: starts, ends
    static: np.ndarray       # (spans, len(_STATIC_SPAN)) read-only

    @classmethod
    def of(cls, sentence: str, tokenizer: Tokenizer) -> SentenceSpans:
        folded = fold_chars(sentence)
        return cls._made(sentence, folded, tokenizer.tagged_words(sentence),
                         {kind: [m.span() for m in pattern.finditer(folded)]
                          for kind, pattern in _SPAN_PATTERNS.items()})

    @classmethod
    def of_passage(cls, sentences: PassageSentences, i: int) -> SentenceSpans:
        """Sentence `i` of a prepared passage: its words and typed spans are not found again."""
        return cls._made(sentences.texts[i], sentences.folded[i], sentences.tagged(i),
                         {kind: found[i] for kind, found in sentences.typed.items()})

    @classmethod
    def _made(cls, sentence: str, folded: str, tagged: Sequence[tuple[str, str]],
              found: Mapping[str, Sequence[tuple[int, int]]]) -> SentenceSpans:
        words = [word for word, _ in tagged]
        tags = tuple(tag for _, tag in tagged)
        word_starts = np.array([0, *itertools.accumulate(map(len, words))], dtype=np.intp)
        matches = {kind: (np.array([s for s, _ in spans], dtype=np.intp),
                          np.array([e for _, e in spans], dtype=np.intp))
                   for kind, spans in found.items()}
        spans = _candidates(sentence, folded, words, word_starts, found)
        starts = np.array([s for s, _ in spans], dtype=np.intp)
        ends = np.array([e for _, e in spans], dtype=np.intp)
        first = np.searchsorted(word_starts[:-1], starts, side="right") - 1
        last = np.searchsorted(word_starts[:-1], ends - 1, side="right") - 1
        kept = np.array(_kept_offsets(folded), dtype=np.intp)
        # Per character of the sentence (one past its end too): what a span's ends touch.
        chars = [*folded, ""]
        opener = np.array([ch in _OPENERS for ch in chars])
        clause_end = np.array([ch in _CLAUSE_END for ch in chars])
        de = np.array([ch == "的" for ch in chars])
        digits = _prefix_counts(folded, _DIGIT_CHAR)
        latin = _prefix_counts(folded, _LATIN_CHAR)
        title_starts, title_ends = matches["title"]
        has_start = starts > 0
        columns = {
            "log_chars": np.log1p(ends - starts) / math.log(MAX_SPAN_CHARS + 1),
            "words": (last - first + 1) / MAX_SPAN_WORDS,
            "quoted": ((title_starts[None, :] <= starts[:, None])
                       & (ends[:, None] <= title_ends[None, :])).any(axis=1),
            "opener_before": has_start & opener[starts - 1],
            "clause_end_after": (ends >= len(folded)) | clause_end[ends],
            "clause_start_before": ~has_start | clause_end[starts - 1],
            "position": starts / (len(folded) or 1),
            "has_number": digits[ends] > digits[starts],
            "has_latin": latin[ends] > latin[starts],
            "de_after": de[ends], "de_before": has_start & de[starts - 1],
        }
        static = np.zeros((len(spans), len(_STATIC_SPAN)))
        for name, values in columns.items():
            static[:, _STATIC_SPAN.index(name)] = values
        groups = np.array([_TAG_GROUPS.index(_tag_group(tag)) for tag in tags], dtype=np.intp)
        if len(spans):
            rows = np.arange(len(spans))
            static[rows, len(columns) + groups[first]] = 1.0
            static[rows, len(columns) + len(_TAG_GROUPS) + groups[last]] = 1.0
        static.setflags(write=False)
        return cls(sentence, folded, tuple(fold_chars(w) for w in words), tags, tuple(spans),
                   starts, ends, first, last, _bare(folded), kept, matches, static)

    def marks(self, kinds: Sequence[str], index: np.ndarray) -> tuple[np.ndarray, ...]:
        """Whether each span (of `index`) crosses, is, or holds a match of the kinds."""
        start, end = self.starts[index][:, None], self.ends[index][:, None]
        crosses = exact = holds = np.zeros(len(index), dtype=bool)
        for kind in kinds:
            s, e = (found[None, :] for found in self.matches[kind])
            crosses = crosses | (((s <= start) & (start < e)) | ((start <= s) & (s < end))).any(1)
            exact = exact | ((s == start) & (e == end)).any(1)
            holds = holds | ((start <= s) & (e <= end)).any(1)
        return crosses, exact, holds


def _prefix_counts(text: str, pattern: re.Pattern[str]) -> np.ndarray:
    """How many characters matching the one-character pattern stand before each offset of
    the text (and its end)."""
    counts = np.zeros(len(text) + 1, dtype=np.intp)
    counts[1:] = np.bincount([m.start() for m in pattern.finditer(text)],
                             minlength=len(text))
    return np.cumsum(counts)


# The columns of a span row that depend on the sentence alone, in this order.
_STATIC_SPAN = ("log_chars", "words", "quoted", "opener_before", "clause_end_after",
                "clause_start_before", "position", "has_number", "has_latin", "de_after",
                "de_before", *(f"first_{group}" for group in _TAG_GROUPS),
                *(f"last_{group}" for group in _TAG_GROUPS))
_STATIC_SPAN_COLUMNS = [_P[name] for name in _STATIC_SPAN]


def span_candidates(sentence: str, tokenizer: Tokenizer) -> list[tuple[int, int]]:
    """Runs of whole words within one clause, up to MAX_SPAN_WORDS words and
    MAX_SPAN_CHARS characters, that neither start nor end in unpaired punctuation; and the
    typed spans (numbers, dates, titles) where they cross words."""
    return list(SentenceSpans.of(sentence, tokenizer).spans)


def _candidates(sentence: str, folded: str, words: Sequence[str], starts: np.ndarray,
                typed: Mapping[str, Sequence[tuple[int, int]]]) -> list[tuple[int, int]]:
    """`span_candidates`, all word runs at once: run i..j is kept when no word of it ends a
    clause (or is space), it is short enough, its first word may open and its last close a
    span, and each kind of bracket in it is closed as often as opened."""
    count = len(words)
    spans = set()
    if count:
        first = np.arange(count)[:, None]
        last = first + np.arange(MAX_SPAN_WORDS)[None, :]
        inside = last < count
        last = np.minimum(last, count - 1)
        stops = np.array([0, *itertools.accumulate(
            1 if w.isspace() or any(ch in _CLAUSE_END for ch in w) else 0 for w in words)])
        begin, end = np.broadcast_to(starts[first], last.shape), starts[last + 1]
        ok = inside & (stops[last + 1] == stops[first]) & (end - begin <= MAX_SPAN_CHARS)
        ok &= np.array([_may_open(w) for w in words])[first]
        ok &= np.array([_may_close(w) for w in words])[last]
        for opening, closing in _OPENING.items():
            if opening in sentence or closing in sentence:
                opened = _prefix_counts(sentence, re.compile(re.escape(opening)))
                closed = _prefix_counts(sentence, re.compile(re.escape(closing)))
                ok &= opened[end] - opened[begin] == closed[end] - closed[begin]
        spans.update(zip(begin[ok].tolist(), end[ok].tolist(), strict=True))
    # The typed spans as the rows see them: in the folded text (full-width digits too).
    for found in typed.values():
        for start, end in found:
            while start < end and folded[start] in " ,，、":
                start += 1
            if end - start <= MAX_SPAN_CHARS and _bare(folded[start:end]):
                spans.add((start, end))
    return sorted(spans)


def _may_open(word: str) -> bool:
    return not word.isspace() and (word[0].isalnum() or word[0] in _OPENING)


def _may_close(word: str) -> bool:
    return word[-1].isalnum() or word[-1] in _OPENING.values() or word[-1] == "%"


def _balanced(text: str) -> bool:
    return all(text.count(o) == text.count(c) for o, c in _OPENING.items())


def span_rows(analysis: QuestionAnalysis, spans: SentenceSpans, sentence_probability: float,
              sentence_rank: int, chosen: np.ndarray | None = None) -> np.ndarray:
    """One row of SPAN_FEATURES per candidate span of the sentence (or per `chosen` one):
    the sentence's own columns copied, the question's computed over all spans at once, and
    the words beside a span once per place a span starts or ends."""
    index = np.arange(len(spans.spans)) if chosen is None else chosen
    count = len(index)
    rows = np.zeros((count, len(SPAN_FEATURES)))
    if not count:
        return rows
    rows[:, _STATIC_SPAN_COLUMNS] = spans.static[index]
    starts, ends = spans.starts[index], spans.ends[index]
    first, last = spans.first[index], spans.last[index]
    folded, kept = spans.folded, spans.kept
    question = analysis.question

    def column(name: str, values) -> None:
        rows[:, _P[name]] = values

    # The share of each span's characters that the question has.
    asked_chars = set(question)
    in_question = np.cumsum([0, *(1 if ch in asked_chars and _KEPT.match(ch) else 0
                                  for ch in folded)])
    asked_count, kept_count = in_question[ends] - in_question[starts], kept[ends] - kept[starts]
    column("question_share", asked_count / np.maximum(kept_count, 1))
    # A span's text can stand in the question only if all its characters do.
    for n in np.flatnonzero((asked_count == kept_count) & (kept_count > 0)).tolist():
        rows[n, _P["in_question"]] = _bare(folded[starts[n]:ends[n]]) in question
    kinds = _TYPE_SPANS.get(analysis.answer_type, ())
    if kinds:
        for name, marks in zip(("typed", "typed_exact", "typed_inside"),
                               spans.marks(kinds, index), strict=True):
            column(name, marks)
    type_tags = _TYPE_TAGS.get(analysis.answer_type)
    if type_tags:
        tagged = np.array([tag in type_tags for tag in spans.tags])
        column("tag_of_type", tagged[first] | tagged[last])
    # The question's words before and after its interrogative, around each span.
    reach = max(len(analysis.before), len(analysis.after), ALIGNED) + 2
    before_chars, after_chars = set(analysis.before), set(analysis.after)
    bare = spans.bare
    befores, afters = {}, {}
    for at in set(kept[starts].tolist()):
        beside = bare[max(0, at - reach):at]
        befores[at] = (min(_anchor_at(beside, analysis.before, True), MAX_ANCHOR),
                       _window_share(beside[-WINDOW:], before_chars),
                       _ordered_share(analysis.before[-ALIGNED:], beside[-ALIGNED - 2:]))
    for at in set(kept[ends].tolist()):
        beside = bare[at:at + reach]
        afters[at] = (min(_anchor_at(beside, analysis.after, False), MAX_ANCHOR),
                      _window_share(beside[:WINDOW], after_chars),
                      _ordered_share(analysis.after[:ALIGNED], beside[:ALIGNED + 2]))
    before = np.array([befores[at] for at in kept[starts].tolist()])
    after = np.array([afters[at] for at in kept[ends].tolist()])
    column("anchor_before", before[:, 0] / MAX_ANCHOR)
    column("anchor_after", after[:, 0] / MAX_ANCHOR)
    column("anchors", (before[:, 0] + after[:, 0]) / MAX_ANCHOR)
    column("window_before", before[:, 1])
    column("window_after", after[:, 1])
    column("ordered_before", before[:, 2])
    column("ordered_after", after[:, 2])
    # How far each span stands from the question's words.
    occurrences = _focus_positions(folded, analysis)
    if occurrences:
        focus_starts = np.array([s for s, _ in occurrences])[None, :]
        focus_ends = np.array([e for _, e in occurrences])[None, :]
        gap_left = starts[:, None] - focus_ends
        gap_right = focus_starts - ends[:, None]
        left = np.where(gap_left >= 0, gap_left, MAX_DISTANCE).min(axis=1)
        right = np.where(gap_right >= 0, gap_right, MAX_DISTANCE).min(axis=1)
        left = np.minimum(left, MAX_DISTANCE) / MAX_DISTANCE
        right = np.minimum(right, MAX_DISTANCE) / MAX_DISTANCE
    else:
        left = right = np.ones(count)
    column("distance_before", left)
    column("distance_after", right)
    column("distance", np.minimum(left, right))
    if analysis.head:
        head_char = analysis.head[-1]
        is_head = np.array([ch == head_char for ch in folded] + [False])
        column("head_end", is_head[ends - 1] | ((ends - 2 >= starts) & is_head[ends - 2]))
        found = _occurrences(folded, analysis.head)
        if found:
            head_starts = np.array(found)[None, :]
            column("head_inside", ((starts[:, None] <= head_starts)
                                   & (head_starts + len(analysis.head) <= ends[:, None])).any(1))
    column("sentence_probability", sentence_probability)
    column("sentence_rank", min(sentence_rank, MAX_COUNT) / MAX_COUNT)
    question_words = {form for forms in analysis.forms for form in forms}
    asked = np.array([word in question_words for word in spans.folded_words] + [False])
    column("first_word_asked", asked[first])
    column("last_word_asked", asked[last])
    column("word_before_asked", (first > 0) & asked[first - 1])
    column("word_after_asked", asked[last + 1])
    column(f"type_{analysis.answer_type}", 1.0)
    return rows


def _ordered_share(asked: str, beside: str) -> float:
    """How much of the question's words on one side of its interrogative stand, in order,
    on the same side of a span (gaps allowed: an anchor reworded)."""
    return LCSseq.similarity(asked, beside) / len(asked) if asked and beside else 0.0


def _window_share(window: str, chars: set[str]) -> float:
    """The share of a window's characters that the question has on the same side."""
    return sum(ch in chars for ch in window) / WINDOW if window else 0.0


def _occurrences(text: str, word: str) -> list[int]:
    """Where the word starts in the text, overlaps included."""
    found, start = [], text.find(word)
    while start >= 0:
        found.append(start)
        start = text.find(word, start + 1)
    return found


def _focus_positions(folded: str, analysis: QuestionAnalysis,
                     words: int | None = None) -> list[tuple[int, int]]:
    """Where the question's focus words (the first `words`, most informative first) stand."""
    found = []
    for word in {form for forms in analysis.forms[:words] for form in forms}:
        start = folded.find(word)
        while start >= 0:
            found.append((start, start + len(word)))
            start = folded.find(word, start + 1)
    return found


def _anchor_at(text: str, anchor: str, reverse: bool) -> int:
    """How many characters of the anchor's end (reverse) stand right at the end of the text,
    or of its start right at the start of the text, allowing one character's slip."""
    if not anchor or not text:
        return 0
    best = 0
    for slip in (0, 1):
        count = 0
        if reverse:
            t, a = text[:len(text) - slip] if slip else text, anchor
            while count < min(len(t), len(a)) and t[-1 - count] == a[-1 - count]:
                count += 1
        else:
            t, a = text[slip:], anchor
            while count < min(len(t), len(a)) and t[count] == a[count]:
                count += 1
        best = max(best, count - slip)
    return best


def _tag_group(tag: str) -> str:
    if not tag:
        return "other"
    if tag in _TAG_GROUPS:
        return tag
    if tag.startswith("nr"):
        return "nr"
    if tag.startswith("n"):
        return "n"
    if tag.startswith("v"):
        return "v"
    if tag.startswith("a"):
        return "a"
    return "other"


# --------------------------------------------------------------------- the reader


@dataclass(frozen=True)
class ReaderModel:
    sentences: Forest
    spans: Forest
    # Per answer type, the span probability from which a span is shown in bold: chosen by
    # benchmarks/reading.py from held-out readings (the lowest at which that type's bolded
    # spans are exactly a gold answer often enough, BOLD_PRECISION there) and written with
    # the trees. A type without one is bolded from any probability.
    bold_floors: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> ReaderModel:
        try:
            floors = {str(AnswerType(kind)): float(floor)
                      for kind, floor in data.get("bold_floors", {}).items()}
        except (AttributeError, TypeError, ValueError) as error:
            raise ForestFileError(f"malformed bold_floors: {error!r}") from error
        return cls(Forest.from_dict(data["sentences"], SENTENCE_FEATURES),
                   Forest.from_dict(data["spans"], SPAN_FEATURES), floors)

    def bold_floor(self, kind: AnswerType) -> float:
        return self.bold_floors.get(str(kind), 0.0)


@functools.cache
def shipped_reader_model() -> ReaderModel:
    text = resources.files("bot.core").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    return ReaderModel.from_dict(json.loads(text))


@dataclass(frozen=True)
class SentenceEvidence:
    """What the reader says of a candidate paragraph, for the answer decision: how surely
    one of its sentences answers, and whether it holds what kind of thing is asked next to
    what it is about."""

    probability: float  # the best sentence's
    type_missing: bool  # a fact of a type is asked; no sentence has one beside its words
    anchored: float     # how much of the question stands around a span of the type (0-1)
    focus: float        # the share of the question's information in the best sentence
    near_rarest: float  # how close a fact of the type stands to the question's rarest word
    # … and to the noun the interrogative asks about (多少[党员], 几个[国家]): what is counted
    # or named, as opposed to a word that only qualifies it (全国).
    near_head: float

    NONE: ClassVar[SentenceEvidence]


SentenceEvidence.NONE = SentenceEvidence(0.0, False, 0.0, 0.0, 0.0, 0.0)


class Reader:
    """Reads paragraphs for a question: the answering sentence and span in each.

    Owns what it prepares (its tokenizer's alias groups, each passage's sentences, each
    sentence's spans): a reader replaced after a lexicon reload takes them all with it."""

    def __init__(self, tokenizer: Tokenizer, model: ReaderModel | None = None,
                 passages: Sequence[Passage] = ()):
        self.tokenizer = tokenizer
        self.model = model or shipped_reader_model()
        self._aliases = aliases_of(tokenizer)
        self._analyses = functools.lru_cache(maxsize=ROWS_CACHE_SIZE)(self._analyze)
        self._prepared: dict[Passage, PassageSentences] = {}
        self._other_passages = functools.lru_cache(maxsize=PASSAGES_CACHE_SIZE)(
            functools.partial(PassageSentences.of, tokenizer=tokenizer))
        self._spans = functools.lru_cache(maxsize=SPANS_CACHE_SIZE)(SentenceSpans.of_passage)
        # The decision weighs a candidate's sentences, then the one shown is read: the same
        # rows and probabilities, computed once per question and passage.
        self._scored: OrderedDict[tuple[QuestionAnalysis, Passage],
                                  tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.prepare(passages)

    def prepare(self, passages: Sequence[Passage]) -> None:
        """Reads the passages' sentences now (start-up), not when a question first needs
        them."""
        for passage in passages:
            if passage not in self._prepared:
                self._prepared[passage] = PassageSentences.of(passage, self.tokenizer)

    def sentences_of(self, passage: Passage) -> PassageSentences:
        prepared = self._prepared.get(passage)
        return prepared if prepared is not None else self._other_passages(passage)

    def _analyze(self, question: str) -> QuestionAnalysis:
        return analyze_question(question, self.tokenizer, self._aliases)

    def analyze(self, question: str) -> QuestionAnalysis:
        """The question's analysis (the decision's evidence and the reading of the shown
        paragraph both ask for it: made once)."""
        return self._analyses(question)

    def _score(self, analysis: QuestionAnalysis, passages: Sequence[Passage]
               ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each passage's sentence rows and probabilities; the ones not yet scored for this
        question go through the trees together."""
        missing = [p for p in dict.fromkeys(passages) if (analysis, p) not in self._scored]
        if missing:
            rows = passages_rows(analysis, [self.sentences_of(p) for p in missing])
            probabilities = self.model.sentences.probabilities(np.vstack(rows)) \
                if sum(map(len, rows)) else np.zeros(0)
            at = 0
            for passage, passage_rows in zip(missing, rows, strict=True):
                scored = probabilities[at:at + len(passage_rows)]
                at += len(passage_rows)
                passage_rows.setflags(write=False)  # shared by the cache
                scored.setflags(write=False)
                self._scored[analysis, passage] = (passage_rows, scored)
        found = []
        for passage in passages:
            self._scored.move_to_end((analysis, passage))
            found.append(self._scored[analysis, passage])
        while len(self._scored) > ROWS_CACHE_SIZE:
            self._scored.popitem(last=False)
        return found

    def weigh_all(self, analysis: QuestionAnalysis, passages: Sequence[Passage]
                  ) -> list[SentenceEvidence]:
        """The reader's evidence on each candidate (its sentences only: no span is read)."""
        return [_evidence(analysis, rows, probabilities)
                for rows, probabilities in self._score(analysis, passages)]

    def weigh(self, analysis: QuestionAnalysis, passage: Passage) -> SentenceEvidence:
        return self.weigh_all(analysis, [passage])[0]

    def read(self, analysis: QuestionAnalysis, passage: Passage,
             with_span: bool = True) -> Reading | None:
        """Where the passage answers: its likeliest sentence (after answer-type filtering)
        and, among its best SPAN_SENTENCES sentences, the one whose span times sentence is
        likeliest (`with_span`)."""
        if not passage.sentences:
            return None
        [(rows, probabilities)] = self._score(analysis, [passage])
        order = reading_order(analysis, rows, probabilities)
        best, span, span_probability = order[0], None, 0.0
        if with_span:
            sentences = self.sentences_of(passage)
            found = [(p * float(probabilities[i]), i, where, p)
                     for rank, i in enumerate(order[:SPAN_SENTENCES])
                     for where, p in [self._best_span(analysis, sentences, i,
                                                      float(probabilities[i]), rank)]
                     if where is not None]
            if found:
                _, best, span, span_probability = max(found, key=lambda item: item[0])
        return Reading(passage.passage_id, best, passage.sentences[best], span,
                       analysis.answer_type, float(probabilities[best]), span_probability,
                       span_probability >= self.model.bold_floor(analysis.answer_type))

    def _best_span(self, analysis: QuestionAnalysis, sentences: PassageSentences, i: int,
                   probability: float, rank: int) -> tuple[tuple[int, int] | None, float]:
        spans = self._spans(sentences, i)
        chosen = candidates_read(analysis, spans)
        if not len(chosen):
            return None, 0.0
        scores = self.model.spans.probabilities(span_rows(analysis, spans, probability, rank,
                                                          chosen))
        i = int(scores.argmax())
        return spans.spans[chosen[i]], float(scores[i])


def _evidence(analysis: QuestionAnalysis, rows: np.ndarray,
              probabilities: np.ndarray) -> SentenceEvidence:
    if not len(rows):
        return SentenceEvidence.NONE
    best = int(probabilities.argmax())
    # Whether any sentence holds a fact of the asked type next to a word of the question:
    # the paragraph as a whole supplies it or cannot (女党员有多少 of a paragraph on dues).
    near = rows[:, _S["typed_near_focus"]].max()
    typed_asked = analysis.answer_type in _TYPE_SPANS
    return SentenceEvidence(float(probabilities[best]), typed_asked and near == 0,
                            float(rows[:, _S["typed_anchored"]].max()),
                            float(rows[best, _S["words"]]),
                            float(rows[:, _S["typed_near_rarest"]].max()),
                            float(rows[:, _S["typed_near_head"]].max()))


def reading_order(analysis: QuestionAnalysis, rows: np.ndarray,
                  probabilities: np.ndarray) -> list[int]:
    """The sentences a span is looked for in, likeliest first, after answer-type filtering
    as classic QA systems do it: a quantity or a date is looked for only in the sentences
    that hold one beside the question's words, when any does. (Training reads the same.)"""
    near = rows[:, _S["typed_near_focus"]] > 0
    eligible = near if analysis.answer_type in FILTERED_TYPES and near.any() \
        else np.ones(len(rows), dtype=bool)
    return sorted(np.flatnonzero(eligible).tolist(), key=lambda i: -probabilities[i])


def candidates_read(analysis: QuestionAnalysis, spans: SentenceSpans) -> np.ndarray:
    """The candidate spans scored (indices into `spans.spans`): for a number or a date, only
    those of its form when the sentence has any (the others could not win: answer-type
    filtering); otherwise all. (Training reads the same.)"""
    everything = np.arange(len(spans.spans))
    if analysis.answer_type in FILTERED_TYPES:
        typed, _, _ = spans.marks(_TYPE_SPANS[analysis.answer_type], everything)
        if typed.any():
            return np.flatnonzero(typed)
    return everything
