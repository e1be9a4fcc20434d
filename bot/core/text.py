"""Chinese text → search terms: normalisation, the word lists admins edit, and the Tokenizer.

Normalisation folds what members type on phones into the lecture's form: full/half width,
traditional → simplified, case. The Tokenizer owns its own `jieba.Tokenizer` (never jieba's
global one) with the lecture's user dictionary, maps aliases (共产党/中共/GCD …) to one
canonical word, and turns text into three kinds of terms:

- words (jieba, stop words dropped): precise matches;
- character bigrams within runs of content words: match words jieba split differently,
  unsegmented text and partly mistyped words;
- pinyin bigrams of the same runs: match homophone typos from pinyin keyboards (网落 → 网络).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import logging
import math
import operator
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np

from bot.core.english import EnglishDictionary
from bot.core.segment import Segmenter
from bot.core.simplify import Simplifier
from bot.core.thesaurus import Thesaurus


def _import_without_pkg_resources(*names: str) -> list[ModuleType]:
    """jieba and zhconv import the deprecated pkg_resources (0.13 s of every start) only to
    open their own data files, and open them directly when that import fails: so it fails,
    for these two imports only (sys.modules is restored; where pkg_resources or jieba were
    imported before, as in the benchmarks' baselines, nothing changes)."""
    block = "pkg_resources" not in sys.modules
    if block:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        if block:
            del sys.modules["pkg_resources"]


jieba, zhconv = _import_without_pkg_resources("jieba", "zhconv")

LEXICON_FILES = ("aliases.txt", "userdict.txt", "stopwords.txt", "small_talk.txt")
WORD_PREFIX, BIGRAM_PREFIX, PINYIN_PREFIX = "w:", "c:", "p:"

# A user-dictionary word without a frequency gets this one: high enough that jieba keeps it
# whole against the general dictionary's splits, as jieba's own docs suggest for domain terms.
DEFAULT_USER_WORD_FREQ = 2000

# Dictionary frequencies assumed for what jieba's dictionary lacks: numbers are about as
# common as an everyday word; an unknown Latin word or single character as a rare one.
NUMBER_FREQ = 200
UNKNOWN_WORD_FREQ = 3
# jieba's dictionary lists many colloquial runs (这事, 啥时候, 瞎编) at its floor frequency of 3;
# below this count a compound's own frequency says nothing, so its characters' is used.
RELIABLE_FREQ = 10

# A question is split into words more than once while it is answered (the question links,
# the search, the answer checks); remembering the last few texts does it once. Small, so
# that indexing a lecture's sentences only churns it.
WORDS_CACHE_SIZE = 32

# Terminal escape sequences (colours pasted from a terminal, ESC[31m): whole, or their
# parameters would survive the control-character filter and read as text ("31m").
# CSI (ESC [ or its 8-bit form), OSC/DCS/APC/PM/SOS strings up to BEL or ST, and
# two-character escapes.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]P_^X]|[\x90\x9d\x9e\x9f\x98])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]")
# Distinct tokens whose word is kept: a corpus's vocabulary (CMRC dev: 30,000 distinct
# tokens) is stripped, checked, mapped to its alias group and told from stop words once, not
# at each occurrence;
# bounded, so odd input never grows the process for good.
TOKEN_CACHE_SIZE = 2**16

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_WHITESPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD_CHARS = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")

log = logging.getLogger(__name__)


def strip_control(text: str) -> str:
    """The text without terminal escape sequences and control characters, otherwise as
    typed (a reply may quote it back)."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


# A question is folded by several steps of its answer (search, checks, features); the last
# texts are remembered. Small: indexing folds each sentence once and would only churn it.
NORMALIZE_CACHE_SIZE = 64


@functools.lru_cache(maxsize=NORMALIZE_CACHE_SIZE)
def normalize(text: str) -> str:
    """Fold width, case, traditional characters, escape sequences, control characters and
    runs of spaces."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text).lower()
    text = _simplifier().simplify(text)
    text = spoken_numbers_as_digits(text)
    return _WHITESPACE.sub(" ", text).strip()


@functools.cache
def _simplifier() -> Simplifier:
    """zhconv's conversion to simplified characters, made on first use (10 ms)."""
    return Simplifier(zhconv.zhconv.getdict("zh-hans"))


# Numbers as voice input and official documents write them: a year digit by digit (二〇二三年,
# 二零二三年) and a decimal before a unit (十点九二亿, 百分之七十七点五). Only these forms: 一点一滴
# and 三点建议 stay words.
_DIGITS = "〇零一二三四五六七八九"
_SPOKEN_YEAR = re.compile(rf"(?<![{_DIGITS}十百千])[{_DIGITS}]{{4}}(?=年)")
_SPOKEN_DECIMAL = re.compile(
    rf"(?P<percent>百分之)?(?P<whole>[{_DIGITS}两十百千]+)点(?P<fraction>[{_DIGITS}]+)"
    rf"(?P<unit>[万亿]|(?(percent)|(?!)))")
_SPOKEN_PERCENT = re.compile(rf"百分之(?P<whole>[{_DIGITS}两十百]+)")


def spoken_numbers_as_digits(text: str) -> str:
    """二零二三年 → 2023年, 十点九二亿 → 10.92亿, 百分之七十七点五 → 77.5%."""
    # Each form holds a word of its own (a substring test skips most texts at C speed).
    if "年" in text:
        text = _SPOKEN_YEAR.sub(lambda m: _digit_by_digit(m.group()), text)
    if "点" in text:
        text = _SPOKEN_DECIMAL.sub(_decimal, text)
    if "百分之" in text:
        text = _SPOKEN_PERCENT.sub(_percent, text)
    return text


def _percent(match: re.Match[str]) -> str:
    whole = _spoken_integer(match.group("whole"))
    return match.group() if whole is None else f"{whole}%"


def _decimal(match: re.Match[str]) -> str:
    whole = _spoken_integer(match.group("whole"))
    if whole is None:
        return match.group()
    number = f"{whole}.{_digit_by_digit(match.group('fraction'))}"
    return number + ("%" if match.group("percent") else match.group("unit"))


def _digit_by_digit(text: str) -> str:
    return "".join(str(_DIGITS.index(ch) - 1 if ch != "〇" else 0) for ch in text)


def _spoken_integer(text: str) -> int | None:
    """七十七 → 77, 九千九百一十八 → 9918, 十 → 10; None if it is not a plain number."""
    units = {"十": 10, "百": 100, "千": 1000}
    total, digit, last_unit = 0, None, 10_000
    for ch in text:
        if ch in units:
            if units[ch] >= last_unit:
                return None  # 二十二十: the places must fall
            last_unit = units[ch]
            total += (1 if digit is None else digit) * units[ch]
            digit = None
        elif ch in "〇零":
            digit = None  # a gap in the places: 一百零五
        else:
            if digit is not None:
                return None  # 九九 is not a number written with units
            digit = 2 if ch == "两" else _DIGITS.index(ch) - 1
    return total + (digit or 0)


def is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def has_word_chars(text: str) -> bool:
    """True if the text holds anything a question can be made of (not only emoji/punctuation)."""
    return bool(_WORD_CHARS.search(text))


@dataclass(frozen=True)
class Lexicon:
    """The word lists: built-in defaults merged with the admins' `knowledge/lexicon/` files."""

    aliases: dict[str, str]
    user_words: dict[str, int]
    stop_words: frozenset[str]
    small_talk: tuple[re.Pattern[str], ...]

    @classmethod
    def load(cls, lexicon_dir: Path | None = None) -> Lexicon:
        texts = {name: _builtin_text(name) for name in LEXICON_FILES}
        if lexicon_dir is not None:
            for name in LEXICON_FILES:
                path = lexicon_dir / name
                if path.is_file():
                    texts[name] += "\n" + path.read_text(encoding="utf-8-sig")
        return cls(
            aliases=_parse_aliases(texts["aliases.txt"]),
            user_words=_parse_user_words(texts["userdict.txt"]),
            stop_words=frozenset(normalize(w) for w in _words(texts["stopwords.txt"])),
            small_talk=tuple(_parse_patterns(texts["small_talk.txt"])),
        )


def _builtin_text(name: str) -> str:
    return resources.files("bot.core").joinpath("data", name).read_text(encoding="utf-8")


def _lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def _words(text: str) -> Iterable[str]:
    for line in _lines(text):
        yield from line.split()


def _parse_aliases(text: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for line in _lines(text):
        group = [normalize(word) for word in re.split(r"[\s,，、/]+", line) if word]
        for word in group[1:]:
            aliases.setdefault(word, group[0])
    return aliases


def _parse_user_words(text: str) -> dict[str, int]:
    words = {}
    for line in _lines(text):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else DEFAULT_USER_WORD_FREQ
        words[normalize(parts[0])] = max(freq, DEFAULT_USER_WORD_FREQ)
    return words


def _parse_patterns(text: str) -> Iterable[re.Pattern[str]]:
    for line in _lines(text):
        try:
            yield re.compile(line, re.IGNORECASE)
        except re.error as error:
            log.warning("ignoring small-talk pattern %r: %s", line, error)


@dataclass(frozen=True)
class Analysis:
    """What the tokenizer makes of one text: its words and its search terms."""

    words: tuple[str, ...]
    content_words: tuple[str, ...]
    terms: tuple[str, ...]


class Tokenizer:
    """Owns a private jieba tokenizer loaded with the user dictionary; pure after start-up."""

    def __init__(self, lexicon: Lexicon, thesaurus: Thesaurus | None = None,
                 english: EnglishDictionary | None = None):
        self.lexicon = lexicon
        self._thesaurus = thesaurus
        self._tags: dict[str, str] | None = None
        self._english = english
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word, freq in lexicon.user_words.items():
            self._jieba.add_word(word, freq)
        # Every word of an alias group is a word; a canonical one jieba already knows keeps
        # its own frequency (网下 in 网上网下 is cut by an entry like 网上网 otherwise).
        for word in lexicon.aliases:
            if not word.isascii():
                self._jieba.add_word(word, DEFAULT_USER_WORD_FREQ)
        for word in set(lexicon.aliases.values()):
            if not word.isascii() and not self._jieba.FREQ.get(word):
                self._jieba.add_word(word, DEFAULT_USER_WORD_FREQ)
        self._total_freq = self._jieba.total
        # Canonical words are matched too, so that the alias 处分条例 is not replaced inside
        # its own canonical word 纪律处分条例 (which would give 纪律纪律处分条例).
        self._inner_words = {**{c: c for c in lexicon.aliases.values()}, **lexicon.aliases}
        inner = sorted((w for w in self._inner_words if len(w) >= 2 and not w.isascii()),
                       key=len, reverse=True)
        self._inner_alias = re.compile("|".join(map(re.escape, inner))) if inner else None
        # Per instance: a class-level cache would keep a replaced tokenizer (and its jieba) alive.
        self._cached_words = functools.lru_cache(maxsize=WORDS_CACHE_SIZE)(self._split_words)
        # A word with a character no stop word has cannot be made of stop words: most pairs
        # of neighbours are ruled out without the search (_splits_into).
        self._stop_chars = frozenset("".join(lexicon.stop_words))
        # After the last add_word: the segmenter keeps what it cut.
        self._segmenter = Segmenter(self._jieba)
        self._word_of_token = functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)(self._token_word)
        self._is_stop_word = functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)(self._is_stop_compound)

    @property
    def thesaurus(self) -> Thesaurus:
        """Loaded on first use (0.3 s): a one-off `ask` whose words the lectures hold never
        needs it. A long-running process calls `warm_up` at start-up instead."""
        if self._thesaurus is None:
            self._thesaurus = Thesaurus.load()
        return self._thesaurus

    @property
    def english(self) -> EnglishDictionary:
        """CC-CEDICT read backwards, loaded on first use (1.3 s) like the thesaurus."""
        if self._english is None:
            self._english = EnglishDictionary.load()
        return self._english

    def warm_up(self) -> None:
        """Loads what is otherwise loaded on first use, so no question waits for it (the
        parts of speech too: the reader tags every sentence it reads)."""
        _ = self.thesaurus, self.english, self._word_tags()

    def words(self, text: str) -> list[str]:
        """Normalised words with aliases mapped to their canonical form; no punctuation."""
        return list(self._cached_words(text))

    def _split_words(self, text: str) -> tuple[str, ...]:
        return tuple(filter(None, map(self._word_of_token, self._segmenter.cut(normalize(text)))))

    def _token_word(self, token: str) -> str | None:
        """The word a token of jieba's stands for; None for spaces and punctuation."""
        token = token.strip()
        return self._canonical(token) if token and has_word_chars(token) else None

    def _canonical(self, token: str) -> str:
        """The alias group's word; also inside a compound jieba kept whole (法制建设 → 法治建设)."""
        canonical = self.lexicon.aliases.get(token)
        if canonical is not None:
            return canonical
        if self._inner_alias is None or len(token) < 3:
            return token
        return self._inner_alias.sub(lambda m: self._inner_words[m.group(0)], token)

    def analyze(self, text: str) -> Analysis:
        words = self.words(text)
        content, runs = self.content_runs(words)
        terms = [WORD_PREFIX + w for w in content]
        for run in runs:
            terms.extend(_run_terms(run))
        return Analysis(tuple(words), tuple(content), tuple(terms))

    def content_runs(self, words: list[str]) -> tuple[list[str], list[str]]:
        """The words that are not stop words, and the runs they form (consecutive ones
        joined): `analyze`'s terms are the first's words and the second's `run_terms`."""
        stop = self._stop_positions(words)
        content = [w for w, is_stop in zip(words, stop, strict=True) if not is_stop]
        return content, list(_content_runs(words, stop))

    def _stop_positions(self, words: list[str]) -> list[bool]:
        """Which words are stop words: listed ones, words made of listed ones only (jieba
        keeps 有多大 and 是啥时候 whole), and neighbours that together make one (jieba cuts
        多大 into 多 / 大 after 有): they ask, they say nothing."""
        stop = list(map(self._is_stop_word, words))
        # Only neighbours made of stop words' characters can make one (_is_stop_compound).
        candidate = list(map(self._stop_chars.issuperset, words))
        pairs = map(operator.and_, candidate, candidate[1:])
        for i in itertools.compress(range(len(words) - 1), pairs):
            if not (stop[i] and stop[i + 1]) and self._is_stop_word(words[i] + words[i + 1]):
                stop[i] = stop[i + 1] = True
        return stop

    def _is_stop_compound(self, word: str) -> bool:
        """A listed stop word or one made of listed ones (memoised as `_is_stop_word`)."""
        if word in self.lexicon.stop_words:
            return True
        if len(word) < 2 or not self._stop_chars.issuperset(word):
            return False
        return _splits_into(word, self.lexicon.stop_words)

    def word_weight(self, word: str) -> float:
        """How informative a word is in Chinese at large (IDF from jieba's dictionary).

        Independent of the lecture corpus, so the confidence built on it means the same for a
        lecture of two paragraphs and for a thousand passages. A word jieba does not know is
        mostly a colloquial run its HMM glued together (咋办, 得会用): it weighs as much as its
        characters do on average, not as a rare term.
        """
        freq = self._jieba.FREQ.get(word) or 0
        compound = len(word) > 1 and all(is_cjk(ch) for ch in word)
        if freq >= RELIABLE_FREQ or (freq > 0 and not compound):
            return math.log(self._total_freq / freq)
        if word.replace(".", "").isdigit():
            return math.log(self._total_freq / NUMBER_FREQ)
        if compound:
            return sum(self.word_weight(ch) for ch in word) / len(word)
        return math.log(self._total_freq / UNKNOWN_WORD_FREQ)

    def tagged_words(self, text: str) -> list[tuple[str, str]]:
        """jieba's words of `text` as written (not normalised: they join back into `text`),
        each with its part of speech from jieba's dictionary ("nz" for a lexicon word, "" for
        one jieba's HMM glued together). For the reader's spans and the quiz's key terms. Cut as
        `words` cuts (the Segmenter: jieba's words, each block cut once and kept)."""
        tags = self._word_tags()
        return [(word, tags.get(word, "")) for word in self._segmenter.cut(text)]

    def _word_tags(self) -> dict[str, str]:
        """Read once, on first use, from this jieba's own dictionary (not jieba.posseg, whose
        import builds a second tagger over jieba's global tokenizer)."""
        if self._tags is None:
            tags = {}
            with self._jieba.get_dict_file() as lines:
                for line in lines:
                    parts = line.decode("utf-8").split()
                    if len(parts) == 3:
                        tags[parts[0]] = parts[2]
            # The admins' words and alias groups are the lectures' own terms: proper nouns.
            for word in (*self.lexicon.user_words, *self.lexicon.aliases):
                tags[word] = "nz"
            self._tags = tags
        return self._tags
    def frequency(self, word: str) -> int:
        """How often jieba's dictionary saw the word (0 if never)."""
        return self._jieba.FREQ.get(word) or 0

    def knows(self, word: str) -> bool:
        """Is the word in the dictionary, rather than a run jieba's HMM glued (干些, 哪开)?"""
        return bool(self._jieba.FREQ.get(word))

    def is_small_talk(self, text: str) -> bool:
        bare = "".join(ch for ch in normalize(text) if has_word_chars(ch) or ch in " 👍")
        bare = bare.strip()
        return any(p.search(bare) for p in self.lexicon.small_talk)


