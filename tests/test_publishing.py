"""Lecture uploads as files: check, stage, publish atomically, discard, retire (bot.publishing).

Pure file work on a private copy of the knowledge folder; no Telegram. The chat flow on top of
these functions is tested end to end in test_lectures_e2e.py.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import time
import zipfile
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest

from bot.core.lectures import (
    MAX_PASSAGE_CHARS,
    Lecture,
    lecture_files,
    load_library,
    read_lecture,
)
from bot.core.render import MAX_MESSAGE_LENGTH
from bot.publishing import files as publishing
from bot.publishing.files import (
    MAX_PREVIEW_ITEMS,
    MAX_UPLOAD_BYTES,
    RETIRED_DIR,
    STAGING_DIR,
    LectureIdTaken,
    UploadError,
    check_upload,
    discard,
    preview_text,
    publish,
    retire,
    safe_file_name,
    stage,
    stage_for_preview,
)
from bot.publishing.worker import ParseWorker
from tests.conftest import KNOWLEDGE_DIR, SHARED_LECTURE

SHIPPED_TITLE = "党课:发挥模范带头作用 规范网络行为"
NEW_LECTURE = (
    "党课:学习新党章\n\n来源:支部整理\n\n一、认真学习党章\n"
    "党章是立党治党管党的总章程,每名党员都要逐条学习。\n"
    "二、严守组织纪律\n党员要按时参加组织生活,按期交纳党费。\n"
)
SAFE_NAME = re.compile(r"^[\w\u4e00-\u9fff.\-]+$")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the knowledge folder: staging and publishing write into it."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def visible_files(folder: Path) -> set[str]:
    """Every file under `folder` outside the staging folder, relative to it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and STAGING_DIR not in p.relative_to(folder).parts}


def staged_files(folder: Path) -> set[str]:
    staging = folder / STAGING_DIR
    return {p.name for p in staging.iterdir()} if staging.is_dir() else set()


def stage_text(folder: Path, name: str, text: str, encoding: str = "utf-8"):
    return stage(folder, name, text.encode(encoding), load_library(folder))


def shape(lecture: Lecture) -> tuple:
    """What a reader sees of a lecture, independent of its file name and id."""
    return (lecture.title, lecture.meta, lecture.warnings,
            [(s.number, s.heading, [p.text for p in s.passages]) for s in lecture.sections],
            [(g.after_section_no, g.missing_section_nos, g.chars, g.marker)
             for g in lecture.gaps],
            [p.citation for p in lecture.passages])


# --- check_upload and safe_file_name ------------------------------------------------------


@pytest.mark.parametrize("name", ["slides.pptx", "lecture.doc", "scan.pdf", "photo.png",
                                  "README", "lecture.txt.exe", "archive.zip", ".txt"])
def test_check_upload_refuses_other_suffixes(name: str):
    with pytest.raises(UploadError, match="只接受"):
        check_upload(name, 100)


@pytest.mark.parametrize("name, expected", [
    ("讲稿.txt", "讲稿.txt"), ("讲稿.MD", "讲稿.md"), ("Lecture.DOCX", "Lecture.docx")])
def test_check_upload_accepts_lecture_suffixes_in_any_case(name: str, expected: str):
    assert check_upload(name, 100) == expected
    assert check_upload(name, None) == expected  # Telegram may not tell the size


def test_check_upload_refuses_more_than_2_mb_from_the_size_alone():
    assert MAX_UPLOAD_BYTES == 2 * 1024 * 1024
    assert check_upload("big.txt", MAX_UPLOAD_BYTES) == "big.txt"
    with pytest.raises(UploadError, match="文件太大"):
        check_upload("big.txt", MAX_UPLOAD_BYTES + 1)
    # The suffix is checked first: a big file of the wrong kind says what is accepted.
    with pytest.raises(UploadError, match="只接受"):
        check_upload("big.pdf", 50 * 1024 * 1024)


