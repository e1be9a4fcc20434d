"""Question links in the core: the file format, following paragraphs through edits, matching
members' questions (without hijacking others), and answering through a link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.answer import AnswerKind
from bot.core.evaluation import load_gold
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import parse_lecture
from bot.core.links import (
    LINKS_SUFFIX,
    Link,
    LinkBook,
    LinkIndex,
    anchors_path,
    linked_hit,
    parse_links,
    read_lecture_links,
    resolve_links,
)
from tests.conftest import LECTURE_ID, ROOT

LECTURE = (
    "讲稿甲\n\n一、第一部分\n党员要按时参加组织生活。每月一次。\n党员要按期交纳党费。\n"
    "二、第二部分\n支部每季度开一次组织生活会。\n"
)
# A member's question the shipped lecture does not answer on its own, with its candidates.
UNANSWERED = "党员发帖子组织上管得着吗"


def _lecture(text: str = LECTURE):
    return parse_lecture(text, Path("a.txt"), "a")


def _links_of(text: str, lecture=None, anchors=None):
    lines, problems = parse_links(text)
    return resolve_links(lecture or _lecture(), lines, problems, anchors or {}, Path("x"))


def test_parse_reports_bad_lines_with_numbers_and_keeps_the_others():
    text = ("\ufeff# 注释\n党费怎么交\t1.2\n\n没有制表符 1.1\n\t2.1\n组织生活多久一次\t第二段\n"
            "组织生活会呢\t２．１\n讲稿没讲的\t-\n#段落已删除\t被删的问题\t3.3\n")
    lines, problems = parse_links(text)
    assert [(line.line_no, line.question, line.ref, line.orphaned) for line in lines] == [
        (2, "党费怎么交", "1.2", False), (7, "组织生活会呢", "2.1", False),
        (8, "讲稿没讲的", "-", False), (9, "被删的问题", "3.3", True)]
    assert [(p.line_no, p.reason) for p in problems] == [
        (4, "没有 Tab:问题和段落号之间要用一个 Tab 分隔"), (5, "问题是空的"),
        (6, "段落号“第二段”格式不对(应为 3.2 这样的编号,或 -)")]


def test_an_unknown_ref_is_reported_and_the_other_links_work():
    resolved = _links_of("党费怎么交\t1.2\n第九部分\t9.1\n不讲的\t-\n")
    assert [(link.question, link.passage_id) for link in resolved.links] == [
        ("党费怎么交", "a:1.2"), ("不讲的", None)]
    assert [(p.line_no, p.reason) for p in resolved.problems] == [(2, "讲稿中没有第 9.1 段")]
    assert resolved.anchors == {"1.2": "党员要按期交纳党费。"}


def test_links_follow_their_paragraph_through_an_edit():
    old = _lecture()
    anchors = {"1.2": old.passages[1].text, "2.1": old.passages[2].text,
               "1.1": old.passages[0].text}
    edited = _lecture(LECTURE.replace("一、第一部分\n", "一、第一部分\n新加的第一段。\n")
                      .replace("每月一次。", "每月至少一次。")
                      .replace("支部每季度开一次组织生活会。", "这一段换成了完全不同的内容。"))
    resolved = _links_of("党费怎么交\t1.2\n组织生活\t1.1\n生活会\t2.1\n", edited, anchors)
    assert [(link.question, link.ref, link.written_ref) for link in resolved.links] == [
        ("党费怎么交", "1.3", "1.2"), ("组织生活", "1.2", "1.1")]
    assert [(o.question, o.ref) for o in resolved.orphans] == [("生活会", "2.1")]
    assert [link.question for link in resolved.moved] == ["党费怎么交", "组织生活"]
    assert resolved.anchors == {"1.3": "党员要按期交纳党费。",
                                "1.2": "党员要按时参加组织生活。每月至少一次。"}


def test_a_link_without_anchor_is_taken_as_written():
    resolved = _links_of("党费怎么交\t1.1\n", _lecture(), {})
    assert [link.passage_id for link in resolved.links] == ["a:1.1"] and not resolved.orphans


def test_a_commented_orphan_stays_an_orphan():
    resolved = _links_of("#段落已删除\t生活会\t2.1\n")
    assert not resolved.links and [o.question for o in resolved.orphans] == ["生活会"]


def test_link_index_matches_the_same_question_and_close_rewordings(tokenizer):
    index = LinkIndex([Link(UNANSWERED, LECTURE_ID, "3.3", 1, "3.3"),
                       Link("互联网普及率是多少", LECTURE_ID, "1.2", 2, "1.2")], tokenizer)
    for same in (UNANSWERED, "党员发帖子,组织上管得着吗?", " 党员发帖子组织上管得着吗 "):
        assert index.match(same).ref == "3.3", same
    for rewording in ("请问党员发帖子组织上管得着吗", "党员发帖子组织上管得着不",
                      "互联网普及率是多少来着", "互联网普及率到多少了"):
        assert index.match(rewording) is not None, rewording
    for other in ("农村的互联网普及率是多少", "党员发视频组织上管得着吗",
                  "群众发帖子组织上管得着吗", "普及率", "你好", "", "😀"):
        assert index.match(other) is None, other


def test_a_rewording_by_a_function_word_matches_and_a_premise_does_not(tokenizer):
    index = LinkIndex([Link("出了网络舆情各部门之间推来推去怎么办", LECTURE_ID, "3.2", 1, "3.2"),
                       Link("党员上网要会些啥", LECTURE_ID, "0.1", 2, "0.1")], tokenizer)
    # a word that says how, not what, added, dropped or swapped; a particle inside a run
    # jieba glued together (要会些 / 要会点)
    rewordings = ("出了网络舆情各部门之间互相推来推去怎么办", "出了网络舆情部门之间推来推去怎么办",
                  "党员上网要会点啥", "党员上网都要会些啥")
    for rewording in rewordings:
        assert index.match(rewording) is not None, rewording
    # a premise (place, time, who) is a question of its own
    for premise in ("农村党员上网要会些啥", "2024年党员上网要会些啥", "女党员上网要会些啥",
                    "出了网络舆情农村各部门之间推来推去怎么办", "党员上网要学些啥"):
        assert index.match(premise) is None, premise


def test_one_question_linked_to_two_refs_is_a_conflict_and_the_later_wins(tokenizer):
    first = Link("党费怎么交", "a", "1.1", 1, "1.1")
    later = Link("黨費怎麼交?", "a", "1.2", 5, "1.2")
    index = LinkIndex([first, later, Link("党费怎么交", "a", "1.2", 7, "1.2")], tokenizer)
    assert index.conflicts == ((first, later),)
    assert index.match("党费怎么交").line_no == 7


def _gold_sets():
    """Each lecture's gold questions (labelled against that lecture alone)."""
    gold = ROOT / "tests" / "gold"
    sets = [[q for path in sorted(gold.glob("*.jsonl")) for q in load_gold(path)]]
    return sets + [load_gold(path) for path in sorted((gold / "lectures").glob("*.gold.jsonl"))]


