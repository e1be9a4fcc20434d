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
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import ClassVar

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from bot.core.forest import Forest
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
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

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
# How many of a paragraph's best sentences the span is looked for in.
SPAN_SENTENCES = 3

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

    @property
    def wants_span(self) -> bool:
        return self.answer_type in SPAN_TYPES

    def holds(self, text: str) -> list[bool]:
        """Which focus words the text holds, in any of their forms (same order as `focus`)."""
        return [any(form in text for form in forms) for forms in self.forms]


def analyze_question(question: str, tokenizer: Tokenizer) -> QuestionAnalysis:
    folded = normalize(question)
    kind, match = AnswerType.TOPIC, None
    for candidate, pattern in _INTERROGATIVES:
        match = pattern.search(folded)
        if match:
            kind = candidate
            break
    words = tokenizer.analyze(folded).content_words
    ranked = sorted(dict.fromkeys(words), key=lambda w: -tokenizer.word_weight(w))
    written: dict[str, list[str]] = {word: [word, *_aliases_of(tokenizer).get(word, ())]
                                     for word in ranked}
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
    return QuestionAnalysis(folded, kind, wh, before, after, head, tuple(ranked),
                            tuple(tokenizer.word_weight(w) for w in ranked),
                            tuple(tuple(written[w]) for w in ranked),
                            tuple(_NUMBER.findall(folded)))


@functools.lru_cache(maxsize=4)
def _aliases_of(tokenizer: Tokenizer) -> dict[str, tuple[str, ...]]:
    """Each alias group's word → the other words of its group, folded (GCD → gcd)."""
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

    @property
    def span_text(self) -> str:
        return self.sentence[self.span[0]:self.span[1]] if self.span else ""

    @property
    def shows_span(self) -> bool:
        return self.span is not None and self.answer_type in SPAN_TYPES

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
    "typed_rare", "near_rare", "typed_near_rarest",
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


@functools.lru_cache(maxsize=4096)
def _folded_sentences(passage: Passage) -> tuple[str, ...]:
    return tuple(fold_chars(s) for s in passage.sentences)


def fold_chars(text: str) -> str:
    """`normalize` character by character, so that offsets stay those of `text`: width,
    case and traditional characters folded; what would change the length stays as is."""
    return "".join(map(_fold_char, text))


@functools.lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).lower()
    if len(folded) != 1:
        return char
    simplified = normalize(folded)
    return simplified if len(simplified) == 1 else folded


def _char_weights(analysis: QuestionAnalysis, tokenizer: Tokenizer) -> dict[str, float]:
    chars = {ch for ch in analysis.question if ch.isalnum()}
    return {ch: tokenizer.word_weight(ch) for ch in chars}


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