def test_stage_refuses_more_than_2_mb_of_data_and_writes_nothing(folder: Path):
    before = visible_files(folder)
    with pytest.raises(UploadError, match="文件太大"):
        stage(folder, "big.txt", b"x" * (MAX_UPLOAD_BYTES + 1), load_library(folder))
    assert visible_files(folder) == before and staged_files(folder) == set()


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\讲稿.docx", "讲稿.docx"),
    ("C:\\Users\\admin\\桌面\\党课讲稿.docx", "党课讲稿.docx"),
    ("讲稿 (终稿)*?<>|:.TXT", "讲稿_终稿.txt"),
    ("党课:规范网络行为.md", "党课_规范网络行为.md"),
    ("2024年 第3期 党课.txt", "2024年_第3期_党课.txt"),
    (".hidden.txt", "hidden.txt"),
    ("???.txt", "lecture.txt"),
    ("..txt", "lecture.txt"),
    # a lecture uploaded as README.md would be skipped as the folder's README
    ("README.md", "README_lecture.md"),
    ("readme.txt", "readme_lecture.txt"),
    ("README.docx", "README.docx"),  # a Word document of that name is a lecture
])
def test_safe_file_name(name: str, expected: str):
    assert safe_file_name(name) == expected


@pytest.mark.parametrize("name", ["", "/", "...", "../..", "???", "\x00\n\t", "..\\..\\",
                                  "\u202etxt.exe", "a" * 300 + ".md", "讲" * 300 + ".docx"])
def test_safe_file_name_is_never_empty_hidden_or_a_path(name: str):
    safe = safe_file_name(name)
    assert safe and SAFE_NAME.match(safe), safe
    assert not safe.startswith(".") and "/" not in safe and "\\" not in safe
    assert safe not in (".", "..")
    assert len(Path(safe).stem) <= 80


def test_safe_file_name_keeps_chinese_and_the_suffix():
    assert safe_file_name("学习贯彻党的二十大精神.docx") == "学习贯彻党的二十大精神.docx"
    long = safe_file_name("网络行为" * 50 + ".txt")
    assert long.endswith(".txt") and set(Path(long).stem) == set("网络行为")


# --- stage: the preview, and nothing published yet ----------------------------------------


def test_stage_returns_a_preview_and_writes_only_under_staging(folder: Path):
    before = visible_files(folder)
    preview = stage_text(folder, "../新党章.txt", NEW_LECTURE)
    assert preview.file_name == "新党章.txt"
    assert preview.lecture.title == "党课:学习新党章"
    assert [p.text for p in preview.lecture.passages] == [
        "党章是立党治党管党的总章程,每名党员都要逐条学习。",
        "党员要按时参加组织生活,按期交纳党费。"]
    assert [s.heading for s in preview.lecture.sections] == ["一、认真学习党章", "二、严守组织纪律"]
    assert preview.replaces is False and preview.warnings == ()
    assert re.fullmatch(r"[0-9a-f]{12}", preview.token)
    assert staged_files(folder) == {f"{preview.token}.txt", f"{preview.token}.name"}
    assert (folder / STAGING_DIR / f"{preview.token}.txt").read_bytes() == NEW_LECTURE.encode()
    assert visible_files(folder) == before, "nothing outside .staging before 发布"
    assert not (folder.parent / "新党章.txt").exists()
    assert [lec.title for lec in load_library(folder).lectures] == [SHIPPED_TITLE]


def test_stage_of_a_file_that_fails_to_parse_writes_nothing(folder: Path):
    before = visible_files(folder)
    for name, data in [("empty.txt", b""), ("binary.txt", b"\x00\x01" * 50),
                       ("title-only.md", "只有标题\n".encode()), ("photo.docx", b"\x89PNG\r\n")]:
        with pytest.raises(UploadError):
            stage(folder, name, data, load_library(folder))
    assert visible_files(folder) == before and staged_files(folder) == set()


def test_preview_says_when_it_replaces_a_lecture_of_the_same_name(folder: Path):
    text = SHARED_LECTURE.read_text(encoding="utf-8").replace("谢谢大家", "谢谢各位")
    preview = stage_text(folder, SHARED_LECTURE.name, text)
    assert preview.replaces is True
    # Replacing a file is not a duplicate of itself.
    assert not any("标题与已有讲稿相同" in w for w in preview.warnings)


