"""Word documents → lecture lines: paragraphs and headings from the document's own structure.

Checked before python-docx opens it: a .docx is a zip, so a renamed image, a truncated file or
a zip bomb is refused with a clear reason instead of exhausting memory.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from dataclasses import dataclass

from bot import texts

MAX_UNCOMPRESSED_BYTES = 30 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100  # real documents compress 3-10x; bombs, thousands of times
# A lecture has tens to a few hundred paragraphs; a document with more than this is not one
# lecture (a whole book, a table dumped as lines), and its preview would be unreadable.
# 20,000 paragraphs parse in well under a second (benchmarks/upload.py).
MAX_PARAGRAPHS = 20_000
_HEADING_STYLE = re.compile(r"^(heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}
_VAL = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val"


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
    """The body's paragraphs with their style names, looked up in one table built once.

    python-docx's `paragraph.style` searches every style of the document for each paragraph
    (twice for an unstyled one): 20,000 paragraphs took 8.6 s. Reading the style id from
    each paragraph's XML and the names from a dict keeps the cost linear and small.
    """
    body = document.element.body
    if body is None:
        raise DocxError(texts.DOCX_DAMAGED)
    paragraphs = body.p_lst
    if len(paragraphs) > MAX_PARAGRAPHS:
        raise DocxError(texts.DOCX_TOO_MANY_PARAGRAPHS.format(limit=MAX_PARAGRAPHS))
    names, default = _paragraph_style_names(document)
    text_parts, style_of = _compiled_paths()
    lines = []
    for paragraph in paragraphs:
        # python-docx's own text of each part (w:tab → "\t", w:br → "\n", …), in order.
        text = "".join(str(part) for part in text_parts(paragraph)).strip()
        if text:
            # Like python-docx: no style, or one that is not a paragraph style, is the default.
            name = names.get(_style_id(style_of(paragraph)), default)
            lines.append(DocLine(text, _heading_level(name)))
    return lines


@functools.cache
def _compiled_paths():
    """XPath compiled once: python-docx compiles its expressions again on every call.

    The text parts are those python-docx's `paragraph.text` joins: the runs' text elements,
    directly in the paragraph or inside a hyperlink, in document order."""
    from docx.oxml.ns import nsmap
    from lxml import etree

    kinds = ("br", "cr", "noBreakHyphen", "ptab", "t", "tab")
    parts = " | ".join(f"{parent}w:r/w:{kind}" for parent in ("", "w:hyperlink/")
                       for kind in kinds)
    return (etree.XPath(parts, namespaces=nsmap),
            etree.XPath("w:pPr/w:pStyle", namespaces=nsmap))


def _style_id(found: list) -> str | None:
    if not found:
        return None
    style_id = found[0].get(_VAL)
    if style_id is None:  # a style reference without its required value
        raise DocxError(texts.DOCX_DAMAGED)
    return style_id


def _paragraph_style_names(document) -> tuple[dict[str, str | None], str | None]:
    """{style id: name} of the paragraph styles, and the default paragraph style's name."""
    from docx.enum.style import WD_STYLE_TYPE

    styles = document.styles
    names = {style.style_id: style.name for style in styles
             if style.type == WD_STYLE_TYPE.PARAGRAPH}
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    return names, default.name if default is not None else None


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