def _gold_link(question, line_no):
    lecture_id, _, ref = question.expected[0].rpartition(":") if question.expected \
        else (LECTURE_ID, "", "-")
    return Link(question.question, lecture_id, ref, line_no, ref)


@pytest.mark.parametrize("linked_half", [0, 1])
def test_links_never_hijack_other_gold_questions(tokenizer, linked_half):
    through_link, wrong = 0, []
    for gold in _gold_sets():
        linked = gold[linked_half::2]
        index = LinkIndex([_gold_link(q, n) for n, q in enumerate(linked, 1)], tokenizer)
        for question in gold[1 - linked_half::2]:
            link = index.match(question.question)
            if link is None:
                continue
            through_link += 1
            right = (link.passage_id in question.expected if link.passage_id
                     else not question.expected)
            if not right:
                wrong.append((question.question, link.question))
    assert wrong == []
    assert through_link >= 40, "close rewordings of linked questions are matched"


def test_a_linked_question_is_answered_with_its_paragraph(knowledge):
    assert not knowledge.answer(UNANSWERED).answered  # declined, or only the closest paragraph
    index = LinkIndex([Link(UNANSWERED, LECTURE_ID, "3.3", 1, "3.3"),
                       Link("女党员有多少", LECTURE_ID, "-", 2, "-"),
                       Link("网民规模有多大", LECTURE_ID, "-", 3, "-")],
                      knowledge.index.tokenizer)
    taught = knowledge.with_links(LinkBook((), index))
    answer = taught.answer("请问党员发帖子组织上管得着吗?")
    assert answer.kind == AnswerKind.ANSWERED
    assert answer.best.passage.passage_id == f"{LECTURE_ID}:3.3"
    assert answer.best.matched_sentences, "the paragraph's best sentences are highlighted"
    assert len({h.passage.passage_id for h in answer.hits}) == len(answer.hits)
    assert taught.answer("网民规模有多大").kind == AnswerKind.NOT_COVERED
    assert taught.answer("女党员有多少?").kind == AnswerKind.NOT_COVERED
    assert taught.answer("党员总数有多少").answered, "unlinked questions answer as before"
    assert knowledge.answer("网民规模有多大").answered, "the untaught knowledge is unchanged"


