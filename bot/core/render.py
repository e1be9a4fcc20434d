"""Answer → text: plain text for the terminal and the CLI, HTML chunks for Telegram.

Pure functions. Both renderers walk the same `_blocks(answer)`, so the terminal shows exactly
what the bot sends, minus the markup. A block is a list of (text, bold) runs; HTML chunks are
packed from whole blocks and a block is only cut between runs or inside one run's text, so a
tag is never split and every chunk stays within Telegram's limit.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from bot import texts
from bot.core.answer import Answer, AnswerKind
from bot.core.features import shares_a_word
from bot.core.lectures import OPENING_SECTION_NO, Gap, Lecture, Library, Passage, Section
from bot.core.navigation import withheld_beside
from bot.core.questions import MAX_MESSAGE_CHARS
from bot.core.reading import Reading
from bot.core.search import Hit

# Telegram's limit (telegram.constants.MessageLimit.MAX_TEXT_LENGTH), repeated here because
# the core must not import Telegram; a test checks the two agree.
MAX_MESSAGE_LENGTH = 4096
SEE_ALSO_LIMIT = 3
# A refusal names at most this many nearest paragraphs (each with a button to read it).
CLOSEST_LISTED = 2

Run = tuple[str, bool]
Block = list[Run]


def replies(answer: Answer) -> tuple[Answer, ...]:
    """What is sent for a message: one reply per question it asked."""
    return answer.parts or (answer,)


def plain_text(answer: Answer, library: Library) -> str:
    """The answer as the terminal chat and `lecture-bot ask` print it; highlights in 【】.
    A message of several questions gets every reply, one after the other."""
    return "\n\n".join("".join(f"【{text}】" if bold else text for text, bold in block)
                       for part in replies(answer) for block in _blocks(part, library))


def html_chunks(answer: Answer, library: Library,
                limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """One reply (a message's answer, or one of its `parts`) as Telegram HTML messages,
    each within `limit` UTF-16 code units."""
    return pack_html(_blocks(answer, library), limit)


def pack_html(blocks: Iterable[Block], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    chunks: list[str] = []
    current = ""
    for block in blocks:
        for piece in _block_pieces(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if telegram_length(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _block_pieces(block: Block, limit: int) -> list[str]:
    """The block as HTML, cut into pieces that each fit `limit` if it does not fit whole."""
    pieces, current = [], ""
    for text, bold in block:
        for part in _fitting_parts(text, bold, limit):
            rendered = _html_run(part, bold)
            if telegram_length(current + rendered) <= limit:
                current += rendered
            else:
                pieces.append(current)
                current = rendered
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


def _fitting_parts(text: str, bold: bool, limit: int) -> list[str]:
    if telegram_length(_html_run(text, bold)) <= limit:
        return [text]
    parts, start = [], 0
    while start < len(text):
        end = _longest_fit(text, start, bold, limit)
        parts.append(text[start:end])
        start = end
    return parts


def _longest_fit(text: str, start: int, bold: bool, limit: int) -> int:
    """The furthest end such that text[start:end] fits, preferring a sentence boundary."""
    low, high = start + 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if telegram_length(_html_run(text[start:middle], bold)) <= limit:
            low = middle
        else:
            high = middle - 1
    for boundary in range(low, start + (low - start) // 2, -1):
        if text[boundary - 1] in "。！？!?；;\n":
            return boundary
    return low


def _html_run(text: str, bold: bool) -> str:
    escaped = html.escape(text, quote=False)
    return f"<b>{escaped}</b>" if bold else escaped


def _blocks(answer: Answer, library: Library) -> list[Block]:
    kind = answer.kind
    if kind == AnswerKind.NO_QUESTION:
        return [[(texts.NO_QUESTION.format(example=texts.EXAMPLE_QUESTIONS[0]), False)]]
    if kind == AnswerKind.SMALL_TALK:
        return [[(help_text(), False)]]
    blocks: list[Block] = []
    if answer.is_part:
        blocks.append([(texts.PART_HEADER.format(question=texts.echoed(answer.question)),
                        False)])
    if kind in (AnswerKind.ANSWERED, AnswerKind.SECTION) and answer.best:
        blocks += _answer_blocks(answer)
    elif kind == AnswerKind.CLOSEST and answer.best:
        blocks += _closest_blocks(answer)
    elif kind == AnswerKind.MISSING_SECTION:
        blocks += _missing_blocks(answer, library)
    else:
        blocks += _not_covered_blocks(answer, library)
    if answer.truncated:
        blocks.append([(texts.QUESTION_TRUNCATED.format(limit=MAX_MESSAGE_CHARS), False)])
    return blocks


def _answer_blocks(answer: Answer) -> list[Block]:
    best = answer.best
    assert best is not None
    if answer.kind == AnswerKind.SECTION and answer.section is not None:
        header = texts.SECTION_HEADER.format(section=answer.section.label,
                                             count=len(answer.section.passages))
        blocks: list[Block] = [[(header, False)]]
    elif answer.reading is not None and not _is_whole(answer.reading, best.passage):
        blocks = [answer_line(answer.reading)]
    else:
        blocks = []
    blocks.append([(texts.ANSWER_HEADER.format(citation=best.passage.citation), False)])
    blocks.append(highlighted_passage(best.passage, best.matched_sentences))
    # Only other passages that would have answered on their own are worth a reader's time.
    others = ([hit.passage for hit in answer.hits[1:SEE_ALSO_LIMIT + 1]]
              if answer.kind == AnswerKind.SECTION
              else [hit.passage for hit in answer.related[:SEE_ALSO_LIMIT]])
    if others:
        blocks.append(_citation_list(texts.SEE_ALSO, others))
    return blocks


def answer_line(reading: Reading) -> Block:
    """"答:" and the answering sentence verbatim, the span of a fact in bold."""
    sentence = reading.sentence
    lead = len(sentence) - len(sentence.lstrip())
    if not reading.shows_span:
        return [(texts.ANSWER_LINE, False), (sentence[lead:].rstrip(), False)]
    start, end = max(reading.span[0], lead), reading.span[1]
    runs = [(texts.ANSWER_LINE, False), (sentence[lead:start], False), (sentence[start:end], True),
            (sentence[end:].rstrip(), False)]
    return [run for run in runs if run[0]]


def _is_whole(reading: Reading, passage: Passage) -> bool:
    """A one-sentence paragraph with nothing to bold: the 答: line would only repeat it."""
    return not reading.shows_span and reading.sentence.strip() == passage.text.strip()


def _closest_blocks(answer: Answer) -> list[Block]:
    """Not an answer: the one paragraph nearest to the question, said to be no more."""
    best = answer.best
    assert best is not None
    return [[(texts.CLOSEST_INTRO, False)],
            [(texts.ANSWER_HEADER.format(citation=best.passage.citation), False)],
            highlighted_passage(best.passage, best.matched_sentences)]


def passage_html(passage: Passage, library: Library, sentence_indexes: Sequence[int] = (),
                 limit: int = MAX_MESSAGE_LENGTH) -> str:
    """One passage as a single message: citation, position, text (cut to fit if it must);
    a withheld part just before or after it in reading order is named where it stands, so
    上一段/下一段 across it say what they skip ("(第二部分原文缺失)")."""
    lecture = library.lecture(passage.lecture_id)
    total = len(lecture.passages) if lecture else passage.order + 1
    header = (texts.ANSWER_HEADER.format(citation=passage.citation) + "\n"
              + texts.READ_POSITION.format(position=passage.order + 1, total=total))
    before, after = withheld_beside(library, passage)
    blocks = [[(header, False)]]
    if before:
        blocks.append([(withheld_note(before), False)])
    blocks.append(highlighted_passage(passage, sentence_indexes))
    if after:
        blocks.append([(withheld_note(after), False)])
    return pack_html(blocks, limit)[0]


def withheld_note(numbers: Sequence[int]) -> str:
    """"(第二部分原文缺失)": the withheld sections a reader skips, named from the lecture."""
    return texts.READ_WITHHELD_NOTE.format(sections=section_names(numbers))


def section_names(numbers: Sequence[int]) -> str:
    return "、".join(texts.MISSING_SECTION_NAME.format(numeral=numeral(n)) for n in numbers)


def withheld_section_text(lecture: Lecture, number: int, gap: Gap) -> str:
    """`/read 2` where part 二 is withheld: says so, and lists the parts that can be read."""
    size = texts.MISSING_SIZE.format(chars=f"{gap.chars:,}") if gap.chars else ""
    items = "\n".join(texts.READ_WITHHELD_ITEM.format(label=s.label, number=s.number)
                      for s in lecture.sections)
    return texts.READ_WITHHELD.format(lecture=lecture.title, section=section_names([number]),
                                      size=size, sections=items)


def whole_passage_message(header: str, passage: Passage,
                          limit: int = MAX_MESSAGE_LENGTH) -> str | None:
    """The header and the whole passage as one HTML message, or None if they do not fit:
    a push must never go out as its header alone."""
    chunks = pack_html([[(header, False)], highlighted_passage(passage, ())], limit)
    return chunks[0] if len(chunks) == 1 else None


def passage_message(header: str, passage: Passage, sentence_indexes: Sequence[int] = (),
                    limit: int = MAX_MESSAGE_LENGTH) -> str:
    """A header line and the passage verbatim, as one HTML message (cut to fit if it must)."""
    blocks = [[(header, False)], highlighted_passage(passage, sentence_indexes)]
    return pack_html(blocks, limit)[0]


def highlighted_passage(passage: Passage, sentence_indexes: Sequence[int]) -> Block:
    """The passage verbatim as runs, the given sentences bold; its sub-heading above it."""
    chosen = set(sentence_indexes)
    runs: Block = [(passage.heading_line + "\n", False)] if passage.heading_line else []
    position = 0
    for i, (start, end) in enumerate(passage.sentence_spans):
        if i in chosen:
            if start > position:
                runs.append((passage.text[position:start], False))
            runs.append((passage.text[start:end], True))
            position = end
    if position < len(passage.text):
        runs.append((passage.text[position:], False))
    return runs


def _citation_list(title: str, passages: Sequence[Passage]) -> Block:
    lines = [title] + [texts.SEE_ALSO_ITEM.format(citation=p.citation) for p in passages]
    return [("\n".join(lines), False)]


def _missing_blocks(answer: Answer, library: Library) -> list[Block]:
    lecture = answer.lecture
    assert lecture is not None
    numbers = ([answer.missing_section_no] if answer.missing_section_no is not None
               else [n for gap in answer.gaps for n in gap.missing_section_nos])
    sections = "、".join(texts.MISSING_SECTION_NAME.format(numeral=numeral(n)) for n in numbers)
    chars = sum(gap.chars or 0 for gap in answer.gaps)
    size = texts.MISSING_SIZE.format(chars=f"{chars:,}") if chars else ""
    message = texts.MISSING_SECTION.format(lecture=lecture.title,
                                           sections=sections or "一部分", size=size)
    return [[(message, False)], _topics_block(lecture.sections, library)]


def _not_covered_blocks(answer: Answer, library: Library) -> list[Block]:
    if not library.lectures:
        return [[(texts.NO_LECTURES, False)]]
    first: Block
    if answer.missing_section_no is not None and answer.lecture is not None:
        first = [(texts.NO_SUCH_SECTION.format(lecture=answer.lecture.title,
                                               numeral=numeral(answer.missing_section_no)),
                  False)]
    else:
        first = [(texts.NOT_COVERED, False)]
    blocks = [first, _topics_block(answer.suggestions or _all_sections(library), library)]
    closest = closest_passages(answer)
    if closest:
        blocks.append(_citation_list(texts.NOT_COVERED_CLOSEST, closest))
    return blocks


def closest_passages(answer: Answer) -> list[Passage]:
    """The paragraphs a refusal names as nearest to the question: those that share a word
    with it (`shares_a_word`), as any paragraph the bot shows."""
    return [hit.passage for hit in answer.hits[:CLOSEST_LISTED]
            if hit.coverage > 0 and shares_a_word(hit)]


def lecture_html(lecture: Lecture, library: Library,
                 limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """A whole lecture as HTML messages: title, sections in order, withheld parts marked."""
    blocks: list[Block] = [[(texts.FULL_TEXT_TITLE.format(title=lecture.title), True)]]
    missing = {n: gap for gap in lecture.gaps for n in gap.missing_section_nos}
    entries = [(s.number, s) for s in lecture.sections] + [(n, None) for n in missing]
    for number, section in sorted(entries, key=lambda entry: entry[0]):
        if section is None:
            gap = missing[number]
            size = texts.MISSING_SIZE.format(chars=f"{gap.chars:,}") if gap.chars else ""
            blocks.append([(texts.TOC_MISSING.format(numeral=numeral(number), size=size)
                            .strip(), False)])
            continue
        if section.number != OPENING_SECTION_NO:
            blocks.append([(section.heading, True)])
        blocks += [[(passage.text, False)] for passage in section.passages]
    return pack_html(blocks, limit)


def _all_sections(library: Library) -> tuple[Section, ...]:
    return tuple(s for lecture in library.lectures for s in lecture.sections)


def _topics_block(sections: Sequence[Section], library: Library) -> Block:
    """What the lectures cover, in reading order, the withheld sections marked as missing."""
    lines = [texts.NOT_COVERED_TOPICS]
    for lecture, own in library.lectures_holding(sections):
        lines.append(texts.TOPIC_LECTURE.format(lecture=lecture.title))
        lines += [texts.TOPIC_ITEM.format(section=label)
                  for label in _section_labels(lecture, own)]
    lines.append(texts.TOC_HINT)
    return [("\n".join(lines), False)]


def _section_labels(lecture, sections: Sequence[Section]) -> list[str]:
    labels = {s.number: s.label for s in sections}
    for number in lecture.missing_section_nos:
        labels[number] = texts.MISSING_SECTION_NAME.format(numeral=numeral(number)) + \
            texts.TOPIC_MISSING_SUFFIX
    return [labels[n] for n in sorted(labels)]


def toc_text(library: Library) -> str:
    """The table of contents: lectures, their sections, and the withheld parts as missing."""
    if not library.lectures:
        return texts.NO_LECTURES
    lines = [texts.TOC_TITLE]
    for lecture in library.lectures:
        lines.append(texts.TOC_LECTURE.format(title=lecture.title, count=len(lecture.passages)))
        entries = [(s.number, texts.TOC_SECTION.format(label=s.label, count=len(s.passages)))
                   for s in lecture.sections]
        for gap in lecture.gaps:
            size = texts.MISSING_SIZE.format(chars=f"{gap.chars:,}") if gap.chars else ""
            entries += [(n, texts.TOC_MISSING.format(numeral=numeral(n), size=size))
                        for n in gap.missing_section_nos]
        lines += [line for _, line in sorted(entries, key=lambda entry: entry[0])]
    lines.append(texts.TOC_READ_HINT)
    return "\n".join(lines)


def help_text() -> str:
    examples = "\n".join(f"· {q}" for q in texts.EXAMPLE_QUESTIONS)
    return texts.HELP.format(bot_name=texts.BOT_NAME, examples=examples,
                             commands=texts.HELP_COMMANDS)


def numeral(number: int) -> str:
    """1 → 一, 12 → 十二 (the opening section, 0, is cited as 开篇 and has no numeral)."""
    if number == OPENING_SECTION_NO:
        return "0"
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    if number < 20:
        return "十" + (digits[number % 10] if number % 10 else "")
    if number < 100:
        return digits[number // 10] + "十" + (digits[number % 10] if number % 10 else "")
    return str(number)


def hit_summary(hit: Hit) -> str:
    return f"{hit.passage.citation} (得分 {hit.score:.2f},覆盖 {hit.coverage:.0%})"
