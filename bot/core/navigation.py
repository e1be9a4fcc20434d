"""Short, stable references to passages, for buttons that must work after a restart.

Telegram gives a button 64 bytes of callback data and nothing else survives a restart, so a
button names its passage itself: `<lecture key>:<section>.<paragraph>`, where the lecture key
is a short hash of the lecture's id (its file name), stable across restarts and reloads.
"""

from __future__ import annotations

import functools
import hashlib
import re

from bot.core.lectures import Gap, Lecture, Library, Passage, chinese_numeral

LECTURE_KEY_CHARS = 6
_REF = re.compile(r"^(?P<key>[0-9a-f]{6}):(?P<section>\d+)\.(?P<paragraph>\d+)$")


@functools.cache  # a button press compares it with every lecture's: hash each id once
def lecture_key(lecture_id: str) -> str:
    return hashlib.sha1(lecture_id.encode("utf-8")).hexdigest()[:LECTURE_KEY_CHARS]


def passage_ref(passage: Passage) -> str:
    return f"{lecture_key(passage.lecture_id)}:{passage.section_no}.{passage.paragraph_no}"


def resolve_ref(library: Library, ref: str) -> Passage | None:
    """The passage a reference names, or None if it is malformed or no longer exists."""
    match = _REF.match(ref)
    if not match:
        return None
    for lecture in library.lectures:
        if lecture_key(lecture.lecture_id) == match["key"]:
            return library.passage(f"{lecture.lecture_id}:{match['section']}.{match['paragraph']}")
    return None


def neighbours(library: Library, passage: Passage) -> tuple[Passage | None, Passage | None]:
    """The passages before and after this one in its lecture's reading order."""
    lecture = library.lecture(passage.lecture_id)
    if lecture is None:
        return None, None
    passages = lecture.passages
    position = next((i for i, p in enumerate(passages) if p.passage_id == passage.passage_id),
                    None)
    if position is None:
        return None, None
    before = passages[position - 1] if position > 0 else None
    after = passages[position + 1] if position + 1 < len(passages) else None
    return before, after


def withheld_between(library: Library, first: Passage, second: Passage) -> tuple[int, ...]:
    """The withheld sections (原文缺失) between two passages of one lecture, in order: what
    reading on from one to the other skips."""
    lecture = library.lecture(first.lecture_id)
    if lecture is None or first.lecture_id != second.lecture_id:
        return ()
    low, high = sorted((first.section_no, second.section_no))
    return tuple(sorted(n for n in lecture.missing_section_nos if low < n < high))


def withheld_beside(library: Library, passage: Passage) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
    """The withheld sections just before and just after a passage in reading order (the
    last passage before a withheld part, the first after it)."""
    before, after = neighbours(library, passage)
    lecture = library.lecture(passage.lecture_id)
    missing = lecture.missing_section_nos if lecture else ()
    # The first or last passage of a lecture borders a part withheld at its start or end.
    edge_before = tuple(n for n in missing if n < passage.section_no) if before is None else ()
    edge_after = tuple(n for n in missing if n > passage.section_no) if after is None else ()
    return ((withheld_between(library, before, passage) if before else edge_before),
            (withheld_between(library, passage, after) if after else edge_after))


def _section_selector(selector: str) -> tuple[int, int] | None:
    """A `/read` selector's (section, paragraph): "3.2", "3", "三", "第三部分", "开篇"."""
    selector = selector.strip().removeprefix("第").removesuffix("部分").removesuffix("节")
    if selector in ("开篇", "开头"):
        selector = "0"
    match = re.match(r"^([\d一二三四五六七八九十]+)(?:[.．](\d+))?$", selector)
    section = chinese_numeral(match[1]) if match else None
    if section is None:
        return None
    return section, int(match[2] or 1)


def find_passage(library: Library, selector: str,
                 lecture: Lecture | None = None) -> Passage | None:
    """`/read` selectors: "3.2" (section 3, paragraph 2), "3" or "三" (section 3), "0" or
    "开篇" (the opening), in the given lecture, else the first lecture that has it."""
    parsed = _section_selector(selector)
    if parsed is None:
        return None
    section, paragraph = parsed
    for candidate in [lecture] if lecture else library.lectures:
        found = library.passage(f"{candidate.lecture_id}:{section}.{paragraph}")
        if found is not None:
            return found
    return None


def find_withheld(library: Library, selector: str,
                  lecture: Lecture | None = None) -> tuple[Lecture, int, Gap] | None:
    """A `/read` selector that names a withheld section ("2", "第二部分", "2.1"): the lecture,
    the section's number and the gap that swallowed it; None if it names no such section."""
    parsed = _section_selector(selector)
    if parsed is None:
        return None
    for candidate in [lecture] if lecture else library.lectures:
        for gap in candidate.gaps:
            if parsed[0] in gap.missing_section_nos:
                return candidate, parsed[0], gap
    return None
