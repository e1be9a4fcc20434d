"""Word documents → lecture lines: paragraphs and headings from the document's own structure.

Checked before python-docx opens it: a .docx is a zip, so a renamed image, a truncated file or
a zip bomb is refused with a clear reason instead of exhausting memory.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from bot import texts

MAX_UNCOMPRESSED_BYTES = 30 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100  # real documents compress 3-10x; bombs, thousands of times
_HEADING_STYLE = re.compile(r"^(heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}


class DocxError(ValueError):
    """Not a readable Word document; the message (Chinese) says why."""


@dataclass(frozen=True)
class DocLine:
    text: str
    heading_level: int | None = None  # 1 for Heading 1 …; 0 for the Title style


def read_docx(data: bytes) -> list[DocLine]:
    _check_container(data)
    import docx  # imported here: only .docx lectures need it, and it is slow to import

    try:
        return _lines(docx.Document(io.BytesIO(data)))
    except DocxError:
        raise
    except Exception as error:  # a damaged package fails in python-docx in many ways
        raise DocxError(texts.DOCX_DAMAGED) from error


def _lines(document) -> list[DocLine]:
    lines = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if text:
            style = paragraph.style
            lines.append(DocLine(text, _heading_level(style.name if style else None)))
    return lines


def _check_container(data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocxError(texts.DOCX_NOT_WORD)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        entries = package.infolist()
        names = {entry.filename for entry in entries}
        if "word/document.xml" not in names:
            raise DocxError(texts.DOCX_NOT_WORD)
        total = sum(entry.file_size for entry in entries)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise DocxError(texts.DOCX_TOO_LARGE)
        for entry in entries:
            if entry.compress_size and entry.file_size / entry.compress_size > \
                    MAX_COMPRESSION_RATIO:
                raise DocxError(texts.DOCX_SUSPICIOUS)


def _heading_level(style_name: str | None) -> int | None:
    name = (style_name or "").strip().lower()
    if name in _TITLE_STYLES:
        return 0
    match = _HEADING_STYLE.match(name)
    return int(match[2]) if match else None
