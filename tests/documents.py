"""Word documents of any size, built fast: python-docx's add_paragraph takes about half a
millisecond each, too slow for the 20,000-paragraph uploads the tests and benchmarks send."""

from __future__ import annotations

import io
import re
import zipfile
from html import escape

import docx

HEADING_EVERY = 20  # a Heading 1 before every 20th paragraph: sections of 19 passages


def many_paragraph_docx(count: int, title: str = "大文件讲稿") -> bytes:
    """A .docx of `count` paragraphs: a Title, then Heading 1 sections of short passages."""
    paragraphs = [_paragraph(title, "Title")]
    for i in range(1, count):
        if i % HEADING_EVERY == 1:
            paragraphs.append(_paragraph(f"第{i // HEADING_EVERY + 1}部分 学习", "Heading1"))
        else:
            paragraphs.append(_paragraph(f"第{i}段:党员要认真学习党章,按时参加组织生活。"))
    return _with_body(_template(), "".join(paragraphs))


def _paragraph(text: str, style_id: str | None = None) -> str:
    style = f'<w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>' if style_id else ""
    return f"<w:p>{style}<w:r><w:t>{escape(text)}</w:t></w:r></w:p>"


def _template() -> bytes:
    """python-docx's own empty document, with its styles (Title, Heading 1, …)."""
    document = docx.Document()
    document.add_paragraph("", style="Title")
    document.add_paragraph("", style="Heading 1")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _with_body(template: bytes, paragraphs: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "word/document.xml":
                content = re.sub(rb"<w:body>.*?(<w:sectPr)", b"<w:body>" +
                                 paragraphs.encode() + rb"\1", content, flags=re.S)
            package.writestr(entry.filename, content)
    return out.getvalue()
