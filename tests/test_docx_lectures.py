"""Word (.docx) lectures: structure from the document's styles, refusals, and the whole path
from a knowledge folder to `lecture-bot inspect` and `lecture-bot ask`.

Every document is built here with python-docx, the way Word would save it.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from bot.cli import main
from bot.core import docx_reader
from bot.core.lectures import LectureError, lecture_from_bytes, load_library, parse_lecture
from tests.conftest import KNOWLEDGE_DIR, SHARED_LECTURE
from tests.documents import many_paragraph_docx

TITLE = "党课:学习新党章"
Paragraphs = list[tuple[str, str | None]]  # (text, style name or None for Normal)

NEW_LECTURE: Paragraphs = [
    (TITLE, "Title"),
    ("来源:支部整理", None),
    ("今天我们一起学习新修订的党章。", None),
    ("认真学习党章", "Heading 1"),
    ("党章是立党治党管党的总章程,每名党员都要逐条学习。", None),
    ("严守组织纪律", "Heading 1"),
    ("党员要按时参加组织生活,按期交纳党费。", None),
    ("党员的组织关系要及时转接,不做“口袋党员”。", None),
    ("发挥先锋作用:在岗位上当表率", "Heading 1"),
    ("党员要在急难险重任务中冲锋在前。", None),
]


def docx_bytes(paragraphs: Paragraphs) -> bytes:
    document = docx.Document()
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The package with each entry passed through `change` (None drops the entry)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for entry in source.infolist():
            content = change(entry.filename, source.read(entry.filename))
            if content is not None:
                package.writestr(entry.filename, content)
    return out.getvalue()


def parse(paragraphs: Paragraphs, name: str = "new.docx"):
    return lecture_from_bytes(Path(name), docx_bytes(paragraphs))


def sections_of(lecture) -> list[tuple[int, str, list[str]]]:
    return [(s.number, s.heading, [p.text for p in s.passages]) for s in lecture.sections]


# --- structure ----------------------------------------------------------------------------


def test_title_and_heading_1_sections_are_numbered_in_order_with_headings_verbatim():
    lecture = parse(NEW_LECTURE)
    assert lecture.title == TITLE
    assert lecture.meta == "来源:支部整理"
    assert sections_of(lecture) == [
        (0, "开篇", ["今天我们一起学习新修订的党章。"]),
        (1, "认真学习党章", ["党章是立党治党管党的总章程,每名党员都要逐条学习。"]),
        (2, "严守组织纪律", ["党员要按时参加组织生活,按期交纳党费。",
                             "党员的组织关系要及时转接,不做“口袋党员”。"]),
        (3, "发挥先锋作用:在岗位上当表率", ["党员要在急难险重任务中冲锋在前。"]),
    ]
    assert [p.passage_id for p in lecture.passages] == [
        "new:0.1", "new:1.1", "new:2.1", "new:2.2", "new:3.1"]
    assert lecture.passages[2].citation == "《党课:学习新党章》· 严守组织纪律 · 第1段"
    assert lecture.passages[4].section_label == "发挥先锋作用…"
    assert lecture.gaps == () and lecture.warnings == ()


def test_the_title_style_wins_over_the_first_line():
    lecture = parse([("内部资料 注意保存", None), (TITLE, "Title"),
                     ("严守组织纪律", "Heading 1"), ("党员要按期交纳党费。", None)])
    assert lecture.title == TITLE
    assert [p.text for p in lecture.passages] == ["内部资料 注意保存", "党员要按期交纳党费。"]


def test_without_a_title_style_the_first_paragraph_is_the_title():
    lecture = parse([(TITLE, None), ("严守组织纪律", "Heading 1"), ("党员要按期交纳党费。", None)])
    assert lecture.title == TITLE
    assert sections_of(lecture) == [(1, "严守组织纪律", ["党员要按期交纳党费。"])]


def test_headings_with_their_own_numbering_keep_that_number():
    lecture = parse([
        (TITLE, "Title"),
        ("一、认真学习党章", "Heading 1"), ("党章是总章程。", None),
        ("三、发挥先锋作用", "Heading 1"), ("党员要冲锋在前。", None),
        ("（五）加强作风建设", "Heading 1"), ("党员要密切联系群众。", None),
        ("第七部分 总结", "Heading 1"), ("总结全文。", None),
    ])
    assert [(s.number, s.heading) for s in lecture.sections] == [
        (1, "一、认真学习党章"), (3, "三、发挥先锋作用"), (5, "（五）加强作风建设"),
        (7, "第七部分 总结")]
    assert [p.passage_id for p in lecture.passages] == ["new:1.1", "new:3.1", "new:5.1", "new:7.1"]
    assert lecture.passages[1].citation == "《党课:学习新党章》· 三、发挥先锋作用 · 第1段"


def test_unnumbered_headings_continue_after_the_highest_number():
    lecture = parse([(TITLE, "Title"), ("三、发挥先锋作用", "Heading 1"), ("内容三。", None),
                     ("结束语", "Heading 1"), ("内容四。", None)])
    assert [(s.number, s.heading) for s in lecture.sections] == [(3, "三、发挥先锋作用"),
                                                                  (4, "结束语")]


def test_heading_2_sub_headings_are_neither_sections_nor_passages():
    lecture = parse([
        (TITLE, "Title"),
        ("一、总体要求", "Heading 1"),
        ("（一）学习要求", "Heading 2"), ("每月集中学习一次。", None),
        ("（二）纪律要求", "Heading 2"), ("严格遵守请假制度。", None),
        ("细则", "Heading 3"), ("请假须提前一天。", None),
        ("二、保障措施", "Heading 1"), ("支部书记负总责。", None),
    ])
    assert sections_of(lecture) == [
        (1, "一、总体要求", ["每月集中学习一次。", "严格遵守请假制度。", "请假须提前一天。"]),
        (2, "二、保障措施", ["支部书记负总责。"]),
    ]
    texts = [p.text for p in lecture.passages]
    assert not any(sub in texts for sub in ("（一）学习要求", "（二）纪律要求", "细则"))


def test_heading_2_is_the_section_level_when_there_is_no_heading_1():
    lecture = parse([(TITLE, "Title"), ("学习要求", "Heading 2"), ("每月集中学习一次。", None),
                     ("纪律要求", "Heading 2"), ("严格遵守请假制度。", None)])
    assert [(s.number, s.heading) for s in lecture.sections] == [(1, "学习要求"), (2, "纪律要求")]


def test_a_document_without_heading_styles_is_parsed_like_the_text_lecture():
    text = SHARED_LECTURE.read_text(encoding="utf-8")
    paragraphs: Paragraphs = [(line, None) for line in text.splitlines() if line.strip()]
    from_docx = lecture_from_bytes(Path("party.docx"), docx_bytes(paragraphs))
    from_text = parse_lecture(text, Path("party.txt"))
    assert from_docx.title == from_text.title == "党课:发挥模范带头作用 规范网络行为"
    assert from_docx.meta == from_text.meta
    assert sections_of(from_docx) == sections_of(from_text)
    assert [s.number for s in from_docx.sections] == [0, 1, 3]
    assert [(g.missing_section_nos, g.chars) for g in from_docx.gaps] == [((2,), 2928)]
    assert [(g.marker, g.missing_section_nos) for g in from_docx.gaps] == \
        [(g.marker, g.missing_section_nos) for g in from_text.gaps]
    assert [p.citation for p in from_docx.passages] == [p.citation for p in from_text.passages]
    assert not any("谢谢大家" in p.text for p in from_docx.passages)


def test_a_withheld_text_paragraph_becomes_a_gap():
    lecture = parse([
        (TITLE, "Title"),
        ("一、认真学习党章", "Heading 1"), ("党章是总章程。", None),
        ("……此处隐藏500字……", None),
        ("三、发挥先锋作用", "Heading 1"), ("党员要冲锋在前。", None),
    ])
    (gap,) = lecture.gaps
    assert (gap.after_section_no, gap.missing_section_nos, gap.chars) == (1, (2,), 500)
    assert gap.marker == "……此处隐藏500字……"
    assert [p.text for p in lecture.passages] == ["党章是总章程。", "党员要冲锋在前。"]
    assert lecture.missing_section_nos == (2,)


def test_word_whitespace_and_empty_paragraphs_are_cleaned():
    lecture = parse([(TITLE, "Title"), ("", None), ("\u3000\u3000党员要按期交纳党费。  ", None),
                     ("   ", None), ("严守纪律", "Heading 1"), ("\u3000按时参加组织生活。", None)])
    assert sections_of(lecture) == [(0, "开篇", ["党员要按期交纳党费。"]),
                                    (1, "严守纪律", ["按时参加组织生活。"])]


# --- refusals -----------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in entries.items():
            package.writestr(name, content)
    return buffer.getvalue()


def _image() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


def _zip_without_document() -> bytes:
    return rewritten(docx_bytes(NEW_LECTURE),
                     lambda name, content: None if name == "word/document.xml" else content)


def _zip_bomb() -> bytes:
    return _zip({"word/document.xml": b"\x00" * 40_000_000})


def _truncated() -> bytes:
    data = docx_bytes(NEW_LECTURE)
    return data[: len(data) // 2]


def _corrupted_entry() -> bytes:
    """The zip directory is intact but document.xml's compressed bytes are garbage."""
    data = bytearray(docx_bytes(NEW_LECTURE))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start:start + info.compress_size] = b"\xff" * info.compress_size
    return bytes(data)