def test_preview_says_how_a_too_long_paragraph_is_split(folder: Path):
    long = "党员要规范网络行为,发挥模范带头作用。" * (MAX_PASSAGE_CHARS // 8)
    assert len(long) > 2 * MAX_PASSAGE_CHARS
    text = f"长讲稿\n一、很长的一段\n{long}\n二、短的\n短段落。\n"
    preview = stage_text(folder, "long.txt", text)
    (warning,) = preview.warnings
    assert "一、很长的一段" in warning and f"太长({len(long)}字)" in warning
    assert "在句末拆成 3 段" in warning and warning in preview_text(preview)
    first = preview.lecture.sections[0].passages
    assert len(first) == 3 and "".join(p.text for p in first) == long
    assert all(len(p.text) <= MAX_PASSAGE_CHARS and p.text.endswith("。") for p in first)


def test_preview_warns_of_a_duplicate_title(folder: Path):
    preview = stage_text(folder, "copy.txt", f"{SHIPPED_TITLE}\n一、学习\n内容。\n")
    assert preview.replaces is False
    assert preview.warnings == (f"标题与已有讲稿相同({SHARED_LECTURE.name})",)


def test_preview_warns_of_an_empty_section(folder: Path):
    text = "讲稿乙\n一、有内容\n内容一。\n二、空的一节\n三、又有内容\n内容三。\n"
    preview = stage_text(folder, "empty-section.txt", text)
    assert preview.warnings == ("章节没有正文:二、空的一节",)
    assert [s.number for s in preview.lecture.sections] == [1, 2, 3]


def test_gb18030_and_utf8_bom_uploads_parse_like_utf8(folder: Path):
    text = SHARED_LECTURE.read_text(encoding="utf-8")
    previews = {encoding: stage_text(folder, f"{encoding}.txt", text, encoding)
                for encoding in ("utf-8", "gb18030", "utf-8-sig")}
    assert len({p.token for p in previews.values()}) == 3, "different bytes, different tokens"
    utf8 = shape(previews["utf-8"].lecture)
    assert shape(previews["gb18030"].lecture) == utf8
    assert shape(previews["utf-8-sig"].lecture) == utf8
    assert utf8[0] == SHIPPED_TITLE and not utf8[0].startswith("\ufeff")
    # Published, they load into the library exactly as the shipped UTF-8 file does.
    shipped = shape(read_lecture(SHARED_LECTURE))
    for encoding, preview in previews.items():
        path = publish(folder, preview.token)
        assert path.read_bytes() == text.encode(encoding)
        assert shape(read_lecture(path)) == shipped


# --- publish ------------------------------------------------------------------------------


def test_publish_moves_the_staged_file_in_one_rename(folder: Path, monkeypatch):
    data = NEW_LECTURE.encode()
    preview = stage(folder, "新党章.txt", data, load_library(folder))
    staged = folder / STAGING_DIR / f"{preview.token}.txt"
    staged_inode = staged.stat().st_ino
    renames = []
    real_replace = os.replace

    def watched_replace(source, target):
        # At the moment of the rename the source is complete and the target not there yet.
        assert Path(source).read_bytes() == data
        assert not Path(target).exists()
        renames.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(publishing.os, "replace", watched_replace)
    path = publish(folder, preview.token)
    assert path == folder / "新党章.txt"
    assert renames == [(staged, path)]
    assert path.read_bytes() == data
    assert path.stat().st_ino == staged_inode, "a move on the same file system, not a copy"
    assert staged_files(folder) == set(), "the staged file and its name are gone"
    assert not [p for p in folder.rglob("*") if p.name.startswith(".tmp")]
    assert [lec.title for lec in load_library(folder).lectures] == [
        SHIPPED_TITLE, "党课:学习新党章"]


def test_publish_over_an_existing_lecture_replaces_it(folder: Path):
    text = SHARED_LECTURE.read_text(encoding="utf-8").replace("9918.5万", "9900万")
    preview = stage_text(folder, SHARED_LECTURE.name, text)
    path = publish(folder, preview.token)
    assert path == folder / SHARED_LECTURE.name
    assert path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in lecture_files(folder)) == [SHARED_LECTURE.name]


def test_publish_a_docx(folder: Path):
    document = docx.Document()
    document.add_paragraph("党课:学习新党章", style="Title")
    document.add_paragraph("严守组织纪律", style="Heading 1")
    document.add_paragraph("党员要按时参加组织生活,按期交纳党费。")
    buffer = io.BytesIO()
    document.save(buffer)
    preview = stage(folder, "新党章.DOCX", buffer.getvalue(), load_library(folder))
    assert preview.file_name == "新党章.docx"
    assert staged_files(folder) == {f"{preview.token}.docx", f"{preview.token}.name"}
    path = publish(folder, preview.token)
    assert path.read_bytes() == buffer.getvalue()
    assert read_lecture(path).passages[0].citation == "《党课:学习新党章》· 严守组织纪律 · 第1段"


