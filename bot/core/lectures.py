"""Lecture files → cited passages.

A lecture file is plain text: a title line, optionally a date/source line, section headings
(一、 / （一） / 第一部分 / 第一条 …), one paragraph per line, optionally a closing line
(谢谢大家) and "此处隐藏N字"-style markers where the source withheld text. The parser keeps
every paragraph verbatim, records withheld text as a `Gap` (never as a passage) and gives each
passage a stable id and a citation a person can read.

Pure: no Telegram, no search. `load_library` reads a knowledge folder and never raises for
one bad file; it reports it in `Library.failures` and loads the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot import texts
from bot.core.docx_reader import DocLine, DocxError, read_docx

LECTURE_SUFFIXES = (".txt", ".md", ".docx")
# Text files kept beside the lectures to describe the folder, never lectures themselves: a
# README.md copied in with the lectures would otherwise be quoted to members as one. A Word
# document of that name is a lecture (nobody writes a folder's README in Word).
NOT_LECTURE_STEMS = frozenset({"readme", "license", "licence", "changelog", "contributing"})
NOTE_SUFFIXES = (".txt", ".md")

OPENING_SECTION_NO = 0
OPENING_SECTION_LABEL = texts.OPENING_SECTION

# A citation shows a heading only up to its first clause: "三、聚力攻坚…" reads better in a
# chat bubble than a 30-character heading.
CITATION_HEADING_CHARS = 16

# Longer than this, a line is prose even if it opens like a heading ("一是…" is not a heading,
# but a 200-character "第一条 …" article is content, not a title).
MAX_HEADING_CHARS = 50
MAX_META_LINE_CHARS = 120
MAX_CLOSING_LINE_CHARS = 40

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100}
_NUMERAL = r"[一二三四五六七八九十百零〇两\d]+"

# Heading styles, from the outermost level to the innermost. The outermost style that occurs
# in a file makes its sections; inner styles become sub-headings inside them.
HEADING_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("part", re.compile(rf"^第(?P<n>{_NUMERAL})(?:部分|章|讲|篇)[\s、:：,，.．]*")),
    ("enum", re.compile(r"^(?P<n>[一二三四五六七八九十百]+)\s*[、.．]\s*")),
    ("paren", re.compile(rf"^[（(](?P<n>{_NUMERAL})[）)]\s*")),
    ("article", re.compile(rf"^第(?P<n>{_NUMERAL})条[\s、:：]*")),
)

_META_LINE = re.compile(
    r"(更新时间|发布时间|发布日期|更新日期|日期|时间|来源|作者|编辑|责任编辑|出处|整理|供稿)\s*[:：]"
)
_DATE_ONLY = re.compile(r"^\d{4}\s*[-年./]\s*\d{1,2}(\s*[-月./]\s*\d{1,2}日?)?$")
_GAP_MARKER = re.compile(
    r"此处隐藏\s*(?P<n>\d+)\s*字|隐藏了?\s*(?P<n2>\d+)\s*字|下载后查看|余下全文|以下内容(已)?隐藏"
)
_CLOSING_LINE = re.compile(r"谢谢大家|谢谢各位|我就讲(这么多|到这里)|以上(就是|是)我|讲到这里")
# A paragraph longer than this becomes several passages, split at sentence ends, so each fits
# one Telegram message (4096 characters) with its header: the citation (a title and heading),
# the position line and 今日学习 stay under 300 characters for titles up to ~200 characters.
MAX_PASSAGE_CHARS = 4096 - 300
# Inside a sentence too long for one passage: where it may be cut, best first.
_CLAUSE_END = re.compile(r"[,,、::]+")
_SENTENCE_END = re.compile(r"[。！？!?；;…]+[”’」』）)]*")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
_TERMINAL_PUNCTUATION = "。！？!?；;"


class LectureError(Exception):
    """A file that cannot become a lecture; the message says why, in Chinese, for admins."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Passage:
    """One study paragraph, verbatim, with where it stands in its lecture."""

    passage_id: str
    lecture_id: str
    lecture_title: str
    section_no: int
    section_heading: str
    paragraph_no: int
    order: int
    text: str
    sentence_spans: tuple[tuple[int, int], ...]
    # The sub-heading the paragraph stands under within its section (（一）坚持…), if any:
    # its own opening words when the paragraph opens with it.
    subheading: str = ""

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(self.text[start:end] for start, end in self.sentence_spans)

    @property
    def section_label(self) -> str:
        return short_heading(self.section_heading)

    @property
    def heading_line(self) -> str:
        """The sub-heading to show above the text; none when the text itself opens with it."""
        return "" if self.text.startswith(self.subheading) else self.subheading

    @property
    def citation(self) -> str:
        if self.subheading:
            return texts.CITATION_WITH_SUBHEADING.format(
                lecture=self.lecture_title, section=self.section_label,
                subheading=short_heading(self.subheading), paragraph=self.paragraph_no)
        return texts.CITATION.format(lecture=self.lecture_title, section=self.section_label,
                                     paragraph=self.paragraph_no)