@pytest.mark.parametrize("name, make, reason", [
    ("照片.docx", _image, "不是 Word"),
    ("no-document.docx", _zip_without_document, "不是 Word"),
    ("bomb.docx", _zip_bomb, "解压后过大"),
    ("truncated.docx", _truncated, ""),
    ("corrupted.docx", _corrupted_entry, "损坏"),
    ("empty.docx", lambda: b"", "不是 Word"),
    ("text.docx", lambda: "党课:学习新党章\n一、学习\n内容。\n".encode(), "不是 Word"),
])
def test_broken_documents_are_refused_with_a_lecture_error_naming_the_file(
        tmp_path: Path, name: str, make, reason: str):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(LectureError) as raised:
        lecture_from_bytes(path, path.read_bytes())
    error = raised.value
    assert error.path == path and str(error).startswith(f"{name}: ")
    assert reason in error.reason and error.reason
    library = load_library(tmp_path)
    assert library.lectures == ()
    assert [(f.path.name, f.reason) for f in library.failures] == [(name, error.reason)]


def test_a_zip_bomb_is_refused_before_it_is_inflated(monkeypatch):
    data = _zip_bomb()
    assert len(data) < 100_000  # 40 MB of zeros deflates to about 40 kB

    def no_reading(*args, **kwargs):
        raise AssertionError("the bomb was opened")

    monkeypatch.setattr(zipfile.ZipFile, "read", no_reading)
    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    with pytest.raises(LectureError, match="解压后过大"):
        lecture_from_bytes(Path("bomb.docx"), data)


