"""MonthRecord → the 学习台账 workbook (.xlsx bytes), written with XlsxWriter.

Four sheets, each with a title row, a line about the roster, then a table whose header is on
row HEADER_ROW (1-based, as Excel shows it): 学习记录 (one row per study day), 签到表 (member ×
day), 未学名单 (who did not study each day, and why), 提问记录 (the questions members asked).

XlsxWriter in constant-memory mode streams the rows out: a month of 200 members takes about a
tenth of the time openpyxl needs for the same cells (benchmarks/records.py). openpyxl stays
for reading the rosters admins send.

Every text a member could have typed (names, questions, reasons) is written as a string,
never as a formula: a question "=HYPERLINK(…)" must not become a live link in the file the
secretary hands in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, datetime

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot import texts
from bot.records.report import MonthRecord, short_date

TITLE_ROW, INFO_ROW, HEADER_ROW = 1, 2, 3
# Column widths in characters: a date, a name, a citation or question, a mark like "补 11-28".
DATE_WIDTH, NAME_WIDTH, TEXT_WIDTH, MARK_WIDTH, NUMBER_WIDTH = 12, 16, 60, 9, 10
DATE_FORMAT, TIME_FORMAT, PERCENT_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm", "0.0%"
TITLE_POINTS = 14
# Control characters are not allowed in .xlsx XML; a name or question may hold them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class _Sheet:
    """One worksheet written top to bottom, a row at a time (constant-memory mode)."""

    def __init__(self, book: xlsxwriter.Workbook, formats: dict[str, Format], name: str,
                 record: MonthRecord, headers: Sequence[str], widths: Sequence[int]):
        self.sheet: Worksheet = book.add_worksheet(name)
        self.formats = formats
        self.row = 0
        for column, width in enumerate(widths):
            self.sheet.set_column(column, column, width)
        self.sheet.freeze_panes(HEADER_ROW, 1)
        title = texts.RECORDS_SHEET_TITLE.format(sheet=name, title=record.title,
                                                 year=record.month.year,
                                                 month=record.month.month)
        self.append([title], formats["title"])
        self.append([roster_line(record)])
        self.append(headers, formats["bold"])

    def append(self, values: Sequence, text_format: Format | None = None,
               wrap_columns: Sequence[int] = ()) -> None:
        """A row: text as text, dates as dates, numbers as numbers; None leaves a blank."""
        for column, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                style = self.formats["wrap"] if column in wrap_columns else text_format
                self.sheet.write_string(self.row, column, _text(value), style)
            elif isinstance(value, datetime):
                self.sheet.write_datetime(self.row, column, value, self.formats["time"])
            elif isinstance(value, date):
                self.sheet.write_datetime(self.row, column, value, self.formats["date"])
            elif isinstance(value, float):  # the only fractions written are rates
                self.sheet.write_number(self.row, column, value, self.formats["percent"])
            else:
                self.sheet.write_number(self.row, column, value)
        self.row += 1


def workbook_bytes(record: MonthRecord) -> bytes:
    """The whole workbook, ready to send or save."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "constant_memory": True, "strings_to_formulas": False,
        "strings_to_urls": False, "strings_to_numbers": False})
    formats = {"title": book.add_format({"bold": True, "font_size": TITLE_POINTS}),
               "bold": book.add_format({"bold": True}),
               "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
               "date": book.add_format({"num_format": DATE_FORMAT}),
               "time": book.add_format({"num_format": TIME_FORMAT}),
               "percent": book.add_format({"num_format": PERCENT_FORMAT})}
    _study_days(book, formats, record)
    _sign_in_sheet(book, formats, record)
    _absent_sheet(book, formats, record)
    _question_sheet(book, formats, record)
    book.close()
    return buffer.getvalue()


def file_name(title: str, month_label: str) -> str:
    """学习台账-<group title>-<YYYY-MM>.xlsx, without characters file systems refuse."""
    safe = "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in title).strip()
    return texts.RECORDS_FILE_NAME.format(title=safe or "group", month=month_label)


