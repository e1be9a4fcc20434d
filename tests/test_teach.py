"""The teach package without Telegram: the review queue's state and grouping, writing the
questions files, the regression check and `lecture-bot check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.asking.store import AskedQuestion, Dislike
from bot.cli import main
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import lecture_from_bytes
from bot.core.links import LINKS_SUFFIX, QuestionMatcher, anchors_path, links_path
from bot.stores import Stores
from bot.teach import linkfile, queue, regression
from bot.teach.store import Decision, FollowUp
from tests.conftest import LECTURE_ID

UNANSWERED = "党员发帖子组织上管得着吗"
LINKED_OPENING = "加快法治建设,健全党员网络行为管理制度体系"
LECTURE_FILE = f"{LECTURE_ID}.txt"


@pytest.fixture
async def stores(database_target):
    opened = await Stores.open(database_target)
    try:
        yield opened
    finally:
        await opened.close()


def _write_links(folder: Path, text: str) -> Path:
    path = folder / f"{LECTURE_ID}{LINKS_SUFFIX}"
    path.write_text(text, encoding="utf-8")
    return path


def _insert_paragraph_before(folder: Path, opening: str, paragraph: str) -> None:
    lecture = folder / LECTURE_FILE
    text = lecture.read_text(encoding="utf-8")
    lecture.write_text(text.replace(opening, f"{paragraph}\n{opening}"), encoding="utf-8")


def _remove_paragraph(folder: Path, opening: str) -> None:
    lecture = folder / LECTURE_FILE
    lines = lecture.read_text(encoding="utf-8").splitlines()
    lecture.write_text("\n".join(line for line in lines if not line.startswith(opening)),
                       encoding="utf-8")


# --- lecture-bot check -----------------------------------------------------------------------


LINKS = (f"# 注释\n{UNANSWERED}\t3.3\n女党员有多少\t-\n网民规模有多大\t-\n"
         "党员总数有多少\t1.1\n")


def test_a_folder_with_links_answers_as_linked_and_check_passes(folder, capsys):
    _write_links(folder, LINKS)
    questions = folder / "asked.txt"
    questions.write_text(f"{UNANSWERED}\n女党员有多少\n网民规模有多大\n党员总数有多少\n",
                         encoding="utf-8")
    assert main(["ask", "--json", "--knowledge", str(folder), "--questions",
                 str(questions)]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["answered"] for r in results] == [True, False, False, True]
    assert [results[0]["results"][0]["passage_id"], results[3]["results"][0]["passage_id"]] \
        == [f"{LECTURE_ID}:3.3", f"{LECTURE_ID}:1.1"]
    assert main(["check", "--knowledge", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out == ("《党课:发挥模范带头作用 规范网络行为》"
                   "(party-lecture-online-conduct.questions.tsv):回归测试 4/4 通过\n")


def test_check_fails_on_a_ref_to_a_missing_paragraph(folder, capsys):
    _write_links(folder, LINKS.replace(f"{UNANSWERED}\t3.3", f"{UNANSWERED}\t9.9"))
    assert main(["check", "--knowledge", str(folder), "--without-links"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(":回归测试 3/4 通过")
    assert out[1] == f"  第 2 行“{UNANSWERED}”:讲稿中没有第 9.9 段"
    assert out[2] == "  不用链接时,机器人自己答对 2/3 个链接的问题(仅供参考)"


def test_check_fails_on_a_conflict_and_on_a_link_orphaned_by_an_edit(folder, capsys):
    _write_links(folder, LINKS + "黨員總數有多少?\t1.2\n")
    knowledge = KnowledgeBase.load(folder)
    linkfile.reconcile_all(knowledge)  # anchors: the text each ref has now
    _remove_paragraph(folder, LINKED_OPENING)
    assert main(["check", "--knowledge", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "《党课:发挥模范带头作用 规范网络行为》(party-lecture-online-conduct.questions.tsv)"
        ":回归测试 3/5 通过",
        f"  第 2 行“{UNANSWERED}”:讲稿修改后找不到这个链接的段落(原段落号 3.3)",
        "  第 5 行“党员总数有多少”:与第 6 行是同一个问题,却链接到不同的段落"]


def test_check_without_questions_files_says_so(folder, capsys):
    assert main(["check", "--knowledge", str(folder)]) == 0
    assert "还没有问题链接文件" in capsys.readouterr().out


# --- the questions files -------------------------------------------------------------------


def test_set_link_appends_replaces_the_same_question_and_keeps_anchors(folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    lecture = knowledge.library.lectures[0]
    linkfile.set_link(folder, lecture, UNANSWERED + "\n", "3.3", [], [LECTURE_ID])
    text = links_path(folder, LECTURE_ID).read_text(encoding="utf-8")
    assert text.startswith("# 《党课:发挥模范带头作用 规范网络行为》的问题链接")
    assert text.endswith(f"\n{UNANSWERED}\t3.3\n")
    linkfile.set_link(folder, lecture, "女党员有多少", "-", [], [LECTURE_ID])
    linkfile.set_link(folder, lecture, UNANSWERED + "?", "3.2", [UNANSWERED], [LECTURE_ID])
    lines = links_path(folder, LECTURE_ID).read_text(encoding="utf-8").splitlines()
    assert lines[-2:] == [f"{UNANSWERED}?\t3.2", "女党员有多少\t-"], "replaced where it stood"
    anchors = json.loads(anchors_path(folder, LECTURE_ID).read_text(encoding="utf-8"))
    assert set(anchors) == {"3.2", "3.3"} and anchors["3.3"].startswith(LINKED_OPENING)
    assert not [p for p in folder.rglob(".tmp-*")], "no temporary file is left behind"


def test_set_link_takes_the_question_out_of_other_lectures_files(folder, tokenizer):
    (folder / "other.txt").write_text("另一篇\n一、唯一一节\n党员发帖要遵守纪律。\n",
                                      encoding="utf-8")
    links_path(folder, "other").write_text(f"{UNANSWERED}\t1.1\n别的问题\t1.1\n",
                                           encoding="utf-8")
    knowledge = KnowledgeBase.load(folder, tokenizer)
    lecture = knowledge.library.lecture(LECTURE_ID)
    linkfile.set_link(folder, lecture, UNANSWERED, "3.3", [UNANSWERED], [LECTURE_ID, "other"])
    assert links_path(folder, "other").read_text(encoding="utf-8") == "别的问题\t1.1\n"
    assert knowledge.reload_links().answer(UNANSWERED).best.passage.passage_id == \
        f"{LECTURE_ID}:3.3"


def test_reconcile_rewrites_moved_refs_comments_orphans_and_keeps_new_lines(folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    lecture = knowledge.library.lecture(LECTURE_ID)
    linkfile.set_link(folder, lecture, UNANSWERED, "3.3", [], [LECTURE_ID])
    linkfile.set_link(folder, lecture, "网民规模有多大", "1.2", [], [LECTURE_ID])
    _insert_paragraph_before(folder, LINKED_OPENING, "新加的一段。")
    _remove_paragraph(folder, "加强党员网络行为管理是营造健康网络生态")
    edited = knowledge.reload()
    path = links_path(folder, LECTURE_ID)
    path.write_text(path.read_text(encoding="utf-8") + "后来加的\t1.1\n", encoding="utf-8")
    (found,) = linkfile.reconcile_all(edited)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[-3:] == [f"{UNANSWERED}\t3.4", "#段落已删除\t网民规模有多大\t1.2",
                          "后来加的\t1.1"]
    assert [link.question for link in found.moved] == [UNANSWERED]
    anchors = json.loads(anchors_path(folder, LECTURE_ID).read_text(encoding="utf-8"))
    assert set(anchors) == {"3.4", "1.1"} and anchors["3.4"].startswith(LINKED_OPENING)
    assert linkfile.reconcile_all(edited.reload()) == [], "a second reconciliation: nothing"
    assert path.read_text(encoding="utf-8") == "\n".join(lines) + "\n"


def test_a_hand_written_link_follows_its_paragraph_into_a_new_version(folder, tokenizer):
    path = _write_links(folder, f"{UNANSWERED}\t3.3\n")  # by hand: no anchors yet
    before = KnowledgeBase.load(folder, tokenizer)
    _insert_paragraph_before(folder, LINKED_OPENING, "新加的一段。")
    after = before.reload()
    assert after.answer(UNANSWERED).best.passage.text == "新加的一段。", "taken as written"
    (found,) = linkfile.reconcile_all(after, before)
    assert path.read_text(encoding="utf-8") == f"{UNANSWERED}\t3.4\n"
    assert after.reload_links().answer(UNANSWERED).best.passage.text.startswith(LINKED_OPENING)


def test_replace_links_refuses_what_it_cannot_read_and_keeps_the_old_file(folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    lecture = knowledge.library.lecture(LECTURE_ID)
    path = _write_links(folder, f"{UNANSWERED}\t3.3\n")
    for data in ("问题\t1.1\n".encode("gbk"), b"\x00\x01", b"x" * (2 * 1024 * 1024)):
        with pytest.raises(linkfile.LinksFileError):
            linkfile.replace_links(folder, lecture, data)
    assert path.read_text(encoding="utf-8") == f"{UNANSWERED}\t3.3\n"
    resolved = linkfile.replace_links(folder, lecture, "\ufeff三地是什么\t3.1\r\n坏\r\n".encode())
    assert path.read_text(encoding="utf-8") == "三地是什么\t3.1\n坏\n"
    assert [link.ref for link in resolved.links] == ["3.1"]
    assert [p.line_no for p in resolved.problems] == [2]


def test_preview_check_follows_moved_paragraphs_and_fails_on_removed_ones(folder, tokenizer):
    _write_links(folder, f"{UNANSWERED}\t3.3\n女党员有多少\t-\n")
    knowledge = KnowledgeBase.load(folder, tokenizer)
    text = (folder / LECTURE_FILE).read_text(encoding="utf-8")
    moved = lecture_from_bytes(Path(LECTURE_FILE), text.replace(
        LINKED_OPENING, "新加的一段。\n" + LINKED_OPENING).encode(), LECTURE_ID)
    check = regression.preview_check(knowledge, moved)
    assert (check.passed, check.total, check.moved) == (2, 2, 1)
    lines = text.splitlines()
    removed = "\n".join(line for line in lines if not line.startswith(LINKED_OPENING))
    check = regression.preview_check(
        knowledge, lecture_from_bytes(Path(LECTURE_FILE), removed.encode(), LECTURE_ID))
    assert (check.passed, check.total) == (1, 2)
    assert regression.preview_lines(check)[0].startswith("🧪 回归测试 1/2 通过\n· 第 1 行")
    new = lecture_from_bytes(Path("new.txt"), "新讲稿\n一、一\n内容。\n".encode(), "new")
    assert regression.preview_check(knowledge, new) is None


# --- the queue -------------------------------------------------------------------------------


def _asked(question_id, text, chat_id=1001, user_id=None, kind="not_covered", candidates=(),
           at="2025-03-05T08:00:00+00:00"):
    return AskedQuestion(question_id, chat_id, user_id if user_id is not None else chat_id, text,
                         kind, tuple(candidates), at)


def test_the_queue_groups_wordings_newest_first_and_leaves_out_what_is_done(knowledge):
    tokenizer = knowledge.index.tokenizer
    questions = [
        _asked(1, UNANSWERED, at="2025-03-05T08:00:00+00:00"),
        _asked(2, "女党员有多少", chat_id=-100, user_id=7, at="2025-03-05T09:00:00+00:00"),
        _asked(3, "请问党员发帖子组织上管得着吗?", chat_id=1002,
               at="2025-03-05T10:00:00+00:00", kind="closest"),
        _asked(4, UNANSWERED, chat_id=1001, at="2025-03-05T10:30:00+00:00"),
        _asked(5, "三地是什么", at="2025-03-05T11:00:00+00:00"),
    ]
    dislike = Dislike(9, -100, 8, f"{LECTURE_ID}:1.2", "2025-03-05T09:30:00+00:00",
                      _asked(6, "网民规模有多大", chat_id=-100, user_id=7, kind="answered",
                             candidates=[f"{LECTURE_ID}:1.2", f"{LECTURE_ID}:1.1"]))
    found = queue.occurrences(questions, [dislike])
    shapes = {}
    items = queue.review_queue(found, {"q5"}, knowledge.links.index, QuestionMatcher(tokenizer),
                               shapes)
    assert set(shapes) == {q.question.text for q in found} - {"三地是什么"}
    assert [item.question for item in items] == [UNANSWERED, "网民规模有多大", "女党员有多少"]
    first = items[0]
    assert [o.handle for o in first.occurrences] == ["q4", "q3", "q1"]
    assert first.people == 2 and first.chat_ids == (1001, 1002)
    assert first.kinds == (queue.OccurrenceKind.NOT_COVERED, queue.OccurrenceKind.CLOSEST)
    assert items[1].newest.key == "d9@2025-03-05T09:30:00+00:00" and items[1].people == 1
    offered = queue.candidates(items[1], knowledge.library, knowledge.index)
    assert f"{LECTURE_ID}:1.2" not in [p.passage_id for p in offered], "not the disliked one"
    assert offered[0].passage_id == f"{LECTURE_ID}:1.1"


# --- the store -------------------------------------------------------------------------------


async def test_decisions_hold_for_everyone_and_skips_for_the_reviewer(stores):
    teach = stores.teach
    await teach.decide(["q1", "q2"], Decision.LINKED, 42, f"{LECTURE_ID}:3.3")
    await teach.decide(["q3"], Decision.SKIPPED, 42)
    assert await teach.marked(["q1", "q2", "q3", "q4"], 42) == {"q1", "q2", "q3"}
    assert await teach.marked(["q1", "q2", "q3", "q4"], 43) == {"q1", "q2"}


async def test_a_chat_is_owed_one_follow_up_per_question(stores):
    teach = stores.teach
    follow_up = FollowUp(1001, "key", UNANSWERED, f"{LECTURE_ID}:3.3")
    (owed,) = await teach.decide(["q1"], Decision.LINKED, 42, follow_up.passage_id, [follow_up])
    assert await teach.decide(["q2"], Decision.LINKED, 42, follow_up.passage_id,
                              [follow_up]) == []
    assert [f.follow_up_id for f in await teach.pending_follow_ups(10)] == [owed.follow_up_id]
    for _ in range(2):
        await teach.follow_up_attempted(owed.follow_up_id, max_attempts=3)
    assert (await teach.pending_follow_ups(10))[0].attempts == 2
    await teach.follow_up_attempted(owed.follow_up_id, max_attempts=3)
    assert await teach.pending_follow_ups(10) == [], "given up after the last attempt"


async def test_a_dislike_comes_with_the_voters_question(stores):
    log = stores.questions
    candidates = [f"{LECTURE_ID}:1.2", f"{LECTURE_ID}:1.1"]
    await log.log_question(-100, "别人问的网民规模", True, candidates[0], user_id=7,
                           reply_kind="answered", candidates=candidates)
    own = await log.log_question(-100, "网民规模有多大", True, candidates[0], user_id=8,
                                 reply_kind="answered", candidates=candidates)
    await log.log_question(-100, "后来别人问的", True, candidates[1], user_id=7,
                           reply_kind="answered", candidates=candidates[1:])
    await log.add_feedback(-100, candidates[0], 8, -1)
    await log.add_feedback(-100, f"{LECTURE_ID}:3.3", 8, -1)  # under a /read: no question
    await log.add_feedback(-100, candidates[1], 9, 1)
    (dislike,) = await log.dislikes(None, 10)
    assert dislike.question.question_id == own and dislike.user_id == 8
    assert await log.dislikes([-200], 10) == []
    kinds = await log.questions_of_kinds(["answered"], [-100], 2)
    assert [q.text for q in kinds] == ["后来别人问的", "网民规模有多大"]
