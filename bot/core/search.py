"""The search index: passages in, ranked hits with their matching sentences out.

Build once at start-up (`Index(passages, tokenizer)`), then `search(question)` as often as
needed; an Index is immutable, so a new one can be built beside it and swapped in.

Ranking happens in one place, `Index._rank`:
1. BM25 over each passage's words, character bigrams and pinyin bigrams (`bot.core.text`), with the
   term weights computed once at build time, so a query is a handful of numpy additions;
2. for the best candidates, the best-matching sentence's BM25 score (sentences are indexed too:
   a question is usually about one sentence, and a passage whose one sentence matches densely
   beats one that mentions the words far apart);
3. rapidfuzz's partial ratio, for near-verbatim quotes that tokenization blurs.
Confidence is `coverage`: the share of the question's content words (weighted by how
informative each word is in Chinese at large) that the passage contains.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from bot.core.english import MAX_PHRASE_WORDS, is_english_word
from bot.core.lectures import Passage
from bot.core.text import (
    BIGRAM_PREFIX,
    PINYIN_PREFIX,
    WORD_PREFIX,
    Tokenizer,
    char_bigrams,
    pinyin_bigrams,
    pinyin_of,
    run_terms,
)

# Okapi BM25's usual constants; k1 = 1.2 and b = 0.75 were also best of the grid
# {0.9, 1.2, 1.5} x {0.5, 0.75, 0.9} on the CMRC dev set (benchmarks/retrieval.py).
BM25_K1 = 1.2
BM25_B = 0.75

# How much each kind of term counts. Bigrams carry most of the signal for Chinese; words add
# precision; pinyin is a fallback for homophone typos and would add noise at full weight.
# Tuned on the gold set's tuning half and on CMRC dev (see docs/performance.md's benchmark table).
FIELD_WEIGHTS = {WORD_PREFIX: 1.0, BIGRAM_PREFIX: 1.0, PINYIN_PREFIX: 0.25}

# Candidates re-scored with sentence scores and fuzzy matching: enough to hold the right
# passage on CMRC dev in > 99% of questions at the first stage, small enough to stay fast.
RERANK_CANDIDATES = 24

# Candidates (after sentence re-scoring) that fuzzy quote matching may still lift.
FUZZ_CANDIDATES = 6

# Weight of the best sentence's score added to the passage score.
SENTENCE_WEIGHT = 0.25

# A partial-ratio above this floor means the question quotes the passage (near-)verbatim; the
# bonus grows from 0 at the floor to FUZZ_WEIGHT at 100.
FUZZ_FLOOR = 70.0
FUZZ_WEIGHT = 6.0

# Sentences whose score reaches this share of the best sentence's are highlighted too.
SENTENCE_HIGHLIGHT_SHARE = 0.6
MAX_HIGHLIGHTED_SENTENCES = 2

# Credit for a question word the passage holds only as a homophone (网落 for 网络: a pinyin
# keyboard's typo, or a different word that sounds the same: 实施/实时), and the most credit
# for a long word of which only some bigrams occur (意识形太; or 网络安全法 where the passage
# says 网络安全). Less than a verbatim match, because either may be a different word.
HOMOPHONE_DEGREE = 0.8
# A question word the lectures lack, matched through a thesaurus synonym (表扬 → 表彰): a
# synonym set also holds near-synonyms (保险 → 安全), so it is half credit and not a match,
# and its query term weighs less than the question's own words. At 0.7 (a match) it answered
# one more out-of-scope question of the 260 tuning ones and no more answerable ones; the
# colloquial words members really use belong in the alias list.
SYNONYM_DEGREE = 0.5
SYNONYM_TERM_WEIGHT = 0.5
PARTIAL_DEGREE = 0.6
# An English word of the question (online, cadre, fake news) matched through its likeliest
# CC-CEDICT translation that the lectures hold (bot.core.english), a query term of this
# weight with its bigrams and pinyin, as if the member had typed it.
# Swept on the gold files' 34 English questions and 290 refusals, the English aliases that
# CC-CEDICT covers removed: degree 0.8 or 1.0 answers 32 (as the hand list did), 0.6 one
# fewer; a term weight of 0.5, a second translation or more than the 8 likeliest senses
# change nothing, so one translation (the fewest query terms); no setting changed a
# refusal. 0.8, below a verbatim match: a dictionary sense may not be the one meant.
TRANSLATION_DEGREE = 0.8
TRANSLATION_TERM_WEIGHT = 1.0
MAX_TRANSLATIONS = 1
COMMON_TRANSLATIONS = 8
# An English word with more Chinese words than this in CC-CEDICT (the most ambiguous 0.5%:
# end has 31, support 38) is not translated: without context its sense is a guess.
MAX_SENSES = 20
# A one-character word found only inside a longer word: 管 in 管理 (the same sense) or 条 in
# 条例 (not); half credit, and not enough to count as matched.
CHARACTER_IN_WORD_DEGREE = 0.5
# A word found only across a word boundary of the passage; see Index._match_degree.
STRADDLING_DEGREE = 0.5
# A word counts as matched (reported; an answer needs one) from this degree on: a homophone
# does; a synonym or a character found only inside a longer word does not.
MATCHED_TERM_DEGREE = 0.6


@dataclass(frozen=True)
class Hit:
    """One ranked passage for a question."""

    passage: Passage
    score: float
    coverage: float
    matched_sentences: tuple[int, ...]
    matched_terms: tuple[str, ...]
    sentence_scores: tuple[float, ...] = ()
    # How surely the passage holds each of the query's words (`Query.words`, same order):
    # 1 verbatim, less for a homophone, a synonym or a part (see Index._match_degree).
    word_degrees: tuple[float, ...] = ()

    @property
    def sentences(self) -> tuple[str, ...]:
        all_sentences = self.passage.sentences
        return tuple(all_sentences[i] for i in self.matched_sentences)


@dataclass(frozen=True)
class Query:
    """What a question was searched with: its content words and what the lectures hold."""

    words: tuple[str, ...]
    weights: tuple[float, ...]  # each word's information in Chinese at large (IDF)
    # Whether any passage holds the word itself, a synonym or a translation of it: a word the
    # whole knowledge base lacks is a sign of a question about something else.
    known: tuple[bool, ...]
    # The highest score any passage could reach for these terms (every term, saturated):
    # scores divided by it compare across questions of any length.
    max_score: float

    @property
    def total_weight(self) -> float:
        return sum(self.weights)


class _Postings:
    """A BM25 inverted index in CSR form: term → (document ids, precomputed weights)."""

    def __init__(self, vocabulary: _Vocabulary, term_ids: np.ndarray, doc_ids: np.ndarray,
                 counts: np.ndarray, size: int):
        """Each term's count in each document that holds it, in CSR order (by term, then
        document). The vocabulary (term → id, and each term's field) is shared by two indexes."""
        self.size = size
        self.vocabulary = vocabulary
        field_of_term = np.array(vocabulary.fields, dtype=np.int8)
        field_of_posting = field_of_term[term_ids]
        lengths = {}  # each document's count of terms, by field
        for field, prefix in enumerate(FIELD_WEIGHTS):
            in_field = field_of_posting == field
            lengths[prefix] = np.bincount(doc_ids[in_field], weights=counts[in_field],
                                          minlength=size).astype(np.float32)
        self._build(term_ids, doc_ids.astype(np.int32), counts.astype(np.float32), lengths,
                    field_of_term)

    def _build(self, term_ids, doc_ids, counts, lengths, field_of_term) -> None:
        self.doc_ids = doc_ids
        df = np.bincount(term_ids, minlength=len(self.vocabulary))
        self.terms = len(df)
        self.indptr = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
        idf = np.log1p((self.size - df + 0.5) / (df + 0.5)).astype(np.float32)
        field_weights = np.array(list(FIELD_WEIGHTS.values()), dtype=np.float32)
        self.term_weight = (field_weights[field_of_term[:len(idf)]] * idf).tolist()
        weights = np.empty(len(counts), dtype=np.float32)
        for field, (prefix, field_weight) in enumerate(FIELD_WEIGHTS.items()):
            in_field = np.flatnonzero(field_of_term[term_ids] == field)
            if not len(in_field):
                continue
            field_lengths = lengths[prefix]
            average = max(float(field_lengths.mean()), 1.0)
            norm = 1 - BM25_B + BM25_B * field_lengths[self.doc_ids[in_field]] / average
            tf = counts[in_field]
            weights[in_field] = (field_weight * idf[term_ids[in_field]]
                                 * tf * (BM25_K1 + 1) / (tf + BM25_K1 * norm))
        self.weights = weights

    def score(self, term_ids: Sequence[tuple[int, float]]) -> np.ndarray:
        """BM25 scores of every document for weighted query terms; one bincount in all."""
        slices, factors = [], []
        for term_id, factor in term_ids:
            if term_id < self.terms:
                slices.append(slice(self.indptr[term_id], self.indptr[term_id + 1]))
                factors.append(factor)
        if not slices:
            return np.zeros(self.size, dtype=np.float64)
        doc_ids = np.concatenate([self.doc_ids[s] for s in slices])
        weights = np.concatenate([self.weights[s] * f if f != 1.0 else self.weights[s]
                                  for s, f in zip(slices, factors, strict=True)])
        return np.bincount(doc_ids, weights=weights, minlength=self.size)

    def max_score(self, term_ids: Sequence[tuple[int, float]]) -> float:
        """The score of a document holding every term often (BM25 saturates at k1 + 1)."""
        return float(sum(factor * self.term_weight[term_id] * (BM25_K1 + 1)
                         for term_id, factor in term_ids if term_id < self.terms))

    def has(self, term: str) -> bool:
        term_id = self.vocabulary.get(term)
        return term_id is not None and term_id < self.terms and \
            self.indptr[term_id + 1] > self.indptr[term_id]

    def contains(self, term: str, doc_id: int) -> bool:
        """Does the document hold the term? (Postings are sorted by document id.)"""
        term_id = self.vocabulary.get(term)
        if term_id is None or term_id >= self.terms:
            return False
        postings = self.doc_ids[self.indptr[term_id]:self.indptr[term_id + 1]]
        position = int(np.searchsorted(postings, doc_id))
        return position < len(postings) and int(postings[position]) == doc_id


class _Occurrences:
    """Every term occurrence of a corpus's texts (sentences, sub-headings), as term ids.

    A text's content words and runs are gathered as it comes; their terms are made and
    looked up once at the end, for all texts at once (`run_terms`)."""

    def __init__(self) -> None:
        self.vocabulary = _Vocabulary()
        self._words: list[str] = []
        self._runs: list[str] = []
        self._word_counts = array("i")  # per text
        self._run_counts = array("i")

    def add(self, content_words: Sequence[str], runs: Sequence[str]) -> None:
        """The next text's content words and runs (`Tokenizer.content_runs`)."""
        self._words += content_words
        self._runs += runs
        self._word_counts.append(len(content_words))
        self._run_counts.append(len(runs))

    def count(self) -> tuple[np.ndarray, np.ndarray]:
        """Each occurrence's term id and text, in no particular order."""
        texts = np.arange(len(self._word_counts))
        # The words first, in order of first occurrence: the ids' order matters to nothing.
        words = list(dict.fromkeys(self._words))
        word_ids = dict(zip(words, self.vocabulary.add_new([WORD_PREFIX + w for w in words]),
                            strict=True))
        terms, term_of_occurrence, run_of_occurrence = run_terms(self._runs)
        run_term_ids = np.array(self.vocabulary.add_new(terms), dtype=np.int64)
        text_of_run = np.repeat(texts, np.frombuffer(self._run_counts, dtype=np.int32))
        term_ids = np.concatenate((
            np.fromiter(map(word_ids.__getitem__, self._words), dtype=np.int64,
                        count=len(self._words)),
            run_term_ids[term_of_occurrence]))
        text_of_occurrence = np.concatenate((
            np.repeat(texts, np.frombuffer(self._word_counts, dtype=np.int32)),
            text_of_run[run_of_occurrence]))
        return term_ids, text_of_occurrence


class _Vocabulary(dict):
    """term → id, and each term's field; a corpus's distinct terms are added all at once."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[int] = []  # by term id: the term's field, an index of FIELD_WEIGHTS

    def add_new(self, terms: list[str]) -> range:
        """The next ids, for distinct terms the vocabulary lacks (one dict update, in C)."""
        first = len(self)
        self.update(zip(terms, range(first, first + len(terms)), strict=True))
        if len(self) != first + len(terms):
            raise ValueError("a term is repeated or already known")
        self.fields += [_FIELD_OF_PREFIX[term[:2]] for term in terms]
        return range(first, len(self))


_FIELD_OF_PREFIX = {prefix: field for field, prefix in enumerate(FIELD_WEIGHTS)}


class Index:
    """An immutable search index over passages of one or more lectures."""

    def __init__(self, passages: Sequence[Passage], tokenizer: Tokenizer):
        self.passages = tuple(passages)
        self.tokenizer = tokenizer
        occurrences = _Occurrences()
        passage_of_text: list[int] = []  # texts: each passage's sub-heading, then sentences
        is_sentence: list[bool] = []
        self._folded: list[str] = []
        self._word_bounds: list[tuple[int, ...]] = []
        # Where each text of a passage (its sub-heading, its sentences) ends in its folded
        # text (its words joined): what one sentence of it holds (`sentence_coverage`).
        self._text_ends: list[tuple[int, ...]] = []
        self._position = {passage.passage_id: i for i, passage in enumerate(self.passages)}
        for i, passage in enumerate(self.passages):
            # A sub-heading not in the text is indexed with the passage (not as a sentence:
            # sentences are what an answer highlights).
            texts = ([passage.heading_line] if passage.heading_line else []) + \
                list(passage.sentences)
            words: list[str] = []
            ends, length = [], 0
            for text in texts:
                text_words = tokenizer.words(text)
                occurrences.add(*tokenizer.content_runs(text_words))
                words += text_words
                length += sum(map(len, text_words))
                ends.append(length)
            passage_of_text += [i] * len(texts)
            is_sentence += [False] * (len(texts) - len(passage.sentences)) + \
                [True] * len(passage.sentences)
            self._folded.append("".join(words))
            self._word_bounds.append(_word_bounds(words))
            self._text_ends.append(tuple(ends))
        self._pinyin_cache: dict[int, str] = {}
        self._build_postings(occurrences, np.array(passage_of_text, dtype=np.int64),
                             np.array(is_sentence, dtype=bool))
        # After the postings (their terms enter the vocabulary as they are counted); a plain
        # dict: lookups add nothing.
        self._vocabulary = dict(occurrences.vocabulary)

    def _build_postings(self, occurrences: _Occurrences, passage_of_text: np.ndarray,
                        is_sentence: np.ndarray) -> None:
        term_ids, text_of_occurrence = occurrences.count()
        # One sort of (term, text) keys counts each term in each text, in CSR order. A passage
        # is a run of texts and a sentence one text, in the same order: the passages' counts
        # are sums over runs of that order, the sentences' a selection of it.
        texts = len(passage_of_text)
        keys, counts = np.unique(term_ids * texts + text_of_occurrence, return_counts=True)
        term_of_key, text_of_key = np.divmod(keys, max(texts, 1))
        passage_of_key = passage_of_text[text_of_key]
        first = np.flatnonzero(np.diff(term_of_key * len(self.passages) + passage_of_key,
                                       prepend=-1))  # of each (term, passage) run
        self._passage_index = _Postings(
            occurrences.vocabulary, term_of_key[first], passage_of_key[first],
            np.add.reduceat(counts, first) if len(first) else counts, len(self.passages))
        sentence_of_text = np.cumsum(is_sentence) - 1
        in_sentence = is_sentence[text_of_key]
        self._sentence_index = _Postings(
            occurrences.vocabulary, term_of_key[in_sentence],
            sentence_of_text[text_of_key[in_sentence]], counts[in_sentence],
            int(is_sentence.sum()))
        sentences_per_passage = np.bincount(passage_of_text[is_sentence],
                                            minlength=len(self.passages))
        self._sentence_start = np.concatenate(([0], np.cumsum(sentences_per_passage)))

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, question: str, top_k: int = 5) -> list[Hit]:
        """The best `top_k` passages for the question, best first (empty if nothing matches)."""
        return self.search_query(question, top_k)[1]

    def search_query(self, question: str, top_k: int = 5) -> tuple[Query, list[Hit]]:
        """`search`, and the query it ran: the evidence the answer decision weighs."""
        if not self.passages:
            return Query((), (), (), 0.0), []
        analysis = self.tokenizer.analyze(question)
        translations = self._english_translations(analysis.words)
        words = [self._question_word(w, translations.get(w, ()))
                 for w in dict.fromkeys(analysis.content_words)]
        if not analysis.terms:
            return self._query(words, []), []
        terms = dict.fromkeys(analysis.terms, 1.0)
        for word in words:
            for synonym in word.synonyms:
                terms.setdefault(WORD_PREFIX + synonym, SYNONYM_TERM_WEIGHT)
            for translation in word.translations:
                for term in _terms_of_word(translation):
                    terms.setdefault(term, TRANSLATION_TERM_WEIGHT)
        term_ids = [(self._vocabulary[t], f) for t, f in terms.items() if t in self._vocabulary]
        ranked, sentence_scores = self._rank(term_ids, "".join(analysis.words))
        hits = [self._hit(i, score, words, self._sentence_scores_of(i, sentence_scores))
                for i, score in ranked[:top_k]]
        return self._query(words, term_ids), hits

    def _query(self, words: Sequence[_QuestionWord],
               term_ids: Sequence[tuple[int, float]]) -> Query:
        # Not by sound: a homophone across a word boundary (明天 in 文明|天津) is no word the
        # lectures hold; a typo still counts in coverage (Index._match_degree).
        known = tuple(self._passage_index.has(WORD_PREFIX + w.text) or bool(w.synonyms)
                      or bool(w.translations) for w in words)
        return Query(words=tuple(w.text for w in words), weights=tuple(w.weight for w in words),
                     known=known,
                     max_score=self._passage_index.max_score(term_ids) * (1 + SENTENCE_WEIGHT))

    def sentence_coverage(self, hit: Hit, query: Query) -> float:
        """The largest share of the question's information one sentence of the hit holds:
        a question is usually about one sentence, and words spread over a passage's several
        sentences often answer nothing."""
        i = self._position.get(hit.passage.passage_id)
        if i is None or not query.words or query.total_weight <= 0:
            return 0.0
        folded, ends = self._folded[i], self._text_ends[i]
        found = [0.0] * len(ends)
        for word, weight in zip(query.words, query.weights, strict=True):
            holding = set()
            start = folded.find(word)
            while start >= 0:
                # the text the occurrence starts in; it must also end there
                text = bisect.bisect_right(ends, start)
                if text < len(ends) and start + len(word) <= ends[text]:
                    holding.add(text)
                start = folded.find(word, start + 1)
            for text in holding:
                found[text] += weight
        return max(found, default=0.0) / query.total_weight

    def _question_word(self, word: str, translations: tuple[str, ...]) -> _QuestionWord:
        """The word with what matching it needs; synonyms only if the lectures lack the word."""
        synonyms: tuple[str, ...] = ()
        if not self._passage_index.has(WORD_PREFIX + word) and not translations:
            synonyms = tuple(s for s in self.tokenizer.thesaurus.synonyms(word)
                             if self._passage_index.has(WORD_PREFIX + s))
        return _QuestionWord.of(word, self.tokenizer, synonyms, translations)

    def _english_translations(self, words: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """English word → the lectures' words for it; a phrase ("main points") first.

        Only for English words the lectures lack: an admin's alias or the lecture's own word
        comes first."""
        english = [is_english_word(w) and not self._passage_index.has(WORD_PREFIX + w)
                   for w in words]
        found: dict[str, tuple[str, ...]] = {}
        start = 0
        while start < len(words):
            for length in range(MAX_PHRASE_WORDS, 0, -1):
                phrase = words[start:start + length]
                if len(phrase) < length or not all(english[start:start + length]):
                    continue
                translations = self._translations_held(" ".join(phrase))
                if translations:
                    found.update(dict.fromkeys(phrase, translations))
                    start += length - 1
                    break
            start += 1
        return found

    def _translations_held(self, phrase: str) -> tuple[str, ...]:
        """Of the phrase's likeliest translations (the senses a member most likely means:
        终端 is one of 31 for "end"), those the lectures hold, as their words (aliases mapped)."""
        tokenizer = self.tokenizer
        likely = tokenizer.english.translations(phrase, tokenizer.frequency)
        if len(likely) > MAX_SENSES:
            return ()
        held: dict[str, None] = {}
        for translation in likely[:COMMON_TRANSLATIONS]:
            words = tokenizer.words(translation)
            if len(words) == 1 and self._holds_anywhere(words[0]):
                held[words[0]] = None
        return tuple(held)[:MAX_TRANSLATIONS]

    def _holds_anywhere(self, word: str) -> bool:
        """Is the word one of the lectures', or are all its bigrams (网下 inside 网上网下)?"""
        grams = char_bigrams(word)
        return self._passage_index.has(WORD_PREFIX + word) or bool(grams) and all(
            self._passage_index.has(BIGRAM_PREFIX + gram) for gram in grams)

    def _rank(self, term_ids: Sequence[tuple[int, float]], folded_question: str):
        """Ranks candidates: [(passage index, score)] best first, and all sentence scores."""
        passage_scores = self._passage_index.score(term_ids)
        sentence_scores = self._sentence_index.score(term_ids)
        best_sentence = np.maximum.reduceat(sentence_scores, self._sentence_start[:-1])
        scores = passage_scores + SENTENCE_WEIGHT * best_sentence
        ranked = [[int(i), float(scores[i])] for i in _top_indices(scores, RERANK_CANDIDATES)
                  if passage_scores[i] > 0]
        # Fuzzy matching is the costliest step: only the leaders can be overtaken by a quote.
        for item in ranked[:FUZZ_CANDIDATES]:
            item[1] += _quote_bonus(folded_question, self._folded[item[0]])
        ranked.sort(key=lambda item: (-item[1], item[0]))
        return ranked, sentence_scores

    def _sentence_scores_of(self, i: int, sentence_scores: np.ndarray) -> list[float]:
        return sentence_scores[self._sentence_start[i]:self._sentence_start[i + 1]].tolist()

    def _hit(self, i: int, score: float, words: Sequence[_QuestionWord], sentence_scores) -> Hit:
        degrees = [self._match_degree(i, w) for w in words]
        total = sum(w.weight for w in words)
        found = sum(w.weight * degree for w, degree in zip(words, degrees, strict=True))
        return Hit(passage=self.passages[i], score=round(score, 4),
                   coverage=round(found / total, 4) if total > 0 else 0.0,
                   matched_sentences=_highlighted(sentence_scores),
                   matched_terms=tuple(w.text for w, d in zip(words, degrees, strict=True)
                                       if d >= MATCHED_TERM_DEGREE),
                   sentence_scores=tuple(sentence_scores), word_degrees=tuple(degrees))

    def _match_degree(self, i: int, word: _QuestionWord) -> float:
        """How surely passage i contains the word: verbatim 1, a homophone, or partly (typo)."""
        holds = functools.partial(self._holds, i)
        if len(word.text) == 1 and word.text in self._folded[i]:
            # A character inside a longer word may be that word's sense (管 in 管理) or not
            # (条 in 条例): full credit only where it stands as a word of its own.
            if self._passage_index.contains(WORD_PREFIX + word.text, i):
                return 1.0
            return CHARACTER_IN_WORD_DEGREE
        if holds(word.text):
            return 1.0
        if any(holds(translation) for translation in word.translations):
            return TRANSLATION_DEGREE
        if any(holds(synonym) for synonym in word.synonyms):
            return SYNONYM_DEGREE
        if word.pinyin and self._holds_sound(i, word.pinyin):
            return HOMOPHONE_DEGREE
        if word.text in self._folded[i]:
            # Across a word boundary: chance (明天 in 文明|天津) or jieba cutting a term the
            # lexicon lacks (会商 in 联席会|商); half credit, like a character in a word.
            return STRADDLING_DEGREE
        if len(word.bigrams) >= 2:
            found = sum(gram in self._folded[i] for gram in word.bigrams)
            return PARTIAL_DEGREE * found / len(word.bigrams)
        return 0.0

    def _holds(self, i: int, text: str) -> bool:
        """Does passage i hold the text as a word, inside one word, or as a run of words?

        Not across a word boundary: 明天 is not in 文明|天津, nor 下雨 in 天下|雨水.
        """
        folded = self._folded[i]
        start = folded.find(text)
        while start >= 0:
            if _respects_bounds(self._word_bounds[i], start, start + len(text)):
                return True
            start = folded.find(text, start + 1)
        return False

    def _holds_sound(self, i: int, pinyin: str) -> bool:
        """`_holds` by sound: the syllables of a word, aligned with the passage's words."""
        sounds = self._pinyin(i)
        start = sounds.find(pinyin)
        while start >= 0:
            # One space before each syllable: the count of spaces gives character positions.
            first = sounds.count(" ", 0, start + 1) - 1
            length = pinyin.count(" ") - 1
            if _respects_bounds(self._word_bounds[i], first, first + length):
                return True
            start = sounds.find(pinyin, start + 1)
        return False

    def _pinyin(self, i: int) -> str:
        # Filled lazily: only passages that reach the top of some question need their pinyin.
        if i not in self._pinyin_cache:
            self._pinyin_cache[i] = _pinyin_text(self._folded[i])
        return self._pinyin_cache[i]


