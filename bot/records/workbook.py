"""MonthRecord → the 学习台账 workbook (.xlsx bytes), with openpyxl.

Four sheets, each with a title row, a line about the roster, then a table whose header is on
row HEADER_ROW: 学习记录 (one row per study day), 签到表 (member × day), 未学名单 (who did not
study each day, and why), 提问记录 (the questions members asked).

Every text a member could have typed (names, questions, reasons) is written as a string,
never as a formula: a question "=HYPERLINK(…)" must not become a live link in the file the
secretary hands in.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot import texts
from bot.records.report import MonthRecord, short_date

if TYPE_CHECKING:  # the sheets of a write-only workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet as Worksheet

TITLE_ROW, INFO_ROW, HEADER_ROW = 1, 2, 3
# Column widths in characters: a date, a name, a citation or question, a mark like "补 11-28".
DATE_WIDTH, NAME_WIDTH, TEXT_WIDTH, MARK_WIDTH, NUMBER_WIDTH = 12, 16, 60, 9, 10
# Dates get openpyxl's own yyyy-mm-dd; question times and rates these.
TIME_FORMAT, PERCENT_FORMAT = "yyyy-mm-dd hh:mm", "0.0%"
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")


def workbook_bytes(record: MonthRecord) -> bytes:
    """The whole workbook, ready to send or save (write-only mode: rows are streamed out)."""
    book = Workbook(write_only=True)
    _study_days(book.create_sheet(), record)
    _sign_in_sheet(book.create_sheet(), record)
    _absent_sheet(book.create_sheet(), record)
    _question_sheet(book.create_sheet(), record)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_name(title: str, month_label: str) -> str:
    """学习台账-<group title>-<YYYY-MM>.xlsx, without characters file systems refuse."""
    safe = "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in title).strip()
    return texts.RECORDS_FILE_NAME.format(title=safe or "group", month=month_label)


def month_label(record: MonthRecord) -> str:
    return f"{record.month.year:04d}-{record.month.month:02d}"


def _start(sheet: Worksheet, name: str, record: MonthRecord, headers: Sequence[str],
           widths: Sequence[int]) -> None:
    """Title, roster line and header rows; column widths go first in a write-only sheet."""
    sheet.title = name
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"B{HEADER_ROW + 1}"
    title = texts.RECORDS_SHEET_TITLE.format(sheet=name, title=record.title,
                                             year=record.month.year, month=record.month.month)
    sheet.append([_cell(sheet, title, font=_TITLE)])
    sheet.append([_cell(sheet, roster_line(record))])
    sheet.append([_cell(sheet, header, font=_BOLD) for header in headers])


def roster_line(record: MonthRecord) -> str:
    """名单 N 人 (and Telegram's own count, so the secretary sees who is missing)."""
    line = texts.RECORDS_ROSTER_LINE.format(count=len(record.persons))
    if record.member_count is not None:
        line += texts.RECORDS_MEMBER_COUNT.format(count=record.member_count)
    return line


def _study_days(sheet: Worksheet, record: MonthRecord) -> None:
    quiz = list(texts.RECORDS_QUIZ_HEADERS) if record.has_quiz else []
    _start(sheet, texts.RECORDS_SHEET_DAYS, record,
           [*texts.RECORDS_DAY_HEADERS, *quiz, texts.RECORDS_QUESTIONS_HEADER],
           [DATE_WIDTH, TEXT_WIDTH] + [NUMBER_WIDTH] * (5 + len(quiz)))
    for day in record.days:
        values = [day.day, _cell(sheet, "\n".join(day.citations), alignment=_WRAP),
                  len(record.studied(day)), record.made_up_count(day), len(record.persons),
                  _cell(sheet, record.rate(day), number_format=PERCENT_FORMAT)]
        if record.has_quiz:
            values += [day.quiz.answered, day.quiz.correct] if day.quiz else [0, 0]
        values.append(day.questions)
        sheet.append(values)


def _sign_in_sheet(sheet: Worksheet, record: MonthRecord) -> None:
    days = record.days
    _start(sheet, texts.RECORDS_SHEET_SIGN_IN, record,
           [texts.RECORDS_NAME_HEADER, *(short_date(d.day) for d in days),
            *texts.RECORDS_PERSON_TOTAL_HEADERS],
           [NAME_WIDTH] + [MARK_WIDTH] * len(days) + [NUMBER_WIDTH] * 3)
    for person in record.persons:
        marks = [record.mark(person, day) for day in days]
        studied = sum(1 for m in marks if m == texts.RECORDS_MARK_STUDIED)
        made_up = sum(1 for m in marks if m and m != texts.RECORDS_MARK_STUDIED)
        sheet.append([_typed(sheet, person.name), *marks, studied, made_up,
                      len(days) - studied - made_up])
    sheet.append([_cell(sheet, texts.RECORDS_DAY_TOTAL_STUDIED, font=_BOLD),
                  *(len(record.studied(d)) for d in days)])
    sheet.append([_cell(sheet, texts.RECORDS_DAY_TOTAL_MADE_UP, font=_BOLD),
                  *(record.made_up_count(d) for d in days)])


def _absent_sheet(sheet: Worksheet, record: MonthRecord) -> None:
    _start(sheet, texts.RECORDS_SHEET_ABSENT, record, texts.RECORDS_ABSENT_HEADERS,
           [DATE_WIDTH, NAME_WIDTH, NAME_WIDTH, TEXT_WIDTH])
    for day in record.days:
        for person in record.not_studied(day):
            made_up = day.marks.made_up.get(person.user_id) if person.user_id else None
            state = (texts.RECORDS_STATE_MADE_UP.format(date=short_date(made_up)) if made_up
                     else texts.RECORDS_STATE_ABSENT)
            sheet.append([day.day, _typed(sheet, person.name), state,
                          _typed(sheet, record.reason(day, person))])


def _question_sheet(sheet: Worksheet, record: MonthRecord) -> None:
    _start(sheet, texts.RECORDS_SHEET_QUESTIONS, record, texts.RECORDS_QUESTION_HEADERS,
           [DATE_WIDTH + 6, NAME_WIDTH, TEXT_WIDTH, NUMBER_WIDTH])
    for question in record.questions:
        answered = texts.RECORDS_ANSWERED if question.answered else texts.RECORDS_NOT_ANSWERED
        sheet.append([_cell(sheet, question.asked_at.replace(tzinfo=None),
                            number_format=TIME_FORMAT),
                      _typed(sheet, question.asker),
                      _cell(sheet, question.text, alignment=_WRAP),
                      answered])


def _cell(sheet: Worksheet, value, *, font: Font | None = None,
          alignment: Alignment | None = None, number_format: str | None = None) -> Cell:
    """A cell; text is always text (never a formula), without characters .xlsx forbids."""
    cell = WriteOnlyCell(sheet, value=_text(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _typed(sheet: Worksheet, text: str) -> str | Cell:
    """What someone typed (a name, a reason): the text itself, or, when openpyxl would take it
    for a formula or an error code, a cell that says it is text. Plain strings are appended
    as they are: a Cell per value costs openpyxl several times more."""
    text = _text(text)
    if text.startswith("=") or text in ERROR_CODES:
        return _cell(sheet, text)
    return text


def _text(value: str) -> str:
    """Control characters that a name or question may hold are invalid in .xlsx XML."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)
