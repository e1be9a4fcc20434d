"""The knowledge folder loaded for answering: lectures, word lists, question links, index,
answerer.

`KnowledgeBase.load(folder)` does all start-up work once (jieba, the user dictionary, the
index); the result is immutable, so a reload builds a new one beside it and swaps it in. A
change of question links alone (`with_links`) keeps the index and swaps in new links.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.answer import Answer, Answerer
from bot.core.decision import DecisionModel
from bot.core.lectures import Library, load_library
from bot.core.links import LinkBook, LinkIndex, load_links
from bot.core.reading import Reader, ReaderModel
from bot.core.search import Index
from bot.core.text import Lexicon, Tokenizer

LEXICON_DIR = "lexicon"
DEFAULT_KNOWLEDGE_DIR = Path("knowledge")


@dataclass(frozen=True)
class KnowledgeBase:
    folder: Path
    library: Library
    index: Index
    answerer: Answerer
    links: LinkBook

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer | None = None,
             warm_up: bool = True, model: DecisionModel | None = None,
             reader: ReaderModel | None = None) -> KnowledgeBase:
        """Loads every lecture in `folder`; pass a tokenizer to reuse a loaded jieba.

        `warm_up=False` leaves what a question may need to its first use: for a process that
        answers one question, not for the bot. `model`: other weights than the shipped ones
        (training, where the shipped ones may not fit the features any more); `reader`:
        other reading weights (training on part of CMRC, where the rest is asked).
        """
        tokenizer = tokenizer or Tokenizer(Lexicon.load(folder / LEXICON_DIR))
        if warm_up:
            tokenizer.warm_up()
        library = load_library(folder)
        index = Index(library.passages, tokenizer)
        links = load_links(folder, library, tokenizer)
        answerer = Answerer(library, index, links.index, model,
                            Reader(tokenizer, reader) if reader else None)
        return cls(folder, library, index, answerer, links)

    def reload(self, reload_lexicon: bool = False) -> KnowledgeBase:
        """A new KnowledgeBase from the same folder; jieba is reused unless the lexicon is."""
        return KnowledgeBase.load(self.folder, None if reload_lexicon else self.index.tokenizer)

    def with_links(self, links: LinkBook) -> KnowledgeBase:
        """The same lectures and index answering with other question links."""
        return replace(self, links=links,
                       answerer=Answerer(self.library, self.index, links.index,
                                         self.answerer.model, self.answerer.reader))

    def reload_links(self) -> KnowledgeBase:
        """The same lectures with the question files as they are on disk now."""
        return self.with_links(load_links(self.folder, self.library, self.index.tokenizer,
                                          self.links))

    def answer(self, question: str, top_k: int = 5, chat_links: LinkIndex | None = None
               ) -> Answer:
        """`chat_links`: one chat's own links, matched before the shared ones (see Answerer)."""
        return self.answerer.answer(question, top_k, chat_links)

    def with_model(self, model: DecisionModel) -> KnowledgeBase:
        """The same knowledge deciding with other weights (training, tests)."""
        return replace(self, answerer=Answerer(self.library, self.index, self.links.index,
                                               model, self.answerer.reader))