@dataclass(frozen=True)
class _QuestionWord:
    """A content word of the question, with what matching it needs, computed once per query."""

    text: str
    weight: float
    pinyin: str
    bigrams: tuple[str, ...]
    synonyms: tuple[str, ...]
    translations: tuple[str, ...] = ()  # of an English word

    @classmethod
    def of(cls, word: str, tokenizer: Tokenizer, synonyms: tuple[str, ...],
           translations: tuple[str, ...] = ()) -> _QuestionWord:
        cjk = len(word) >= 2 and not any(ch.isascii() for ch in word)
        # An English word carries the information of the Chinese word it stands for, not
        # that of a word jieba's dictionary has never seen.
        weight = tokenizer.word_weight(translations[0] if translations else word)
        return cls(word, weight, _pinyin_text(word) if cjk else "",
                   tuple(char_bigrams(word)) if cjk and len(word) >= 3 else (), synonyms,
                   translations)


def _terms_of_word(word: str) -> list[str]:
    """A word's terms as if a member had typed it alone: the word, its bigrams, its pinyin."""
    return ([WORD_PREFIX + word] + [BIGRAM_PREFIX + gram for gram in char_bigrams(word)]
            + [PINYIN_PREFIX + gram for gram in pinyin_bigrams(word)])


def _word_bounds(words: Sequence[str]) -> tuple[int, ...]:
    """Character offsets where the words of a folded text start and end, ascending."""
    return tuple(itertools.accumulate(map(len, words), initial=0))