def sentence_rows(analysis: QuestionAnalysis, passage: Passage,
                  tokenizer: Tokenizer) -> np.ndarray:
    """One row of SENTENCE_FEATURES per sentence of the passage."""
    sentences = _folded_sentences(passage)
    count = len(sentences)
    rows = np.zeros((count, len(SENTENCE_FEATURES)))
    if not count:
        return rows
    total = sum(analysis.weights) or 1.0
    char_weights = _char_weights(analysis, tokenizer)
    char_total = sum(char_weights.values()) or 1.0
    bigrams = {analysis.question[i:i + 2] for i in range(len(analysis.question) - 1)
               if analysis.question[i:i + 2].isalnum()}
    # How many sentences hold each word: a word only one sentence holds points to it.
    held = [analysis.holds(sentence) for sentence in sentences]
    holders = [sum(column) for column in zip(*held, strict=True)] if held else []
    for i, sentence in enumerate(sentences):
        holds = held[i]
        chars = sum(w for ch, w in char_weights.items() if ch in sentence) / char_total
        typed = _typed_spans(sentence, analysis)
        context = sentences[i - 1] + sentence if i else sentence
        values = {
            "words": sum(w for w, h in zip(analysis.weights, holds, strict=True) if h) / total,
            "chars": chars,
            "bigrams": sum(g in sentence for g in bigrams) / (len(bigrams) or 1),
            "fuzz": fuzz.partial_ratio(analysis.question, sentence) / 100.0
            if len(analysis.question) >= 4 else 0.0,
            "anchor_before": min(_anchor(sentence, analysis.before, True), MAX_ANCHOR)
            / MAX_ANCHOR,
            "anchor_after": min(_anchor(sentence, analysis.after, False), MAX_ANCHOR)
            / MAX_ANCHOR,
            "head": float(bool(analysis.head) and analysis.head in sentence),
            "typed": float(len(typed) > 0),
            "typed_count": min(len(typed), MAX_COUNT) / MAX_COUNT,
            "typed_anchored": max((_anchored(sentence, span, analysis) for span in typed),
                                  default=0.0),
            "typed_near_focus": _nearness(typed, _focus_positions(sentence, analysis)),
            "typed_near_rarest": _nearness(typed, _focus_positions(sentence, analysis, 1)),
            "constraints": (sum(n in sentence for n in analysis.constraints)
                            / len(analysis.constraints)) if analysis.constraints else 1.0,
            "focus_count": min(sum(holds), 8) / 8,
            "rarest": float(bool(holds) and holds[0]),
            "common_run": _common_run(analysis.question, sentence)
            / (len(analysis.question) or 1),
            "opens_with_reference": float(sentence.lstrip()[:1] in _REFERENCES),
            "chars_with_previous": sum(w for ch, w in char_weights.items() if ch in context)
            / char_total,
            "position": i / count, "is_first": float(i == 0), "is_last": float(i == count - 1),
            "sentences": math.log1p(count) / LOG_SENTENCES_SCALE,
            "log_chars": math.log1p(len(sentence)) / LOG_SENTENCE_CHARS_SCALE,
            "words_only_here": sum(
                w for w, h, n in zip(analysis.weights, holds, holders, strict=True)
                if h and n == 1) / total,
            "ordered_chars": LCSseq.similarity(analysis.question, sentence)
            / (len(analysis.question) or 1),
            f"type_{analysis.answer_type}": 1.0,
        }
        for name, value in values.items():
            rows[i, _S[name]] = value
    # How each sentence compares with the paragraph's best, and its neighbours.
    for name in ("words", "chars", "bigrams", "fuzz"):
        best = rows[:, _S[name]].max()
        rows[:, _S[f"{name}_of_best"]] = rows[:, _S[name]] / best if best > 0 else 0.0
    # A fact of the asked type counts for more where few sentences hold one (a lecture
    # names few numbers; an encyclopedia article many).
    rarity = 1.0 - rows[:, _S["typed"]].mean()
    rows[:, _S["typed_rare"]] = rows[:, _S["typed"]] * rarity
    rows[:, _S["near_rare"]] = rows[:, _S["typed_near_focus"]] * rarity
    anchors = rows[:, _S["anchor_before"]] + rows[:, _S["anchor_after"]]
    rows[:, _S["anchor_of_best"]] = anchors / anchors.max() if anchors.max() > 0 else 0.0
    rows[1:, _S["words_previous"]] = rows[:-1, _S["words"]]
    rows[:-1, _S["words_next"]] = rows[1:, _S["words"]]
    rows[:, _S["rank_words"]] = _ranks(rows[:, _S["words"]]) / MAX_RANK
    rows[:, _S["rank_chars"]] = _ranks(rows[:, _S["chars"]]) / MAX_RANK
    return rows


def _anchored(sentence: str, span: tuple[int, int], analysis: QuestionAnalysis) -> float:
    """How much of the question's words around its interrogative stand around this span."""
    before = _anchor_at(_bare(sentence[:span[0]]), analysis.before, reverse=True)
    after = _anchor_at(_bare(sentence[span[1]:]), analysis.after, reverse=False)
    return (min(before, MAX_ANCHOR) + min(after, MAX_ANCHOR)) / (2 * MAX_ANCHOR)


def _nearness(spans: Sequence[tuple[int, int]], focus: Sequence[tuple[int, int]]) -> float:
    """1 when a span of the asked type touches a word of the question, falling to 0 at
    NEAR_CHARS characters away: the focus and an answer of its type standing together."""
    gaps = [max(s - fe, fs - e, 0) for s, e in spans for fs, fe in focus]
    return max(0.0, 1 - min(gaps) / NEAR_CHARS) if gaps else 0.0