def month_label(record: MonthRecord) -> str:
    return f"{record.month.year:04d}-{record.month.month:02d}"


def roster_line(record: MonthRecord) -> str:
    """名单 N 人 (and Telegram's own count, so the secretary sees who is missing)."""
    line = texts.RECORDS_ROSTER_LINE.format(count=len(record.persons))
    if record.member_count is not None:
        line += texts.RECORDS_MEMBER_COUNT.format(count=record.member_count)
    return line


def _study_days(book, formats, record: MonthRecord) -> None:
    quiz = list(texts.RECORDS_QUIZ_HEADERS) if record.has_quiz else []
    sheet = _Sheet(book, formats, texts.RECORDS_SHEET_DAYS, record,
                   [*texts.RECORDS_DAY_HEADERS, *quiz, texts.RECORDS_QUESTIONS_HEADER],
                   [DATE_WIDTH, TEXT_WIDTH] + [NUMBER_WIDTH] * (5 + len(quiz)))
    for day in record.days:
        values = [day.day, "\n".join(day.citations), len(record.studied(day)),
                  record.made_up_count(day), len(record.persons), record.rate(day)]
        if record.has_quiz:
            values += [day.quiz.answered, day.quiz.correct] if day.quiz else [0, 0]
        sheet.append([*values, day.questions], wrap_columns=(1,))


def _sign_in_sheet(book, formats, record: MonthRecord) -> None:
    days = record.days
    sheet = _Sheet(book, formats, texts.RECORDS_SHEET_SIGN_IN, record,
                   [texts.RECORDS_NAME_HEADER, *(short_date(d.day) for d in days),
                    *texts.RECORDS_PERSON_TOTAL_HEADERS],
                   [NAME_WIDTH] + [MARK_WIDTH] * len(days) + [NUMBER_WIDTH] * 3)
    for person in record.persons:
        marks = [record.mark(person, day) for day in days]
        studied = sum(1 for m in marks if m == texts.RECORDS_MARK_STUDIED)
        made_up = sum(1 for m in marks if m and m != texts.RECORDS_MARK_STUDIED)
        sheet.append([person.name, *(m or None for m in marks), studied, made_up,
                      len(days) - studied - made_up])
    sheet.append([texts.RECORDS_DAY_TOTAL_STUDIED, *(len(record.studied(d)) for d in days)],
                 formats["bold"])
    sheet.append([texts.RECORDS_DAY_TOTAL_MADE_UP, *(record.made_up_count(d) for d in days)],
                 formats["bold"])


def _absent_sheet(book, formats, record: MonthRecord) -> None:
    sheet = _Sheet(book, formats, texts.RECORDS_SHEET_ABSENT, record,
                   texts.RECORDS_ABSENT_HEADERS, [DATE_WIDTH, NAME_WIDTH, NAME_WIDTH, TEXT_WIDTH])
    for day in record.days:
        for person in record.not_studied(day):
            made_up = day.marks.made_up.get(person.user_id) if person.user_id else None
            state = (texts.RECORDS_STATE_MADE_UP.format(date=short_date(made_up)) if made_up
                     else texts.RECORDS_STATE_ABSENT)
            sheet.append([day.day, person.name, state, record.reason(day, person) or None])


def _question_sheet(book, formats, record: MonthRecord) -> None:
    sheet = _Sheet(book, formats, texts.RECORDS_SHEET_QUESTIONS, record,
                   texts.RECORDS_QUESTION_HEADERS,
                   [DATE_WIDTH + 6, NAME_WIDTH, TEXT_WIDTH, NUMBER_WIDTH])
    for question in record.questions:
        answered = texts.RECORDS_ANSWERED if question.answered else texts.RECORDS_NOT_ANSWERED
        sheet.append([question.asked_at.replace(tzinfo=None), question.asker or None,
                      question.text, answered], wrap_columns=(2,))


def _text(value: str) -> str:
    return _CONTROL_CHARACTERS.sub("", value)