@dataclass(frozen=True)
class Gap:
    """Text the source withheld ("此处隐藏2928字"): which sections it swallowed, and how much."""

    lecture_id: str
    after_section_no: int
    missing_section_nos: tuple[int, ...]
    chars: int | None
    marker: str


@dataclass(frozen=True)
class Section:
    number: int
    heading: str
    passages: tuple[Passage, ...]

    @property
    def label(self) -> str:
        return short_heading(self.heading)


@dataclass(frozen=True)
class Lecture:
    lecture_id: str
    title: str
    path: Path
    meta: str
    sections: tuple[Section, ...]
    gaps: tuple[Gap, ...]
    warnings: tuple[str, ...]

    @cached_property
    def passages(self) -> tuple[Passage, ...]:
        return tuple(p for section in self.sections for p in section.passages)

    def __hash__(self) -> int:
        # A lecture is known by its file: hashing every section and passage (the generated
        # hash) made a set of a question's lectures cost a millisecond. Equal lectures have
        # the same id and path, so this agrees with the generated __eq__.
        return hash((self.lecture_id, self.path))

    @property
    def missing_section_nos(self) -> tuple[int, ...]:
        return tuple(n for gap in self.gaps for n in gap.missing_section_nos)


@dataclass(frozen=True)
class Library:
    """Every lecture of a knowledge folder, in file-name order, and the files that failed."""

    lectures: tuple[Lecture, ...]
    failures: tuple[LectureError, ...] = ()

    @cached_property
    def passages(self) -> tuple[Passage, ...]:
        return tuple(p for lecture in self.lectures for p in lecture.passages)

    def passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    def lecture(self, lecture_id: str) -> Lecture | None:
        return self._lectures_by_id.get(lecture_id)

    def sections_of(self, lecture_ids: Iterable[str]) -> tuple[Section, ...]:
        """Every section of these lectures, in library order; of all lectures if none is given.

        Costs as much as the lectures named, not as the library: a question's few hits.
        """
        position = self._position_by_id
        named = sorted({position[i] for i in lecture_ids if i in position})
        lectures = [self.lectures[n] for n in named] if named else self.lectures
        return tuple(section for lecture in lectures for section in lecture.sections)

    def lectures_holding(self, sections: Iterable[Section]
                         ) -> list[tuple[Lecture, list[Section]]]:
        """The lectures these sections belong to, in library order, each with its own of them
        (in the order given). Costs as much as the sections given, not as the library."""
        owned: dict[int, list[Section]] = {}
        for section in sections:
            for position in self._positions_by_section.get(section, ()):
                owned.setdefault(position, []).append(section)
        return [(self.lectures[position], owned[position]) for position in sorted(owned)]

    @cached_property
    def _positions_by_section(self) -> dict[Section, list[int]]:
        positions: dict[Section, list[int]] = {}
        for position, lecture in enumerate(self.lectures):
            for section in lecture.sections:
                held = positions.setdefault(section, [])
                if not held or held[-1] != position:
                    held.append(position)
        return positions

    @cached_property
    def _position_by_id(self) -> dict[str, int]:
        position: dict[str, int] = {}
        for n, lecture in enumerate(self.lectures):
            position.setdefault(lecture.lecture_id, n)
        return position

    @cached_property
    def _lectures_by_id(self) -> dict[str, Lecture]:
        # The first lecture of an id, as a scan would find it.
        return {i: self.lectures[n] for i, n in self._position_by_id.items()}

    @cached_property
    def _by_id(self) -> dict[str, Passage]:
        return {p.passage_id: p for p in self.passages}