@pytest.mark.parametrize("token", [
    "0123456789ab",  # well formed, never staged
    "", "*", "../../etc/pa", "0123456789AB", "0123456789abc", "0123456789a", "01234567 9ab",
    "0123456789ab/../x", "0123456789ab.name",
])
def test_publish_refuses_an_unknown_or_malformed_token(folder: Path, token: str):
    stage_text(folder, "new.txt", NEW_LECTURE)
    before = visible_files(folder)
    with pytest.raises(UploadError, match="已失效"):
        publish(folder, token)
    assert visible_files(folder) == before


def test_publish_twice_is_refused_the_second_time(folder: Path):
    preview = stage_text(folder, "new.txt", NEW_LECTURE)
    publish(folder, preview.token)
    with pytest.raises(UploadError, match="已失效"):
        publish(folder, preview.token)


def test_publish_refuses_a_token_whose_staged_file_is_missing(folder: Path):
    preview = stage_text(folder, "new.txt", NEW_LECTURE)
    (folder / STAGING_DIR / f"{preview.token}.txt").unlink()
    with pytest.raises(UploadError, match="已失效"):
        publish(folder, preview.token)
    assert not (folder / "new.txt").exists()


def test_publish_keeps_a_tampered_staged_name_inside_the_folder(folder: Path):
    preview = stage_text(folder, "new.txt", NEW_LECTURE)
    (folder / STAGING_DIR / f"{preview.token}.name").write_text("../../outside.txt",
                                                                 encoding="utf-8")
    assert publish(folder, preview.token) == folder / "outside.txt"
    assert not (folder.parent / "outside.txt").exists()


def test_staging_survives_a_restart(folder: Path):
    """The 发布 button of a preview still works with nothing but the folder (a new process)."""
    preview = stage_text(folder, "new.txt", NEW_LECTURE)
    assert publish(Path(str(folder)), preview.token).read_text(encoding="utf-8") == NEW_LECTURE