def _common_run(question: str, sentence: str) -> int:
    """The longest run of the question's characters the sentence holds as written."""
    return max(_anchor(sentence, question[:i], reverse=True)
               for i in range(1, len(question) + 1)) if question else 0


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value, 1 for the next … (ties share the better rank)."""
    order = np.sort(np.unique(values))[::-1]
    return np.minimum(np.searchsorted(-order, -values), MAX_RANK).astype(float)


def _typed_spans(sentence: str, analysis: QuestionAnalysis) -> list[tuple[int, int]]:
    """The spans of the asked type the sentence holds that the question does not."""
    kinds = _TYPE_SPANS.get(analysis.answer_type, ())
    return [m.span() for kind in kinds for m in _SPAN_PATTERNS[kind].finditer(sentence)
            if _bare(m.group()) and _bare(m.group()) not in analysis.question]


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


@dataclass(frozen=True)
class _Words:
    """A sentence's words (jieba's, as written) with their offsets and tags."""

    texts: tuple[str, ...]
    folded: tuple[str, ...]
    starts: tuple[int, ...]
    tags: tuple[str, ...]


@functools.lru_cache(maxsize=8192)
def _sentence_words(sentence: str, tokenizer: Tokenizer) -> _Words:
    texts, starts, tags, at = [], [], [], 0
    for word, tag in tokenizer.tagged_words(sentence):
        texts.append(word)
        starts.append(at)
        tags.append(tag)
        at += len(word)
    return _Words(tuple(texts), tuple(fold_chars(w) for w in texts), tuple(starts), tuple(tags))


def span_candidates(sentence: str, tokenizer: Tokenizer) -> list[tuple[int, int]]:
    """Runs of whole words within one clause, up to MAX_SPAN_WORDS words and
    MAX_SPAN_CHARS characters, that neither start nor end in unpaired punctuation; and the
    typed spans (numbers, dates, titles) where they cross words."""
    words = _sentence_words(sentence, tokenizer)
    spans = set()
    count = len(words.texts)
    for i in range(count):
        if not _may_open(words.texts[i]):
            continue
        for j in range(i, min(count, i + MAX_SPAN_WORDS)):
            last = words.texts[j]
            if any(ch in _CLAUSE_END for ch in last) or last.isspace():
                break
            end = words.starts[j] + len(last)
            if end - words.starts[i] > MAX_SPAN_CHARS:
                break
            if _may_close(last) and _balanced(sentence[words.starts[i]:end]):
                spans.add((words.starts[i], end))
    for pattern in _SPAN_PATTERNS.values():
        for m in pattern.finditer(sentence):
            start, end = m.start(), m.end()
            while start < end and sentence[start] in " ,，、":
                start += 1
            if end - start <= MAX_SPAN_CHARS and _bare(sentence[start:end]):
                spans.add((start, end))
    return sorted(spans)


def _may_open(word: str) -> bool:
    return not word.isspace() and (word[0].isalnum() or word[0] in _OPENING)


def _may_close(word: str) -> bool:
    return word[-1].isalnum() or word[-1] in _OPENING.values() or word[-1] == "%"


def _balanced(text: str) -> bool:
    return all(text.count(o) == text.count(c) for o, c in _OPENING.items())


def span_rows(analysis: QuestionAnalysis, sentence: str, spans: Sequence[tuple[int, int]],
              tokenizer: Tokenizer, sentence_probability: float,
              sentence_rank: int) -> np.ndarray:
    """One row of SPAN_FEATURES per candidate span of the sentence."""
    folded = fold_chars(sentence)
    words = _sentence_words(sentence, tokenizer)
    question_chars = set(analysis.question)
    occurrences = _focus_positions(folded, analysis)
    typed = {kind: [(m.start(), m.end()) for m in pattern.finditer(folded)]
             for kind, pattern in _SPAN_PATTERNS.items()}
    wanted_kinds = _TYPE_SPANS.get(analysis.answer_type, ())
    type_tags = _TYPE_TAGS.get(analysis.answer_type, frozenset())
    rows = np.zeros((len(spans), len(SPAN_FEATURES)))
    head_char = analysis.head[-1:] if analysis.head else ""
    before_chars, after_chars = set(analysis.before), set(analysis.after)
    question_words = {form for forms in analysis.forms for form in forms}
    spans_of_type = [s for kind in wanted_kinds for s in typed[kind]]
    # The sentence without punctuation once, and where each offset falls in it: the text
    # beside a span is a slice, not the sentence cleaned again for every span.
    sentence_bare = _bare(folded)
    kept = [0, *itertools.accumulate(1 if _KEPT.match(ch) else 0 for ch in folded)]
    reach = max(len(analysis.before), len(analysis.after), ALIGNED) + 2
    for n, (start, end) in enumerate(spans):
        text = folded[start:end]
        bare = _bare(text)
        first, last = _word_at(words, start), _word_at(words, end - 1)
        bare_before = sentence_bare[max(0, kept[start] - reach):kept[start]]
        bare_after = sentence_bare[kept[end]:kept[end] + reach]
        before = min(_anchor_at(bare_before, analysis.before, True), MAX_ANCHOR)
        after = min(_anchor_at(bare_after, analysis.after, False), MAX_ANCHOR)
        left = min(min((start - e for s, e in occurrences if e <= start), default=MAX_DISTANCE),
                   MAX_DISTANCE) / MAX_DISTANCE
        right = min(min((s - end for s, e in occurrences if s >= end), default=MAX_DISTANCE),
                    MAX_DISTANCE) / MAX_DISTANCE
        values = {
            "log_chars": math.log1p(len(text)) / math.log(MAX_SPAN_CHARS + 1),
            "words": (last - first + 1) / MAX_SPAN_WORDS,
            "question_share": sum(ch in question_chars for ch in bare) / (len(bare) or 1),
            "in_question": float(bool(bare) and bare in analysis.question),
            "typed": float(any(s <= start < e or start <= s < end for s, e in spans_of_type)),
            "typed_exact": float((start, end) in spans_of_type),
            "typed_inside": float(any(start <= s and e <= end for s, e in spans_of_type)),
            "quoted": float(any(s <= start and end <= e for s, e in typed["title"])),
            "tag_of_type": float(bool(type_tags) and (words.tags[first] in type_tags
                                                       or words.tags[last] in type_tags)),
            "anchor_before": before / MAX_ANCHOR, "anchor_after": after / MAX_ANCHOR,
            "anchors": (before + after) / MAX_ANCHOR,
            "distance_before": left, "distance_after": right, "distance": min(left, right),
            "head_end": float(bool(head_char) and head_char in text[-2:]),
            "head_inside": float(bool(analysis.head) and analysis.head in text),
            "opener_before": float(start > 0 and folded[start - 1] in _OPENERS),
            "clause_end_after": float(end >= len(folded) or folded[end] in _CLAUSE_END),
            "clause_start_before": float(start == 0 or folded[start - 1] in _CLAUSE_END),
            "position": start / (len(folded) or 1),
            "sentence_probability": sentence_probability,
            "sentence_rank": min(sentence_rank, MAX_COUNT) / MAX_COUNT,
            "has_number": float(any(ch.isdigit() for ch in text)),
            "has_latin": float(any("a" <= ch <= "z" for ch in text)),
            "window_before": _window_share(bare_before[-WINDOW:], before_chars),
            "window_after": _window_share(bare_after[:WINDOW], after_chars),
            "ordered_before": _ordered_share(analysis.before[-ALIGNED:],
                                             bare_before[-ALIGNED - 2:]),
            "ordered_after": _ordered_share(analysis.after[:ALIGNED], bare_after[:ALIGNED + 2]),
            "word_before_asked": float(first > 0 and words.folded[first - 1] in question_words),
            "word_after_asked": float(last + 1 < len(words.folded)
                                      and words.folded[last + 1] in question_words),
            "de_after": float(folded[end:end + 1] == "的"),
            "de_before": float(start > 0 and folded[start - 1] == "的"),
            "first_word_asked": float(words.folded[first] in question_words),
            "last_word_asked": float(words.folded[last] in question_words),
            f"first_{_tag_group(words.tags[first])}": 1.0,
            f"last_{_tag_group(words.tags[last])}": 1.0,
            f"type_{analysis.answer_type}": 1.0,
        }
        for name, value in values.items():
            rows[n, _P[name]] = value
    return rows


def _ordered_share(asked: str, beside: str) -> float:
    """How much of the question's words on one side of its interrogative stand, in order,
    on the same side of a span (gaps allowed: an anchor reworded)."""
    return LCSseq.similarity(asked, beside) / len(asked) if asked and beside else 0.0


def _window_share(window: str, chars: set[str]) -> float:
    """The share of a window's characters that the question has on the same side."""
    return sum(ch in chars for ch in window) / WINDOW if window else 0.0


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