def test_linked_hit_highlights_the_sentences_sharing_the_questions_words(knowledge):
    passage = knowledge.library.passage(f"{LECTURE_ID}:1.2")
    hit = linked_hit(passage, [], knowledge.index.tokenizer, ["网民规模有多大"])
    assert [passage.sentences[i] for i in hit.matched_sentences] == [
        "截至2023年12月,我国网民规模达10.92亿,互联网普及率达77.5%,互联网已成为人们生产生活和社会交往的新空间。"]
    assert linked_hit(passage, [], knowledge.index.tokenizer, ["😀"]).matched_sentences == ()


def test_knowledge_loads_links_and_follows_an_edited_lecture(folder, tokenizer):
    lecture_file = folder / f"{LECTURE_ID}.txt"
    (folder / f"{LECTURE_ID}{LINKS_SUFFIX}").write_text(
        f"# 注释\n{UNANSWERED}\t3.3\n女党员有多少\t-\n坏行\n", encoding="utf-8")
    knowledge = KnowledgeBase.load(folder, tokenizer)
    assert knowledge.answer(UNANSWERED).best.passage.passage_id == f"{LECTURE_ID}:3.3"
    (found,) = knowledge.links.lectures
    assert [p.line_no for p in found.problems] == [4]
    anchors = anchors_path(folder, LECTURE_ID)
    anchors.parent.mkdir()
    anchors.write_text(json.dumps(found.anchors, ensure_ascii=False), encoding="utf-8")
    text = lecture_file.read_text(encoding="utf-8")
    lecture_file.write_text(text.replace("加快法治建设", "新加的一段。\n加快法治建设"),
                            encoding="utf-8")
    edited = knowledge.reload()
    answer = edited.answer(UNANSWERED)
    assert answer.best.passage.passage_id == f"{LECTURE_ID}:3.4"
    assert answer.best.passage.text.startswith("加快法治建设")
    assert edited.links.for_lecture(LECTURE_ID).moved[0].written_ref == "3.3"


def test_reload_links_reads_the_files_again(folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    assert not knowledge.answer(UNANSWERED).answered  # declined, or only the closest paragraph
    (folder / f"{LECTURE_ID}{LINKS_SUFFIX}").write_text(f"{UNANSWERED}\t3.3\n", encoding="utf-8")
    refreshed = knowledge.reload_links()
    assert refreshed.index is knowledge.index
    assert refreshed.answer(UNANSWERED).best.passage.passage_id == f"{LECTURE_ID}:3.3"


def test_an_unreadable_questions_file_is_reported(folder, tokenizer):
    (folder / f"{LECTURE_ID}{LINKS_SUFFIX}").write_bytes(b"\xff\xfe\x00bad")
    knowledge = KnowledgeBase.load(folder, tokenizer)
    found = read_lecture_links(folder, knowledge.library.lectures[0])
    assert found.links == () and found.problems[0].reason.startswith("文件读不了")
