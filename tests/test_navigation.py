"""Passage references for buttons and /read selectors."""

from __future__ import annotations

from pathlib import Path

from bot.core.lectures import Library, load_library
from bot.core.navigation import find_passage, neighbours, passage_ref, resolve_ref
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID, write_lecture


def _two_lectures(tmp_path: Path) -> Library:
    (tmp_path / f"{LECTURE_ID}.txt").write_bytes((KNOWLEDGE_DIR / f"{LECTURE_ID}.txt")
                                                .read_bytes())
    write_lecture(tmp_path, "zz-second.txt", "第二篇讲稿\n\n三、另一节\n甲段。\n乙段。\n")
    return load_library(tmp_path)


def test_selectors(knowledge):
    library = knowledge.library
    assert find_passage(library, "3.2").passage_id == f"{LECTURE_ID}:3.2"
    assert find_passage(library, "三").passage_id == f"{LECTURE_ID}:3.1"
    assert find_passage(library, "第三部分").passage_id == f"{LECTURE_ID}:3.1"
    assert find_passage(library, "开篇").passage_id == f"{LECTURE_ID}:0.1"
    assert find_passage(library, "2") is None  # the withheld section has no passages
    assert find_passage(library, "abc") is None


def test_a_lecture_can_be_named(tmp_path: Path):
    library = _two_lectures(tmp_path)
    second = library.lectures[1]
    assert find_passage(library, "3.2").lecture_id == LECTURE_ID
    assert find_passage(library, "3.2", second).text == "乙段。"


def test_refs_survive_a_reload_and_name_nothing_when_gone(tmp_path: Path):
    library = _two_lectures(tmp_path)
    passage = library.lectures[1].passages[0]
    ref = passage_ref(passage)
    assert len(f"m:{ref},{ref},{ref},{ref}".encode()) <= 64  # Telegram's callback limit
    assert resolve_ref(load_library(tmp_path), ref) == passage
    (tmp_path / "zz-second.txt").unlink()
    assert resolve_ref(load_library(tmp_path), ref) is None
    assert resolve_ref(library, "not a ref") is None


def test_neighbours_follow_reading_order(knowledge):
    library = knowledge.library
    before, after = neighbours(library, library.passage(f"{LECTURE_ID}:1.2"))
    assert before.passage_id == f"{LECTURE_ID}:1.1" and after.passage_id == f"{LECTURE_ID}:3.1"
    assert neighbours(library, library.passage(f"{LECTURE_ID}:0.1"))[0] is None