def _word_at(words: _Words, offset: int) -> int:
    """The index of the word holding the character at `offset`."""
    low, high = 0, len(words.starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if words.starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low


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

    @classmethod
    def from_dict(cls, data: dict) -> ReaderModel:
        return cls(Forest.from_dict(data["sentences"], SENTENCE_FEATURES),
                   Forest.from_dict(data["spans"], SPAN_FEATURES))


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

    NONE: ClassVar[SentenceEvidence]


SentenceEvidence.NONE = SentenceEvidence(0.0, False, 0.0, 0.0, 0.0)


class Reader:
    """Reads paragraphs for a question: the answering sentence and span in each."""

    def __init__(self, tokenizer: Tokenizer, model: ReaderModel | None = None):
        self.tokenizer = tokenizer
        self.model = model or shipped_reader_model()
        # The decision weighs a candidate's sentences, then the one shown is read: the same
        # rows, computed once per question and passage.
        self._rows = functools.lru_cache(maxsize=ROWS_CACHE_SIZE)(self._sentence_rows)
        self._analyses = functools.lru_cache(maxsize=ROWS_CACHE_SIZE)(
            functools.partial(analyze_question, tokenizer=tokenizer))

    def _sentence_rows(self, analysis: QuestionAnalysis, passage: Passage) -> np.ndarray:
        rows = sentence_rows(analysis, passage, self.tokenizer)
        rows.setflags(write=False)  # shared by the cache
        return rows

    def analyze(self, question: str) -> QuestionAnalysis:
        """The question's analysis (the decision's evidence and the reading of the shown
        paragraph both ask for it: made once)."""
        return self._analyses(question)

    def weigh(self, analysis: QuestionAnalysis, passage: Passage) -> SentenceEvidence:
        """The reader's evidence on one candidate (its sentences only: no span is read)."""
        rows = self._rows(analysis, passage)
        if not len(rows):
            return SentenceEvidence.NONE
        probabilities = self.model.sentences.probabilities(rows)
        best = int(probabilities.argmax())
        # Whether any sentence holds a fact of the asked type next to a word of the question:
        # the paragraph as a whole supplies it or cannot (女党员有多少 of a paragraph on dues).
        near = rows[:, _S["typed_near_focus"]].max()
        typed_asked = analysis.answer_type in _TYPE_SPANS
        return SentenceEvidence(float(probabilities[best]), typed_asked and near == 0,
                                float(rows[:, _S["typed_anchored"]].max()),
                                float(rows[best, _S["words"]]),
                                float(rows[:, _S["typed_near_rarest"]].max()))

    def read(self, analysis: QuestionAnalysis, passage: Passage,
             with_span: bool = True) -> Reading | None:
        """Where the passage answers: its likeliest sentence and, among its best
        SPAN_SENTENCES sentences, the one whose span times sentence is likeliest
        (`with_span`)."""
        if not passage.sentences:
            return None
        rows = self._rows(analysis, passage)
        probabilities = self.model.sentences.probabilities(rows)
        eligible = _eligible_sentences(analysis, rows)
        order = sorted(np.flatnonzero(eligible).tolist(), key=lambda i: -probabilities[i])
        best, span, span_probability = order[0], None, 0.0
        if with_span:
            found = [(p * float(probabilities[i]), i, where, p)
                     for rank, i in enumerate(order[:SPAN_SENTENCES])
                     for where, p in [self._best_span(analysis, passage.sentences[i],
                                                      float(probabilities[i]), rank)]
                     if where is not None]
            if found:
                _, best, span, span_probability = max(found, key=lambda item: item[0])
        return Reading(passage.passage_id, best, passage.sentences[best], span,
                       analysis.answer_type, float(probabilities[best]), span_probability)

    def _best_span(self, analysis: QuestionAnalysis, sentence: str, probability: float,
                   rank: int) -> tuple[tuple[int, int] | None, float]:
        spans = span_candidates(sentence, self.tokenizer)
        if not spans:
            return None, 0.0
        rows = span_rows(analysis, sentence, spans, self.tokenizer, probability, rank)
        scores = self.model.spans.probabilities(rows)
        if analysis.answer_type in FILTERED_TYPES and rows[:, _P["typed"]].any():
            scores = scores * (rows[:, _P["typed"]] > 0)
        i = int(scores.argmax())
        return spans[i], float(scores[i])


def _eligible_sentences(analysis: QuestionAnalysis, rows: np.ndarray) -> np.ndarray:
    """Answer-type filtering, as classic QA systems do: a quantity or a date is looked for
    only in the sentences that hold one beside the question's words, when any does."""
    near = rows[:, _S["typed_near_focus"]] > 0
    if analysis.answer_type in FILTERED_TYPES and near.any():
        return near
    return np.ones(len(rows), dtype=bool)