def test_a_failed_staging_write_leaves_no_temporary_file(folder: Path, monkeypatch):
    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    before = visible_files(folder)
    monkeypatch.setattr(publishing.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        stage_text(folder, "new.txt", NEW_LECTURE)
    assert staged_files(folder) == set()
    assert visible_files(folder) == before


def test_same_bytes_under_two_names_are_two_uploads(folder: Path):
    """The same bytes sent as 甲.txt and then 乙.txt are two previews: 发布 on the first
    publishes 甲.txt, whatever was uploaded after it."""
    first = stage_text(folder, "甲.txt", NEW_LECTURE)
    second = stage_text(folder, "乙.txt", NEW_LECTURE)
    assert first.file_name == "甲.txt" and second.file_name == "乙.txt"
    path = publish(folder, first.token)
    assert path.name == first.file_name, f"preview said 甲.txt, published as {path.name}"


# --- discard ------------------------------------------------------------------------------


def test_discard_removes_the_staged_files(folder: Path):
    kept = stage_text(folder, "kept.txt", NEW_LECTURE.replace("党费", "会费"))
    dropped = stage_text(folder, "dropped.txt", NEW_LECTURE)
    discard(folder, dropped.token)
    assert staged_files(folder) == {f"{kept.token}.txt", f"{kept.token}.name"}
    with pytest.raises(UploadError):
        publish(folder, dropped.token)
    discard(folder, dropped.token)  # twice is harmless
    assert publish(folder, kept.token) == folder / "kept.txt"


@pytest.mark.parametrize("token", ["*", "", "../*", "0123456789ab", "[0-9a-f]*"])
def test_discard_of_an_unknown_or_malformed_token_touches_nothing(folder: Path, token: str):
    preview = stage_text(folder, "new.txt", NEW_LECTURE)
    before = visible_files(folder), staged_files(folder)
    discard(folder, token)
    assert (visible_files(folder), staged_files(folder)) == before
    assert publish(folder, preview.token).is_file()


# --- retire -------------------------------------------------------------------------------


def test_retire_moves_the_file_to_retired_and_never_deletes(folder: Path):
    data = SHARED_LECTURE.read_bytes()
    (lecture,) = load_library(folder).lectures
    target = retire(folder, lecture)[0]
    assert target == folder / RETIRED_DIR / SHARED_LECTURE.name
    assert target.read_bytes() == data
    assert not (folder / SHARED_LECTURE.name).exists()
    assert load_library(folder).lectures == ()


def test_a_second_retire_of_a_same_named_file_gets_a_time_stamped_name(folder: Path):
    first_text = NEW_LECTURE
    second_text = NEW_LECTURE.replace("党费", "会费")
    publish(folder, stage_text(folder, "new.txt", first_text).token)
    first = retire(folder, load_library(folder).lecture("new"))[0]
    publish(folder, stage_text(folder, "new.txt", second_text).token)
    second = retire(folder, load_library(folder).lecture("new"))[0]
    assert first == folder / RETIRED_DIR / "new.txt"
    assert re.fullmatch(r"new-\d{14}\.txt", second.name), second.name
    assert second.parent == folder / RETIRED_DIR
    assert first.read_text(encoding="utf-8") == first_text
    assert second.read_text(encoding="utf-8") == second_text
    assert not (folder / "new.txt").exists()


def test_retiring_three_same_named_files_in_one_second_keeps_all_three(folder: Path, monkeypatch):
    """retire never replaces an earlier retired version, even within one second."""

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2025, 3, 3, 8, 0, 0, tzinfo=UTC)

    monkeypatch.setattr(publishing, "datetime", FrozenClock)
    versions = [NEW_LECTURE.replace("党费", word) for word in ("党费", "会费", "团费")]
    for text in versions:
        publish(folder, stage_text(folder, "new.txt", text).token)
        retire(folder, load_library(folder).lecture("new"))
    kept = sorted(p.read_text(encoding="utf-8") for p in (folder / RETIRED_DIR).iterdir())
    assert kept == sorted(versions), f"{len(kept)} of 3 retired versions left"


def test_retire_takes_every_file_of_the_lecture_along_under_one_name(folder: Path):
    """The quiz bank, the questions file and the links' anchors go with the lecture: nothing
    of it stays in the knowledge folder; a second retired version keeps its files together."""
    from bot.core.links import anchors_path, links_path
    from bot.quiz.bank import quiz_path as bank_path

    def companions(lecture) -> list[Path]:
        return [bank_path(lecture), links_path(folder, lecture.lecture_id),
                anchors_path(folder, lecture.lecture_id)]

    retired = []
    for version in ("一", "二"):
        publish(folder, stage_text(folder, "new.txt", NEW_LECTURE).token)
        lecture = load_library(folder).lecture("new")
        for path in companions(lecture):
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"第{version}版 {path.name}", encoding="utf-8")
        retired.append(retire(folder, lecture))
        assert not any(path.exists() for path in [lecture.path, *companions(lecture)])
    first, second = retired
    assert [p.name for p in first] == ["new.txt", "new.quiz.tsv", "new.questions.tsv",
                                       "new.links.json"]
    stem = second[0].stem
    assert re.fullmatch(r"new-\d{14}", stem)
    assert [p.name for p in second] == [f"{stem}.txt", f"{stem}.quiz.tsv",
                                        f"{stem}.questions.tsv", f"{stem}.links.json"]
    assert second[1].read_text(encoding="utf-8") == "第二版 new.quiz.tsv"
    assert first[3].read_text(encoding="utf-8") == "第一版 new.json"
    # The shipped lecture is untouched, its quiz bank included.
    assert (folder / "party-lecture-online-conduct.quiz.tsv").is_file()


# --- what the library sees ----------------------------------------------------------------


