"""The lecture parser: the shipped lecture exactly, other styles, encodings, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.lectures import (
    LectureError,
    chinese_numeral,
    heading_lead,
    load_library,
    parse_lecture,
    read_lecture,
    split_sentences,
)
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID, SHARED_LECTURE, write_lecture
from tests.documents import many_paragraph_docx


def test_knowledge_copy_is_the_shared_lecture_verbatim():
    assert (KNOWLEDGE_DIR / SHARED_LECTURE.name).read_bytes() == SHARED_LECTURE.read_bytes()


def test_shipped_lecture_has_six_paragraphs_and_the_missing_section_two():
    lecture = read_lecture(SHARED_LECTURE)
    assert lecture.title == "党课:发挥模范带头作用 规范网络行为"
    assert lecture.meta == "更新时间:2024-08 来源:网友投稿"
    assert [p.passage_id.split(":")[1] for p in lecture.passages] == [
        "0.1", "1.1", "1.2", "3.1", "3.2", "3.3"]
    assert [s.number for s in lecture.sections] == [0, 1, 3]
    (gap,) = lecture.gaps
    assert gap.missing_section_nos == (2,)
    assert gap.chars == 2928
    texts = [p.text for p in lecture.passages]
    assert not any("此处隐藏" in t or "谢谢大家" in t or "更新时间" in t for t in texts)
    raw_lines = SHARED_LECTURE.read_text(encoding="utf-8").splitlines()
    assert all(t in raw_lines for t in texts), "every passage is a verbatim line of the file"


def test_citation_is_readable():
    passage = read_lecture(SHARED_LECTURE).passages[4]
    assert passage.citation == "《党课:发挥模范带头作用 规范网络行为》· 三、聚力攻坚… · 第2段"
    assert read_lecture(SHARED_LECTURE).passages[0].citation.endswith("· 开篇 · 第1段")


def test_sentences_cover_the_paragraph_exactly():
    for passage in read_lecture(SHARED_LECTURE).passages:
        assert "".join(passage.sentences) == passage.text
        assert len(passage.sentences) >= 3
    assert split_sentences("他说:“好。”然后走了。") == ((0, 7), (7, 12))


def test_plain_lecture_with_year_opening_paragraph(tmp_path: Path):
    path = write_lecture(tmp_path, "plain.txt",
                         "标题\n\n2024年是关键的一年,我们要学习。\n\n第二段内容。\n")
    lecture = read_lecture(path)
    assert lecture.meta == ""
    assert [p.text for p in lecture.passages] == ["2024年是关键的一年,我们要学习。", "第二段内容。"]


@pytest.mark.parametrize("heading_a, heading_b", [
    ("（一）加强学习", "（二）严守纪律"),
    ("第一部分 加强学习", "第二部分 严守纪律"),
    ("一、加强学习", "二、严守纪律"),
])
def test_heading_styles(tmp_path: Path, heading_a: str, heading_b: str):
    text = f"标题\n作者:某某\n{heading_a}\n第一段。\n{heading_b}\n第二段。\n谢谢大家!\n"
    lecture = read_lecture(write_lecture(tmp_path, "styles.md", text))
    assert [s.number for s in lecture.sections] == [1, 2]
    assert [p.section_heading for p in lecture.passages] == [heading_a, heading_b]
    assert lecture.meta == "作者:某某"


def test_inner_headings_stay_text_when_an_outer_style_exists(tmp_path: Path):
    text = "标题\n一、总则\n（一）学习\n内容一。\n二、分则\n内容二。\n"
    lecture = read_lecture(write_lecture(tmp_path, "nested.txt", text))
    assert [s.number for s in lecture.sections] == [1, 2]


def test_gb18030_and_bom(tmp_path: Path):
    text = "标题\n\n网络行为要规范。\n"
    assert read_lecture(write_lecture(tmp_path, "gbk.txt", text, "gb18030")).passages[0].text \
        == "网络行为要规范。"
    assert read_lecture(write_lecture(tmp_path, "bom.txt", text, "utf-8-sig")).title == "标题"


@pytest.mark.parametrize("content, reason", [
    (b"", "空"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "二进制"),
    ("只有标题\n".encode(), "没有找到正文"),
    (b"\xff\xfe\xfd\xfc" * 50, "编码"),
])
def test_broken_files_fail_clearly_and_others_still_load(tmp_path: Path, content, reason):
    (tmp_path / "bad.txt").write_bytes(content)
    write_lecture(tmp_path, "good.txt", "好标题\n\n一段内容。\n")
    library = load_library(tmp_path)
    assert [lec.title for lec in library.lectures] == ["好标题"]
    (failure,) = library.failures
    assert failure.path.name == "bad.txt" and reason in failure.reason


def test_a_folder_readme_is_not_a_lecture(tmp_path: Path):
    """The lecture folder's README (as ../shared/lectures has) describes the files: members
    must never be quoted from it."""
    readme = "# The lecture\n\nLine 1 is the title; the source is incomplete.\n"
    for name in ("README.md", "readme.txt", "LICENSE.txt", "CHANGELOG.md", ".notes.txt"):
        (tmp_path / name).write_text(readme, encoding="utf-8")
    write_lecture(tmp_path, "讲稿.md", "好标题\n\n一段内容。\n")
    write_lecture(tmp_path, "readme学习笔记.txt", "笔记标题\n\n另一段内容。\n")
    # nobody writes a folder's README in Word: a lecture of that name stays a lecture
    (tmp_path / "README.docx").write_bytes(many_paragraph_docx(3, title="文档标题"))
    library = load_library(tmp_path)
    assert sorted(lec.title for lec in library.lectures) == ["好标题", "文档标题", "笔记标题"]
    assert library.failures == ()


def test_parse_rejects_empty_text():
    with pytest.raises(LectureError):
        parse_lecture("\n\n", Path("x.txt"))


def test_chinese_numerals():
    assert [chinese_numeral(t) for t in ("一", "十", "十二", "二十三", "7", "x")] == \
        [1, 10, 12, 23, 7, None]


def test_library_lookup(knowledge):
    library = knowledge.library
    assert library.passage(f"{LECTURE_ID}:3.2").paragraph_no == 2
    assert library.passage("nope:1.1") is None


@pytest.mark.parametrize("heading, lead", [
    ("一、统一思想,深刻领会新时代的重要意义", "统一思想"),
    ("第二部分 压实责任:层层传导压力", "压实责任"),
    ("（三）加强网上网下联动", "加强网上网下联动"),
    ("开篇", "开篇"),
])
def test_heading_lead_is_the_first_clause_without_its_number(heading, lead):
    assert heading_lead(heading) == lead