def _respects_bounds(bounds: tuple[int, ...], start: int, end: int) -> bool:
    """Is [start, end) inside one word, or from a word's start to a word's end?"""
    inner = bisect.bisect_right(bounds, start)
    if inner >= len(bounds) or bounds[inner] >= end:
        return True
    last = bisect.bisect_left(bounds, end)
    return bounds[inner - 1] == start and last < len(bounds) and bounds[last] == end


def _top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def _quote_bonus(folded_question: str, folded_passage: str) -> float:
    if len(folded_question) < 4:
        return 0.0
    ratio = fuzz.partial_ratio(folded_question, folded_passage, score_cutoff=FUZZ_FLOOR)
    if ratio <= FUZZ_FLOOR:
        return 0.0
    return FUZZ_WEIGHT * (ratio - FUZZ_FLOOR) / (100.0 - FUZZ_FLOOR)


def _highlighted(sentence_scores: list[float]) -> tuple[int, ...]:
    best = max(sentence_scores, default=0.0)
    if best <= 0:
        return ()
    order = sorted(range(len(sentence_scores)), key=lambda i: -sentence_scores[i])
    chosen = [i for i in order[:MAX_HIGHLIGHTED_SENTENCES]
              if sentence_scores[i] >= SENTENCE_HIGHLIGHT_SHARE * best]
    return tuple(sorted(chosen))


def _pinyin_text(text: str) -> str:
    return " " + " ".join(pinyin_of(ch) for ch in text) + " "