def lecture_of(passage_id: str) -> str:
    """The lecture id inside a passage id ("<lecture id>:<section>.<paragraph>")."""
    return passage_id.rpartition(":")[0]


def short_heading(heading: str) -> str:
    """The heading up to its first clause: 三、聚力攻坚,不断汇聚… → 三、聚力攻坚…"""
    if heading == OPENING_SECTION_LABEL:
        return heading
    head = re.split(r"[,，;；:：]", heading, maxsplit=1)[0]
    if len(head) > CITATION_HEADING_CHARS:
        head = head[:CITATION_HEADING_CHARS]
    return head if head == heading else head + "…"


def heading_lead(heading: str) -> str:
    """一、统一思想,深刻领会… → 统一思想: the first clause, without the heading's number."""
    for _, pattern in HEADING_STYLES:
        match = pattern.match(heading)
        if match:
            heading = heading[match.end():]
            break
    return re.split(r"[,，;；:：。]", heading, maxsplit=1)[0].strip()


def chinese_numeral(text: str) -> int | None:
    """一 → 1, 十二 → 12, 二十 → 20, 3 → 3; None if it is not a numeral."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[char]
            current = 0
        else:
            return None
    return total + current


def split_sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the sentences of `text`; together they cover it exactly."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return tuple(spans)


def split_long_paragraph(text: str, limit: int = MAX_PASSAGE_CHARS) -> list[str]:
    """`text` in pieces of at most `limit` characters: whole sentences where they fit, a
    longer sentence at a clause end (a comma), and only a comma-less run at the limit itself."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for start, end in split_sentences(text) or ((0, len(text)),):
        sentence = text[start:end]
        if len(current) + len(sentence) <= limit:
            current += sentence
            continue
        if current.strip():
            pieces.append(current)
        current = ""
        while len(sentence) > limit:
            cuts = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, limit) if m.end() <= limit]
            cut = cuts[-1] if cuts else limit
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        current = sentence
    if current.strip():
        pieces.append(current)
    return [piece.strip() for piece in pieces if piece.strip()]