def _splits_into(word: str, pieces: frozenset[str], longest: int = 4) -> bool:
    """Can `word` be cut into pieces that are all in `pieces` (each at most `longest`)?"""
    reachable = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        reachable[end] = any(reachable[start] and word[start:end] in pieces
                             for start in range(max(0, end - longest), end))
    return reachable[-1]


def _content_runs(words: list[str], stop: list[bool]) -> Iterable[str]:
    """Joins consecutive content words: bigrams never straddle a dropped stop word."""
    run: list[str] = []
    for word, is_stop in zip(words, stop, strict=True):
        if is_stop:
            if run:
                yield "".join(run)
            run = []
        else:
            run.append(word)
    if run:
        yield "".join(run)


def _run_terms(run: str) -> list[str]:
    """A run of content words' terms: `char_bigrams`, then `pinyin_bigrams`, in one pass."""
    pieces = _CJK_RUN.findall(run)
    terms = []
    for piece in pieces:
        if len(piece) == 1:
            terms.append(BIGRAM_PREFIX + piece)
        else:
            terms += [BIGRAM_PREFIX + piece[i:i + 2] for i in range(len(piece) - 1)]
    syllables = list(map(pinyin_of, "".join(pieces)))
    terms += [f"{PINYIN_PREFIX}{a} {b}" for a, b in zip(syllables, syllables[1:], strict=False)]
    return terms


