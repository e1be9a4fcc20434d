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

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from bot.records.report import MonthRecord, short_date

TITLE_ROW, INFO_ROW, HEADER_ROW = 1, 2, 3
# Column widths in characters: a date, a name, a citation or question, a mark like "补 11-28".
DATE_WIDTH, NAME_WIDTH, TEXT_WIDTH, MARK_WIDTH, NUMBER_WIDTH = 12, 16, 60, 9, 10
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")


def workbook_bytes(record: MonthRecord) -> bytes:
    """The whole workbook, ready to send or save."""
    book = Workbook()
    _study_days(book.active, record)
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


def _start(sheet: Worksheet, name: str, record: MonthRecord, headers: Sequence[str]) -> None:
    sheet.title = name
    sheet.cell(TITLE_ROW, 1, _text(texts.RECORDS_SHEET_TITLE.format(
        sheet=name, title=record.title, year=record.month.year,
        month=record.month.month))).font = _TITLE
    sheet.cell(INFO_ROW, 1, roster_line(record))
    for column, header in enumerate(headers, start=1):
        sheet.cell(HEADER_ROW, column, header).font = _BOLD
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 2)


def roster_line(record: MonthRecord) -> str:
    """名单 N 人 (and Telegram's own count, so the secretary sees who is missing)."""
    line = texts.RECORDS_ROSTER_LINE.format(count=len(record.persons))
    if record.member_count is not None:
        line += texts.RECORDS_MEMBER_COUNT.format(count=record.member_count)
    return line


def _study_days(sheet: Worksheet, record: MonthRecord) -> None:
    quiz = list(texts.RECORDS_QUIZ_HEADERS) if record.has_quiz else []
    _start(sheet, texts.RECORDS_SHEET_DAYS, record,
           [*texts.RECORDS_DAY_HEADERS, *quiz, texts.RECORDS_QUESTIONS_HEADER])
    for row, day in enumerate(record.days, start=HEADER_ROW + 1):
        values = [day.day, "\n".join(day.citations), len(record.studied(day)),
                  record.made_up_count(day), len(record.persons), record.rate(day)]
        if record.has_quiz:
            values += [day.quiz.answered, day.quiz.correct] if day.quiz else [0, 0]
        values.append(day.questions)
        _write_row(sheet, row, values)
        sheet.cell(row, 1).number_format = "yyyy-mm-dd"
        sheet.cell(row, 2).alignment = _WRAP
        sheet.cell(row, 6).number_format = "0.0%"
    _widths(sheet, [DATE_WIDTH, TEXT_WIDTH] + [NUMBER_WIDTH] * (5 + len(quiz)))


def _sign_in_sheet(sheet: Worksheet, record: MonthRecord) -> None:
    days = record.days
    _start(sheet, texts.RECORDS_SHEET_SIGN_IN, record,
           [texts.RECORDS_NAME_HEADER, *(short_date(d.day) for d in days),
            *texts.RECORDS_PERSON_TOTAL_HEADERS])
    row = HEADER_ROW
    for row, person in enumerate(record.persons, start=HEADER_ROW + 1):
        marks = [record.mark(person, day) for day in days]
        studied = sum(1 for m in marks if m == texts.RECORDS_MARK_STUDIED)
        made_up = sum(1 for m in marks if m and m != texts.RECORDS_MARK_STUDIED)
        _write_row(sheet, row, [person.name, *marks, studied, made_up,
                                len(days) - studied - made_up])
    studied_row, made_up_row = row + 1, row + 2
    _write_row(sheet, studied_row, [texts.RECORDS_DAY_TOTAL_STUDIED,
                                    *(len(record.studied(d)) for d in days)])
    _write_row(sheet, made_up_row, [texts.RECORDS_DAY_TOTAL_MADE_UP,
                                    *(record.made_up_count(d) for d in days)])
    for total_row in (studied_row, made_up_row):
        sheet.cell(total_row, 1).font = _BOLD
    _widths(sheet, [NAME_WIDTH] + [MARK_WIDTH] * len(days) + [NUMBER_WIDTH] * 3)


def _absent_sheet(sheet: Worksheet, record: MonthRecord) -> None:
    _start(sheet, texts.RECORDS_SHEET_ABSENT, record, texts.RECORDS_ABSENT_HEADERS)
    row = HEADER_ROW
    for day in record.days:
        for person in record.not_studied(day):
            row += 1
            made_up = day.marks.made_up.get(person.user_id) if person.user_id else None
            state = (texts.RECORDS_STATE_MADE_UP.format(date=short_date(made_up)) if made_up
                     else texts.RECORDS_STATE_ABSENT)
            _write_row(sheet, row, [day.day, person.name, state, record.reason(day, person)])
            sheet.cell(row, 1).number_format = "yyyy-mm-dd"
    _widths(sheet, [DATE_WIDTH, NAME_WIDTH, NAME_WIDTH, TEXT_WIDTH])


def _question_sheet(sheet: Worksheet, record: MonthRecord) -> None:
    _start(sheet, texts.RECORDS_SHEET_QUESTIONS, record, texts.RECORDS_QUESTION_HEADERS)
    for row, question in enumerate(record.questions, start=HEADER_ROW + 1):
        answered = texts.RECORDS_ANSWERED if question.answered else texts.RECORDS_NOT_ANSWERED
        _write_row(sheet, row, [question.asked_at.replace(tzinfo=None), question.asker,
                                question.text, answered])
        sheet.cell(row, 1).number_format = "yyyy-mm-dd hh:mm"
        sheet.cell(row, 3).alignment = _WRAP
    _widths(sheet, [DATE_WIDTH + 6, NAME_WIDTH, TEXT_WIDTH, NUMBER_WIDTH])


def _write_row(sheet: Worksheet, row: int, values: Sequence) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row, column)
        if isinstance(value, str):
            cell.value = _text(value)
            cell.data_type = "s"  # never a formula, whatever the text starts with
        else:
            cell.value = value


def _text(value: str) -> str:
    """Control characters that a name or question may hold are invalid in .xlsx XML."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