def test_a_small_but_highly_compressed_entry_is_refused():
    data = _zip({"word/document.xml": b"\x00" * 5_000_000})
    with pytest.raises(LectureError, match="压缩比异常"):
        lecture_from_bytes(Path("ratio.docx"), data)


def _unnamed_style(data: bytes) -> bytes:
    return rewritten(data, lambda name, content: content.replace(b'<w:name w:val="Title"/>', b"")
                     if name == "word/styles.xml" else content)


def _style_reference_without_value(data: bytes) -> bytes:
    return rewritten(data, lambda name, content: content.replace(
        b'<w:pStyle w:val="Heading1"/>', b"<w:pStyle/>") if name == "word/document.xml"
        else content)


def _no_body(data: bytes) -> bytes:
    return rewritten(data, lambda name, content: re.sub(rb"<w:body>.*</w:body>", b"", content,
                                                        flags=re.S)
                     if name == "word/document.xml" else content)


@pytest.mark.parametrize("damage", [_style_reference_without_value, _no_body])
def test_a_damaged_document_part_is_one_reported_failure(tmp_path: Path, damage):
    """A package that opens but whose parts are damaged fails while its paragraphs are read
    (a <w:pStyle> without w:val, a document without <w:body>): load_library reports that
    one file and still loads the others."""
    (tmp_path / "good.txt").write_text("好标题\n\n一段内容。\n", encoding="utf-8")
    (tmp_path / "damaged.docx").write_bytes(damage(docx_bytes(NEW_LECTURE)))
    library = load_library(tmp_path)
    assert [lec.title for lec in library.lectures] == ["好标题"]
    assert [f.path.name for f in library.failures] == ["damaged.docx"]


