"""Reading a roster file an admin sends: .xlsx, or text (.tsv / .csv / .txt), one person a row.

The first column is the name, an optional second the @username. A header row (姓名, name)
is skipped, blank rows too; a name listed twice counts once. Anything unreadable is refused
with a reason in Chinese, never half-imported.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from itertools import islice
from pathlib import PurePath

from bot import texts
from bot.records.store import MAX_ROSTER_NAME_CHARS, RosterEntry

# A branch roster is tens of names, a large organisation's a few hundred: 2,000 rows and
# 512 KB leave room for both while bounding what one file can make the bot do.
MAX_ROSTER_ROWS = 2000
MAX_ROSTER_BYTES = 512 * 1024
# The same zip bomb guard as for Word lectures: real .xlsx files compress 3-10x.
MAX_UNCOMPRESSED_BYTES = 30 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
TEXT_SUFFIXES = (".tsv", ".csv", ".txt")
EXCEL_SUFFIX = ".xlsx"
_HEADER_WORDS = {"姓名", "名字", "name", "names", "成员", "党员"}
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{4,31})$")


class RosterError(ValueError):
    """Not a readable roster; the message (Chinese) says why."""


def accepts(file_name: str) -> bool:
    return PurePath(file_name.lower()).suffix in (*TEXT_SUFFIXES, EXCEL_SUFFIX)


def read_roster(file_name: str, data: bytes) -> list[RosterEntry]:
    """The entries of a roster file, in its order."""
    if not accepts(file_name):
        raise RosterError(texts.RECORDS_ROSTER_WRONG_KIND)
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(texts.RECORDS_ROSTER_TOO_LARGE.format(
            kilobytes=MAX_ROSTER_BYTES // 1024))
    rows = _excel_rows(data) if file_name.lower().endswith(EXCEL_SUFFIX) else _text_rows(data)
    try:
        return entries_from_rows(rows)
    except csv.Error as error:  # a cell over csv's field limit (128 KB), a stray quote
        raise RosterError(texts.RECORDS_ROSTER_BAD_TEXT.format(
            limit=csv.field_size_limit())) from error


def entries_from_rows(rows) -> list[RosterEntry]:
    entries, seen = [], set()
    for cells in rows:
        name, username = _person(cells)
        if not name or name in seen or (not entries and name.lower() in _HEADER_WORDS):
            continue
        if len(entries) == MAX_ROSTER_ROWS:
            raise RosterError(texts.RECORDS_ROSTER_TOO_MANY.format(limit=MAX_ROSTER_ROWS))
        seen.add(name)
        entries.append(RosterEntry(len(entries) + 1, name, username))
    return entries


def _person(cells) -> tuple[str, str | None]:
    values = [str(cell).strip() if cell is not None else "" for cell in cells]
    values = [v for v in values if v]
    if not values:
        return "", None
    name = " ".join(values[0].split())[:MAX_ROSTER_NAME_CHARS]
    match = _USERNAME.match(values[1]) if len(values) > 1 else None
    return name, match[1].lower() if match else None


def _text_rows(data: bytes):
    text = _decode(data)
    delimiter = "\t" if "\t" in text else ","
    return csv.reader(io.StringIO(text), delimiter=delimiter)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise RosterError(texts.RECORDS_ROSTER_ENCODING)


def _excel_rows(data: bytes) -> list[tuple]:
    _check_container(data)
    from openpyxl import load_workbook  # only rosters need it at run time

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            # Blank rows between names are allowed, but a sheet of a million is not read.
            rows = islice(sheet.iter_rows(values_only=True), MAX_ROSTER_ROWS * 2)
            return [row[:2] for row in rows]
        finally:
            book.close()
    except RosterError:
        raise
    except Exception as error:  # a damaged package fails inside openpyxl in many ways
        raise RosterError(texts.RECORDS_ROSTER_DAMAGED) from error


def _check_container(data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RosterError(texts.RECORDS_ROSTER_DAMAGED)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        entries = package.infolist()
        if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED_BYTES or any(
                entry.compress_size and entry.file_size / entry.compress_size
                > MAX_COMPRESSION_RATIO for entry in entries):
            raise RosterError(texts.RECORDS_ROSTER_DAMAGED)