def test_lecture_files_ignore_staging_retired_and_dot_files(folder: Path):
    staged = stage_text(folder, "staged.txt", NEW_LECTURE)
    published = stage_text(folder, "published.txt", NEW_LECTURE.replace("党费", "会费"))
    publish(folder, published.token)
    (folder / RETIRED_DIR).mkdir()
    (folder / RETIRED_DIR / "old.txt").write_text(NEW_LECTURE, encoding="utf-8")
    (folder / ".draft.txt").write_text(NEW_LECTURE, encoding="utf-8")
    (folder / ".tmp-abc.md").write_text(NEW_LECTURE, encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    assert (folder / STAGING_DIR / f"{staged.token}.txt").is_file()
    assert [p.name for p in lecture_files(folder)] == [
        SHARED_LECTURE.name, "published.txt"]
    library = load_library(folder)
    assert [lec.path.name for lec in library.lectures] == [SHARED_LECTURE.name, "published.txt"]
    assert library.failures == ()


def test_a_docx_damaged_inside_is_refused_as_an_upload(folder: Path):
    """A .docx whose package opens but has no document body fails while it is read; stage
    refuses it with UploadError (all the upload handler catches), writing nothing."""
    data = _docx_without_body()
    before = visible_files(folder)
    with pytest.raises(UploadError):
        stage(folder, "broken.docx", data, load_library(folder))
    assert visible_files(folder) == before


def _docx_without_body() -> bytes:
    document = docx.Document()
    document.add_paragraph("讲稿", style="Title")
    document.add_paragraph("正文一段。")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "word/document.xml":
                content = re.sub(rb"<w:body>.*</w:body>", b"", content, flags=re.DOTALL)
            package.writestr(entry.filename, content)
    return out.getvalue()


def test_a_file_whose_stem_names_another_lecture_is_refused(folder: Path):
    """a.md beside a.txt would take over a.txt's lecture id (its plans and buttons)."""
    (folder / "甲.txt").write_text(NEW_LECTURE, encoding="utf-8")
    with pytest.raises(UploadError, match="甲.txt"):
        stage_text(folder, "甲.md", NEW_LECTURE)
    assert stage_text(folder, "甲.txt", NEW_LECTURE).replaces


def test_uploads_left_unanswered_for_a_week_are_forgotten(folder: Path):
    old = stage_text(folder, "旧.txt", NEW_LECTURE)
    week_ago = time.time() - 8 * 24 * 3600
    for path in (folder / ".staging").glob(f"{old.token}.*"):
        os.utime(path, (week_ago, week_ago))
    stage_text(folder, "新.txt", NEW_LECTURE)
    with pytest.raises(UploadError):
        publish(folder, old.token)


def test_of_two_previews_of_one_lecture_id_only_the_first_published_wins(folder: Path):
    """twin.txt and twin.md both pass staging (neither is published yet); at publish the
    second finds the first and is refused, its staged files forgotten."""
    first = stage(folder, "twin.txt", NEW_LECTURE.encode(), load_library(folder))
    second = stage(folder, "twin.md", NEW_LECTURE.encode(), load_library(folder))
    assert publish(folder, first.token) == folder / "twin.txt"
    with pytest.raises(LectureIdTaken) as refused:
        publish(folder, second.token)
    assert "同名讲稿 twin.txt 已经发布了" in str(refused.value)
    assert [p.name for p in lecture_files(folder) if p.stem == "twin"] == ["twin.txt"]
    assert not any(p.name.startswith(second.token) for p in (folder / STAGING_DIR).iterdir())


def test_a_preview_lists_at_most_30_sections_and_fits_one_message(folder: Path):
    headings = "".join(f"第{n}条 规定\n内容{n}。\n" for n in range(1, 101))
    preview = stage(folder, "many.txt", ("标" * 5000 + "\n" + headings).encode(),
                    load_library(folder))
    text = preview_text(preview)
    assert len(text) == MAX_MESSAGE_LENGTH, "a 5,000-character title is cut, not refused"
    short = preview_text(replace(preview, lecture=replace(preview.lecture, title="短标题")))
    assert short.count("\n· 第") == MAX_PREVIEW_ITEMS and "· ……另有 70 项" in short


async def test_a_parse_worker_that_dies_is_replaced_for_the_next_upload(folder: Path):
    worker = ParseWorker()
    try:
        with pytest.raises(BrokenProcessPool):
            await worker.run(os._exit, 1)  # killed mid-parse, out of memory, …
        staged = await worker.run(stage_for_preview, folder, "next.txt", NEW_LECTURE.encode(),
                                  ())
    finally:
        worker.close()
    assert staged.text.startswith("📄 预览:《党课:学习新党章》")
    assert (folder / STAGING_DIR / f"{staged.token}.txt").read_bytes() == NEW_LECTURE.encode()
