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
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

# Distinct blocks kept: a 848-passage corpus (CMRC dev) has 37,000 distinct blocks, the
# shipped lecture 600; 2**16 holds a corpus of about 1,500 such passages whole, in about
# 30 MB, and a larger one only costs the cutting it saved.
BLOCK_CACHE_SIZE = 2**16
# What stands between blocks: punctuation and spaces, a few hundred distinct runs.
OTHER_CACHE_SIZE = 2**12
# Runs of characters jieba's dictionary has no word for, cut by its HMM: names and terms that
# recur across blocks (CMRC dev: 26,000 runs, 20,700 distinct).
HMM_CACHE_SIZE = 2**14


class Segmenter:
    """`cut(text)` gives what `tokenizer.lcut(text)` gives; the tokenizer must not change."""

    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        # jieba is imported by bot.core.text, which keeps its import fast (pkg_resources).
        jieba_module = importlib.import_module("jieba")
        self._han, self._skip = jieba_module.re_han_default, jieba_module.re_skip_default
        hmm_cut = _Hmm(importlib.import_module("jieba.finalseg")).cut
        self._freq = tokenizer.FREQ
        self._log_total = log(tokenizer.total)
        self._cut_block = functools.lru_cache(maxsize=BLOCK_CACHE_SIZE)(self._cut_han_block)
        self._cut_other = functools.lru_cache(maxsize=OTHER_CACHE_SIZE)(self._cut_other_block)
        self._hmm_cut = functools.lru_cache(maxsize=HMM_CACHE_SIZE)(hmm_cut)

    def cut(self, text: str) -> list[str]:
        words: list[str] = []
        # With its one group, the pattern splits the text into jieba's blocks at odd
        # positions and what lies between them (spaces, punctuation) at even ones.
        parts = self._han.split(text)
        for i in range(1, len(parts), 2):
            if parts[i - 1]:
                words.extend(self._cut_other(parts[i - 1]))
            words.extend(self._cut_block(parts[i]))
        if parts[-1]:
            words.extend(self._cut_other(parts[-1]))
        return words

    def _cut_other_block(self, block: str) -> tuple[str, ...]:
        """jieba's cut between its blocks: spaces and line breaks whole, anything else
        character by character."""
        words: list[str] = []
        for piece in self._skip.split(block):
            if self._skip.match(piece):
                words.append(piece)
            else:
                words.extend(piece)
        return tuple(words)

    def _cut_han_block(self, block: str) -> tuple[str, ...]:
        """jieba's `__cut_DAG`: the most probable path through the dictionary's words, and
        runs of single characters left over are given to the HMM unless they form a word."""
        ends = self._best_ends(block)
        words: list[str] = []
        length = len(block)
        run = start = 0  # the current run of single characters starts at `run`
        while start < length:
            end = ends[start] + 1
            if end - start > 1:
                if run < start:
                    words += self._single_characters(block[run:start])
                words.append(block[start:end])
                run = end
            start = end
        if run < length:
            words += self._single_characters(block[run:])
        return tuple(words)

    def _best_ends(self, block: str) -> list[int]:
        """For each start, where its word ends on the best path (jieba's `calc` route, with
        the same arithmetic and the same tie-break: the later end wins a tie)."""
        frequency, log_total = self._freq.get, self._log_total
        length = len(block)
        score = [0.0] * (length + 1)
        ends = [0] * length
        for start in range(length - 1, -1, -1):
            # The dictionary holds every prefix of its words, at count 0: a fragment that is
            # no prefix ends the search for words starting here.
            count = frequency(block[start])
            if count is None:  # no word starts here: the character alone, at count 1
                score[start], ends[start] = -log_total + score[start + 1], start
                continue
            if count:
                best_score, best_end = log(count) - log_total + score[start + 1], start
            else:
                best_score, best_end = 0.0, -1
            end = start + 1
            while end < length:
                count = frequency(block[start:end + 1])
                if count is None:
                    break
                if count:
                    candidate = log(count) - log_total + score[end + 1]
                    if best_end < 0 or candidate >= best_score:
                        best_score, best_end = candidate, end
                end += 1
            if best_end < 0:  # only longer fragments, no word: the character alone
                best_score, best_end = -log_total + score[start + 1], start
            score[start], ends[start] = best_score, best_end
        return ends

    def _single_characters(self, run: str) -> list[str]:
        if len(run) == 1:
            return [run]
        if not self._freq.get(run):
            return self._hmm_cut(run)
        return list(run)