def run_terms(runs: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`_run_terms` of many runs at once, counted with numpy (indexing a corpus makes millions
    of them): the distinct terms, and for each occurrence its term (a position in that list)
    and its run. Each run gets the same terms as from `_run_terms`, in another order."""
    joined = "".join(runs)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    run_of_char = np.repeat(np.arange(len(runs)), [len(run) for run in runs])
    cjk = np.zeros(len(codes), dtype=bool)
    for low, high in _CJK_RANGES:
        cjk |= (codes >= low) & (codes <= high)
    # Consecutive characters of one run, both CJK: a bigram of a piece (_CJK_RUN).
    pair = cjk[:-1] & cjk[1:] & (run_of_char[:-1] == run_of_char[1:])
    paired = np.zeros(len(codes), dtype=bool)
    paired[:-1] |= pair
    paired[1:] |= pair
    starts = np.flatnonzero(pair)
    singles = np.flatnonzero(cjk & ~paired)  # a piece of one character is a term itself
    keys = [codes[starts] * _CODE_SPAN + codes[starts + 1], codes[singles] * _CODE_SPAN + _LONE]
    occurrence_runs = [run_of_char[starts], run_of_char[singles]]
    # Pinyin: consecutive CJK characters of a run, whatever stands between them.
    cjk_at = np.flatnonzero(cjk)
    syllables, syllable_of_char = _syllable_ids(codes[cjk_at])
    follows = np.flatnonzero(run_of_char[cjk_at[:-1]] == run_of_char[cjk_at[1:]])
    keys.append(_PINYIN_KEY + syllable_of_char[follows] * len(syllables)
                + syllable_of_char[follows + 1])
    occurrence_runs.append(run_of_char[cjk_at[follows]])
    distinct, term_of_occurrence = np.unique(np.concatenate(keys), return_inverse=True)
    pinyin_from = int(np.searchsorted(distinct, _PINYIN_KEY))  # the keys are sorted
    terms = _bigram_terms(distinct[:pinyin_from]) + \
        _pinyin_terms(distinct[pinyin_from:] - _PINYIN_KEY, syllables)
    return terms, term_of_occurrence.reshape(-1), np.concatenate(occurrence_runs)


_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))  # as _CJK_RUN
# Keys of run terms: a bigram is its two code points, a lone character its code point and
# _LONE (no code point), a pinyin bigram its two syllables' ids above _PINYIN_KEY.
_CODE_SPAN = 1 << 21
_LONE = _CODE_SPAN - 1
_PINYIN_KEY = _CODE_SPAN * _CODE_SPAN


def _syllable_ids(codes: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct syllables (`pinyin_of`) of these characters, and each one's syllable."""
    # A table by code point (CJK: below 2**16) instead of np.unique's sort of every character.
    present = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
    present[codes] = True
    distinct = np.flatnonzero(present)
    ids: dict[str, int] = {}
    syllable_of_code = np.zeros(len(present), dtype=np.int64)
    syllable_of_code[distinct] = [ids.setdefault(pinyin_of(chr(code)), len(ids))
                                  for code in distinct.tolist()]
    return list(ids), syllable_of_code[codes]


def _bigram_terms(keys: np.ndarray) -> list[str]:
    firsts, seconds = np.divmod(keys, _CODE_SPAN)
    return [BIGRAM_PREFIX + chr(first) + ("" if second == _LONE else chr(second))
            for first, second in zip(firsts.tolist(), seconds.tolist(), strict=True)]


def _pinyin_terms(keys: np.ndarray, syllables: list[str]) -> list[str]:
    firsts, seconds = np.divmod(keys, len(syllables) or 1)
    return [f"{PINYIN_PREFIX}{syllables[first]} {syllables[second]}"
            for first, second in zip(firsts.tolist(), seconds.tolist(), strict=True)]


def char_bigrams(text: str) -> list[str]:
    """Bigrams of consecutive CJK characters; a lone CJK character counts as itself."""
    grams = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def pinyin_bigrams(text: str) -> list[str]:
    syllables = [pinyin_of(ch) for ch in "".join(_CJK_RUN.findall(text))]
    return [f"{a} {b}" for a, b in zip(syllables, syllables[1:], strict=False)]


def _load_pinyin_table() -> dict[int, str]:
    """pypinyin's character table, without importing pypinyin itself.

    `import pypinyin` also loads its phrase dictionaries (0.5 s), which a per-character
    lookup does not need; the table alone is a plain dict literal in one module.
    """
    package = importlib.util.find_spec("pypinyin")
    assert package is not None and package.submodule_search_locations
    path = Path(next(iter(package.submodule_search_locations))) / "pinyin_dict.py"
    spec = importlib.util.spec_from_file_location("pypinyin.pinyin_dict", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pinyin_dict


_pinyin_table: dict[int, str] | None = None


@functools.cache
def pinyin_of(char: str) -> str:
    """The toneless first reading of a character: both sides of a match use the same one.

    Cached: indexing a corpus asks for the same few thousand characters again and again.
    """
    global _pinyin_table
    if _pinyin_table is None:
        _pinyin_table = _load_pinyin_table()
    readings = _pinyin_table.get(ord(char))
    if not readings:
        return char
    return readings.split(",", 1)[0].translate(_TONE_MARKS)