def test_a_style_without_a_name_is_just_not_a_heading(tmp_path: Path):
    (tmp_path / "odd.docx").write_bytes(_unnamed_style(docx_bytes(NEW_LECTURE)))
    library = load_library(tmp_path)
    assert library.failures == ()
    assert library.lectures[0].passages


# --- a knowledge folder with a .docx: load_library, inspect, ask ---------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    (target / "新党章.docx").write_bytes(docx_bytes(NEW_LECTURE))
    return target


def test_load_library_sees_a_docx_dropped_into_the_knowledge_folder(folder: Path):
    library = load_library(folder)
    assert [(lec.path.name, lec.title) for lec in library.lectures] == [
        ("party-lecture-online-conduct.txt", "党课:发挥模范带头作用 规范网络行为"),
        ("新党章.docx", TITLE)]
    assert library.failures == ()
    lecture = library.lecture("新党章")
    assert lecture is not None and len(lecture.passages) == 5
    assert library.passage("新党章:2.1").text == "党员要按时参加组织生活,按期交纳党费。"


def test_inspect_lists_the_docx_lecture(folder: Path, capsys):
    assert main(["inspect", "--knowledge", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"《{TITLE}》 文件:新党章.docx  段落:5" in out
    assert "  信息:来源:支部整理" in out
    assert "  [2] 严守组织纪律(2段)" in out
    assert "  [3] 发挥先锋作用:在岗位上当表率(1段)" in out
    assert "《党课:发挥模范带头作用 规范网络行为》 文件:party-lecture-online-conduct.txt" in out


def test_ask_json_answers_from_the_docx_lecture(folder: Path, capsys):
    assert main(["ask", "--json", "--knowledge", str(folder), "党费要按期交吗"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["answered"] is True
    first = result["results"][0]
    assert first["passage_id"] == "新党章:2.1"
    assert first["lecture"] == TITLE and first["section"] == "严守组织纪律"
    assert first["text"] == "党员要按时参加组织生活,按期交纳党费。"
    assert first["citation"] == "《党课:学习新党章》· 严守组织纪律 · 第1段"
    assert "警告" not in captured.err


def test_a_broken_docx_beside_it_is_named_by_inspect_and_the_others_still_load(
        folder: Path, capsys):
    (folder / "坏文件.docx").write_bytes(_image())
    (folder / "截断.docx").write_bytes(_truncated())
    assert main(["inspect", "--knowledge", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "坏文件.docx" in out and "截断.docx" in out
    failure_lines = [line for line in out.splitlines() if "坏文件.docx" in line]
    assert len(failure_lines) == 1 and "不是 Word" in failure_lines[0]
    assert f"《{TITLE}》 文件:新党章.docx  段落:5" in out
    assert "《党课:发挥模范带头作用 规范网络行为》" in out
    library = load_library(folder)
    assert len(library.lectures) == 2
    assert sorted(f.path.name for f in library.failures) == ["坏文件.docx", "截断.docx"]

    assert main(["ask", "--json", "--knowledge", str(folder), "党费要按期交吗"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["results"][0]["passage_id"] == "新党章:2.1"
    assert "坏文件.docx" in captured.err  # ask warns about it on stderr, and still answers


# --- size ------------------------------------------------------------------------------------


def test_a_document_over_the_paragraph_cap_is_refused_with_a_clear_reason(monkeypatch):
    monkeypatch.setattr(docx_reader, "MAX_PARAGRAPHS", len(NEW_LECTURE))
    assert parse(NEW_LECTURE).title == TITLE, "at the cap: read"
    with pytest.raises(LectureError) as refused:
        parse(NEW_LECTURE + [("多出的一段。", None)])
    assert refused.value.reason == (f"Word 文件段落太多(超过 {len(NEW_LECTURE)} 段),"
                                    "请拆成几篇讲稿再上传")


def test_a_large_document_keeps_its_styles_and_every_paragraph():
    lecture = lecture_from_bytes(Path("big.docx"), many_paragraph_docx(2_000))
    assert lecture.title == "大文件讲稿"
    assert len(lecture.sections) == 100 and len(lecture.passages) == 1_899
    assert lecture.sections[0].heading == "第1部分 学习"
    assert lecture.passages[-1].text == "第1999段:党员要认真学习党章,按时参加组织生活。"