class _Hmm:
    """`jieba.finalseg.cut` with its Viterbi written out for its four states (B, M, E, S):
    the same sums in the same order and the same tie-breaks (the later state letter wins,
    as in jieba's max over (probability, state) tuples), with back-pointers instead of
    copied paths; a third of the time, the same words (tests/test_scale.py)."""

    def __init__(self, finalseg: ModuleType):
        self._finalseg = finalseg
        self._han, self._skip = finalseg.re_han, finalseg.re_skip
        self._start = finalseg.start_P
        trans, low, emit = finalseg.trans_P, finalseg.MIN_FLOAT, finalseg.emit_P
        # Each character's emission log probabilities for B, M, E, S in one look-up (a few
        # thousand characters; one jieba never saw emits MIN_FLOAT in every state).
        self._emissions = {char: tuple(emit[state].get(char, low) for state in "BMES")
                           for char in set().union(*(emit[state] for state in "BMES"))}
        self._unseen = (low,) * 4
        # the transitions jieba's PrevStatus allows
        self._trans = {(a, b): trans[a].get(b, low) for b, froms in finalseg.PrevStatus.items()
                       for a in froms}

    def cut(self, run: str) -> list[str]:
        words: list[str] = []
        for block in self._han.split(run):
            if self._han.match(block):
                for word in self._words(block):
                    if word in self._finalseg.Force_Split_Words:
                        words.extend(word)
                    else:
                        words.append(word)
            else:
                words.extend(x for x in self._skip.split(block) if x)
        return words

    def _words(self, block: str) -> list[str]:
        """jieba's `__cut`: words end at E and S states; an unfinished word is kept."""
        words, begin, following = [], 0, 0
        for i, state in enumerate(self._states(block)):
            if state == "B":
                begin = i
            elif state == "E":
                words.append(block[begin:i + 1])
                following = i + 1
            elif state == "S":
                words.append(block[i])
                following = i + 1
        if following < len(block):
            words.append(block[following:])
        return words

    def _states(self, block: str) -> list[str]:
        """The most probable state of each character (jieba's `viterbi`)."""
        emissions, unseen = self._emissions.get, self._unseen
        t = self._trans  # (from, to) → log probability
        e_b, s_b, m_m, b_m = t["E", "B"], t["S", "B"], t["M", "M"], t["B", "M"]
        b_e, m_e, s_s, e_s = t["B", "E"], t["M", "E"], t["S", "S"], t["E", "S"]
        start = self._start
        p_b, p_m, p_e, p_s = emissions(block[0], unseen)
        v_b, v_m, v_e, v_s = start["B"] + p_b, start["M"] + p_m, start["E"] + p_e, start["S"] + p_s
        back: list[tuple[str, str, str, str]] = []  # per character: the best previous state
        for char in block[1:]:
            p_b, p_m, p_e, p_s = emissions(char, unseen)
            from_e, from_s = v_e + e_b + p_b, v_s + s_b + p_b  # to B, from E or S
            new_b, prev_b = (from_s, "S") if from_s >= from_e else (from_e, "E")
            from_m, from_b = v_m + m_m + p_m, v_b + b_m + p_m  # to M, from M or B
            new_m, prev_m = (from_m, "M") if from_m >= from_b else (from_b, "B")
            from_b, from_m = v_b + b_e + p_e, v_m + m_e + p_e  # to E, from B or M
            new_e, prev_e = (from_m, "M") if from_m >= from_b else (from_b, "B")
            from_s, from_e = v_s + s_s + p_s, v_e + e_s + p_s  # to S, from S or E
            new_s, prev_s = (from_s, "S") if from_s >= from_e else (from_e, "E")
            back.append((prev_b, prev_m, prev_e, prev_s))
            v_b, v_m, v_e, v_s = new_b, new_m, new_e, new_s
        state = "S" if v_s >= v_e else "E"
        states = [state]
        for pointers in reversed(back):
            state = pointers["BMES".index(state)]
            states.append(state)
        states.reverse()
        return states
