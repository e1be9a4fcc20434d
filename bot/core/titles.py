"""Which lecture a question names: every lecture's title and id in one automaton, built once.

A question names a lecture when its normalised text contains the lecture's normalised title
or its id (the file name without suffix). Checking each lecture in turn made every question
cost more with every lecture (about 11 ms a question with 848 lectures); an Aho-Corasick
automaton (pyahocorasick) finds every title in one pass over the question, whatever their
number. The first lecture in library order wins, as it did when they were checked in turn.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from bot.core.lectures import Lecture
from bot.core.text import normalize


class TitleIndex:
    """Finds the first lecture (in the given order) whose title or id a text contains."""

    def __init__(self, lectures: Sequence[Lecture]):
        self._lectures = tuple(lectures)
        self._automaton = ahocorasick.Automaton()
        # An empty title (a title line of invisible characters) is contained in every text.
        self._empty_title_order: int | None = None
        for order, lecture in enumerate(self._lectures):
            for pattern in (normalize(lecture.title), lecture.lecture_id):
                if not pattern:
                    if self._empty_title_order is None:
                        self._empty_title_order = order
                    continue
                first = self._automaton.get(pattern, order)
                self._automaton.add_word(pattern, min(first, order))
        if len(self._automaton):
            self._automaton.make_automaton()

    def named_in(self, folded: str) -> Lecture | None:
        """The first lecture named in `folded`, a text already passed through `normalize`."""
        orders = [order for _, order in self._automaton.iter(folded)] \
            if len(self._automaton) else []
        if self._empty_title_order is not None:
            orders.append(self._empty_title_order)
        return self._lectures[min(orders)] if orders else None
