"""jieba's precise mode (HMM on): the same words for less work.

Cutting text into words is most of the work of building an index. jieba cuts a text block by
block (runs of Chinese characters, Latin letters and digits, between punctuation and spaces)
and each block on its own, so the same block always gives the same words: a block is cut
once and kept (a lecture reloaded after an upload costs almost no cutting). A block is cut
with jieba's own dictionary, formula and HMM (`jieba.finalseg`), in one pass instead of
jieba's two (`get_DAG`, then `calc` over a max of generated tuples): 1.4-1.7x less CPU on
the CMRC dev sentences (cold, on a shared 2-core machine), with identical output
(tests/test_scale.py compares them).
"""

from __future__ import annotations

import functools
import importlib
from math import log
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

# Distinct blocks kept: a 848-passage corpus (CMRC dev) has 37,000 distinct blocks, the
# shipped lecture 600; 2**16 holds a corpus of about 1,500 such passages whole, in about
# 30 MB, and a larger one only costs the cutting it saved.
BLOCK_CACHE_SIZE = 2**16
# Runs of characters jieba's dictionary has no word for, cut by its HMM: names and terms that
# recur across blocks (CMRC dev: 26,000 runs, 20,700 distinct).
HMM_CACHE_SIZE = 2**14


class Segmenter:
    """`cut(text)` gives what `tokenizer.lcut(text)` gives; the tokenizer must not change."""

    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        # jieba is imported by bot.core.text, which keeps its import fast (pkg_resources).
        jieba_module = importlib.import_module("jieba")
        self._han = jieba_module.re_han_default
        hmm_cut = importlib.import_module("jieba.finalseg").cut
        self._freq = tokenizer.FREQ
        self._log_total = log(tokenizer.total)
        self._other_block = tokenizer.lcut
        self._cut_block = functools.lru_cache(maxsize=BLOCK_CACHE_SIZE)(self._cut_han_block)
        self._hmm_cut = functools.lru_cache(maxsize=HMM_CACHE_SIZE)(
            lambda run: list(hmm_cut(run)))

    def cut(self, text: str) -> list[str]:
        words: list[str] = []
        han = self._han
        for block in han.split(text):
            if not block:
                continue
            if han.match(block):
                words.extend(self._cut_block(block))
            else:
                words.extend(self._other_block(block))  # spaces and punctuation: cheap
        return words

    def _cut_han_block(self, block: str) -> tuple[str, ...]:
        """jieba's `__cut_DAG`: the most probable path through the dictionary's words, and
        runs of single characters left over are given to the HMM unless they form a word."""
        ends = self._best_ends(block)
        words: list[str] = []
        pending = ""  # consecutive single characters
        start = 0
        while start < len(block):
            end = ends[start] + 1
            if end - start == 1:
                pending += block[start]
            else:
                if pending:
                    words.extend(self._single_characters(pending))
                    pending = ""
                words.append(block[start:end])
            start = end
        if pending:
            words.extend(self._single_characters(pending))
        return tuple(words)

    def _best_ends(self, block: str) -> list[int]:
        """For each start, where its word ends on the best path (jieba's `calc` route, with
        the same arithmetic and the same tie-break: the later end wins a tie)."""
        frequency, log_total = self._freq.get, self._log_total
        length = len(block)
        score = [0.0] * (length + 1)
        ends = [0] * length
        for start in range(length - 1, -1, -1):
            best_score, best_end = 0.0, -1
            end = start
            # The dictionary holds every prefix of its words, at count 0: a fragment that is
            # no prefix ends the search for words starting here.
            count = frequency(block[start])
            while count is not None:
                if count:
                    candidate = log(count) - log_total + score[end + 1]
                    if best_end < 0 or candidate >= best_score:
                        best_score, best_end = candidate, end
                end += 1
                if end == length:
                    break
                count = frequency(block[start:end + 1])
            if best_end < 0:  # no word starts here: the character alone
                best_score = log(frequency(block[start]) or 1) - log_total + score[start + 1]
                best_end = start
            score[start], ends[start] = best_score, best_end
        return ends

    def _single_characters(self, run: str) -> list[str]:
        if len(run) == 1:
            return [run]
        if not self._freq.get(run):
            return self._hmm_cut(run)
        return list(run)