def decode_lecture_bytes(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030/GBK; anything else is a LectureError."""
    if not raw.strip():
        raise LectureError(path, texts.FILE_EMPTY)
    if b"\x00" in raw[:4096]:
        raise LectureError(path, texts.FILE_BINARY)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise LectureError(path, texts.FILE_ENCODING)


def _looks_like_text(text: str) -> bool:
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return control <= len(text) // 100


def parse_lecture(text: str, path: Path, lecture_id: str | None = None) -> Lecture:
    """Parse a lecture's text. Raises LectureError if it holds no paragraph."""
    lines = [_clean_line(line) for line in text.splitlines()]
    return parse_lines([DocLine(line) for line in lines if line], path, lecture_id)


def parse_lines(lines: list[DocLine], path: Path, lecture_id: str | None = None) -> Lecture:
    """Parse lines whose headings may be marked by the document itself (Word styles).

    Marked headings of the outermost level make the sections; unmarked text is read as in
    a plain lecture file. The title is the Title-styled line, else the first line.
    """
    if not lines:
        raise LectureError(path, texts.FILE_EMPTY)
    title_line = next((line for line in lines if line.heading_level == 0), lines[0])
    body = [line for line in lines if line is not title_line]
    levels = [line.heading_level for line in body if line.heading_level]
    section_level = min(levels) if levels else None
    style = None if section_level else _outermost_style(line.text for line in body)
    builder = _LectureBuilder(lecture_id or path.stem, title_line.text, path, style)
    for line in body:
        if section_level is None or line.heading_level is None:
            builder.add_line(line.text)
        elif line.heading_level == section_level:
            builder.add_marked_heading(line.text)
        else:  # a deeper heading: a sub-heading within the section, not a passage
            builder.add_subheading(line.text)
    return builder.build()


def _clean_line(line: str) -> str:
    line = line.replace("\u3000", " ").strip()
    return _MARKDOWN_HEADING.sub("", line).strip()


def _outermost_style(lines: Iterable[str]) -> str | None:
    found = {name for line in lines for name, pattern in HEADING_STYLES
             if _heading_match(line, pattern)}
    return next((name for name, _ in HEADING_STYLES if name in found), None)


def _heading_match(line: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    if len(line) > MAX_HEADING_CHARS or line[-1] in _TERMINAL_PUNCTUATION:
        return None
    return pattern.match(line)


@dataclass
class _LectureBuilder:
    """Walks the lines of a lecture once, keeping the section it is in.

    What it asks of the sections so far (numbers taken, any content yet) is kept as it goes,
    so a document of many short sections costs time in proportion to its lines.
    """

    lecture_id: str
    title: str
    path: Path
    section_style: str | None
    meta: list[str] = field(default_factory=list)
    # (number, heading, [(paragraph, sub-heading)])
    sections: list[tuple[int, str, list[tuple[str, str]]]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    numbers: set[int] = field(default_factory=set)
    has_content: bool = False
    subheading: str = ""  # the sub-heading the next paragraphs stand under

    def add_line(self, line: str) -> None:
        if self._is_meta(line):
            self.meta.append(line)
        elif gap := _GAP_MARKER.search(line):
            self._add_gap(line, gap)
        elif heading := self._section_heading(line):
            self._start_section(*heading)
        elif self._is_inner_heading(line):
            self.add_subheading(line)  # （一）学习 under 一、: not a study passage of its own
        elif _CLOSING_LINE.search(line) and len(line) <= MAX_CLOSING_LINE_CHARS:
            pass  # 谢谢大家: part of the talk, not a study passage
        else:
            self.subheading = self._opening_subheading(line) or self.subheading
            pieces = split_long_paragraph(line)
            if len(pieces) > 1:
                self.warnings.append(texts.WARNING_PASSAGE_SPLIT.format(
                    section=self.sections[-1][1] if self.sections else OPENING_SECTION_LABEL,
                    chars=len(line), parts=len(pieces)))
            self._current_paragraphs().extend((piece, self.subheading) for piece in pieces)
            self.has_content = True

    def add_subheading(self, line: str) -> None:
        self.subheading = line

    def _opening_subheading(self, line: str) -> str | None:
        """（一）坚持党的领导。… : a paragraph that opens with its sub-heading's first sentence
        (numbered in a style other than the sections'); the paragraphs after it stand under it."""
        if not any(name != self.section_style and pattern.match(line)
                   for name, pattern in HEADING_STYLES):
            return None
        end = _SENTENCE_END.search(line)
        lead = line[:end.start()] if end else line
        return lead if len(lead) <= MAX_HEADING_CHARS and lead != line else None

    def add_marked_heading(self, line: str) -> None:
        """A heading the document marked itself: numbered as written, else in sequence."""
        number = next((chinese_numeral(match.group("n")) for _, pattern in HEADING_STYLES
                       if (match := pattern.match(line))), None)
        if number is None:
            number = max(self.numbers, default=OPENING_SECTION_NO) + 1
        self._start_section(number, line)

    def _is_meta(self, line: str) -> bool:
        if self.has_content or len(line) > MAX_META_LINE_CHARS:
            return False
        return bool(_META_LINE.search(line) or _DATE_ONLY.match(line))

    def _section_heading(self, line: str) -> tuple[int, str] | None:
        for name, pattern in HEADING_STYLES:
            if name != self.section_style:
                continue
            match = _heading_match(line, pattern)
            number = chinese_numeral(match.group("n")) if match else None
            if number is not None:
                return number, line
        return None

    def _is_inner_heading(self, line: str) -> bool:
        return self.section_style is not None and any(
            name != self.section_style and _heading_match(line, pattern)
            for name, pattern in HEADING_STYLES)

    def _start_section(self, number: int, heading: str) -> None:
        if number in self.numbers:
            self.warnings.append(texts.WARNING_DUPLICATE_SECTION.format(heading=heading))
        self.numbers.add(number)
        self.sections.append((number, heading, []))
        self.subheading = ""

    def _current_paragraphs(self) -> list[tuple[str, str]]:
        if not self.sections:
            self.sections.append((OPENING_SECTION_NO, OPENING_SECTION_LABEL, []))
            self.numbers.add(OPENING_SECTION_NO)
        return self.sections[-1][2]

    def _add_gap(self, line: str, match: re.Match[str]) -> None:
        digits = match.group("n") or match.group("n2")
        after = self.sections[-1][0] if self.sections else OPENING_SECTION_NO
        self.gaps.append(Gap(self.lecture_id, after, (), int(digits) if digits else None, line))

    def build(self) -> Lecture:
        sections = tuple(self._build_sections())
        if not any(section.passages for section in sections):
            raise LectureError(self.path, texts.FILE_NO_PARAGRAPHS)
        for section in sections:
            if not section.passages:
                self.warnings.append(texts.WARNING_EMPTY_SECTION.format(heading=section.heading))
        return Lecture(self.lecture_id, self.title, self.path, " ".join(self.meta), sections,
                       tuple(self._resolve_gaps()), tuple(self.warnings))

    def _build_sections(self) -> Iterable[Section]:
        order = 0
        for number, heading, paragraphs in self.sections:
            passages = []
            for paragraph_no, (text, subheading) in enumerate(paragraphs, start=1):
                passages.append(Passage(
                    passage_id=f"{self.lecture_id}:{number}.{paragraph_no}",
                    lecture_id=self.lecture_id, lecture_title=self.title,
                    section_no=number, section_heading=heading, paragraph_no=paragraph_no,
                    order=order, text=text, sentence_spans=split_sentences(text),
                    subheading=subheading))
                order += 1
            yield Section(number, heading, tuple(passages))

    def _resolve_gaps(self) -> Iterable[Gap]:
        """A gap between sections n and m swallowed the sections numbered in between."""
        numbers = [n for n, _, _ in self.sections]
        for gap in self.gaps:
            later = [n for n in numbers if n > gap.after_section_no]
            following = min(later) if later else gap.after_section_no + 1
            missing = tuple(range(gap.after_section_no + 1, following))
            yield Gap(gap.lecture_id, gap.after_section_no, missing, gap.chars, gap.marker)


def read_lecture(path: Path, lecture_id: str | None = None) -> Lecture:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise LectureError(path, texts.FILE_UNREADABLE.format(reason=error.strerror)) from error
    return lecture_from_bytes(path, raw, lecture_id)


def lecture_from_bytes(path: Path, raw: bytes, lecture_id: str | None = None) -> Lecture:
    """A lecture from a file's bytes; the file name's suffix says how to read them."""
    if path.suffix.lower() == ".docx":
        try:
            lines = read_docx(raw)
        except DocxError as error:
            raise LectureError(path, str(error)) from error
        return parse_lines([DocLine(_clean_line(line.text), line.heading_level)
                            for line in lines if _clean_line(line.text)], path, lecture_id)
    return parse_lecture(decode_lecture_bytes(path, raw), path, lecture_id)


def lecture_files(folder: Path) -> list[Path]:
    """The lecture files directly in `folder`, in file-name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_lecture_name(p.name))


def is_lecture_name(file_name: str) -> bool:
    """A lecture's file name: a lecture suffix, not hidden, not a folder's README or the like."""
    path = Path(file_name)
    return (path.suffix.lower() in LECTURE_SUFFIXES and not path.name.startswith(".")
            and not is_folder_note(file_name))


def is_folder_note(file_name: str) -> bool:
    """README.md, LICENSE.txt, …: a text file that describes the folder."""
    path = Path(file_name)
    return path.suffix.lower() in NOTE_SUFFIXES and path.stem.lower() in NOT_LECTURE_STEMS


def load_library(folder: Path) -> Library:
    """Every lecture in `folder`; a file that fails is reported, the others still load."""
    lectures, failures, seen_ids = [], [], set()
    for path in lecture_files(folder):
        lecture_id = path.stem if path.stem not in seen_ids else path.name
        try:
            lectures.append(read_lecture(path, lecture_id))
        except LectureError as error:
            failures.append(error)
            continue
        seen_ids.add(lecture_id)
    return Library(tuple(lectures), tuple(failures))
