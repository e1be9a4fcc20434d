"""每日一题 questions: generated from the lectures, fair by construction, kept in their file.

The fairness properties are checked over every question generated for the shipped lecture,
not a sample: the right option fills the blank as the paragraph says; no wrong option does.
"""

from __future__ import annotations

import shutil

import pytest

from bot import texts
from bot.core.knowledge import KnowledgeBase
from bot.quiz.bank import QuizBank, drop_question, quiz_path, read_questions
from bot.quiz.generation import (
    BLANK,
    ELLIPSIS,
    MAX_EXPLANATION_CHARS,
    MAX_OPTION_CHARS,
    MAX_QUESTION_CHARS,
    Question,
    TermPool,
    lecture_questions,
    wrong_numbers,
)
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID, write_lecture

SECOND_LECTURE = """关于加强基层党组织建设的学习材料

一、基本情况

截至2022年底,全国共有基层党组织506.5万个,其中党委28.9万个。基层党组织是党的全部工作和战斗力的基础,担负着直接联系群众、宣传群众、组织群众、团结群众的重要职责。

二、主要任务

要健全组织生活制度,严格落实三会一课、主题党日、组织生活会等制度。要加强党员教育管理,教育引导党员坚定理想信念,增强党性修养,提升履职本领,发挥先锋模范作用。
"""


def _statement(question: Question) -> str:
    """The sentence line of a question, without the …… that mark a cut sentence."""
    line = next(line for line in question.question.splitlines()[1:] if line)
    return line.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)


@pytest.fixture(scope="module")
def shipped_questions(knowledge) -> list[Question]:
    pool = TermPool(knowledge.index.tokenizer, knowledge.library.passages)
    return lecture_questions(knowledge.library.lecture(LECTURE_ID).passages, pool)


def test_the_shipped_lecture_gives_at_least_20_distinct_questions(shipped_questions):
    assert len({(q.question, q.options) for q in shipped_questions}) >= 20
    passages = {q.passage_id for q in shipped_questions}
    assert len(passages) == 6, "every paragraph is asked about"
    choice = [q for q in shipped_questions if BLANK in q.question]
    assert len(choice) * 5 >= len(shipped_questions) * 4, "at least four in five are choices"


def test_every_choice_question_is_fair(shipped_questions, knowledge):
    for question in (q for q in shipped_questions if BLANK in q.question):
        paragraph = knowledge.library.passage(question.passage_id).text
        statement = _statement(question)
        assert statement.count(BLANK) == 1, question
        assert statement.replace(BLANK, question.answer) in paragraph, question
        wrong = [o for i, o in enumerate(question.options) if i != question.correct]
        assert len(wrong) == 3, question
        for option in wrong:
            assert statement.replace(BLANK, option) not in paragraph, (question, option)
            assert option not in paragraph, "a wrong option is never the paragraph's word"
        assert question.answer not in statement, "the stem does not give the answer away"


def test_every_true_false_question_is_a_sentence_or_a_minimal_change_of_one(
        shipped_questions, knowledge):
    true_false = [q for q in shipped_questions if BLANK not in q.question]
    assert true_false, "the shipped lecture has true/false questions too"
    for question in true_false:
        assert question.options == (texts.QUIZ_TRUE, texts.QUIZ_FALSE)
        paragraph = knowledge.library.passage(question.passage_id).text
        statement = _statement(question)
        assert (statement in paragraph) == (question.correct == 0), question
        if question.correct == 1:
            assert _one_change_from(statement, paragraph), question


def _one_change_from(statement: str, paragraph: str) -> bool:
    """Is `statement` a run of the paragraph with one short stretch (≤ 8 characters) changed?"""
    most = 8
    for start in range(len(paragraph)):
        same = 0
        while same < len(statement) and start + same < len(paragraph) \
                and statement[same] == paragraph[start + same]:
            same += 1
        if same == 0:
            continue
        for cut in range(same + 1, min(same + most, len(statement)) + 1):
            tail = statement[cut:]
            found = paragraph.find(tail, start + same)
            if tail and found != -1 and found - (start + same) <= most:
                return True
    return False


def test_every_question_keeps_telegram_limits_and_cites_its_paragraph(shipped_questions,
                                                                      knowledge):
    for question in shipped_questions:
        passage = knowledge.library.passage(question.passage_id)
        assert len(question.question) <= MAX_QUESTION_CHARS
        assert all(0 < len(o) <= MAX_OPTION_CHARS for o in question.options)
        assert len(set(question.options)) == len(question.options)
        assert len(question.explanation) <= MAX_EXPLANATION_CHARS
        assert passage.citation in question.explanation
        assert question.explanation.startswith("原文:")


def test_wrong_numbers_keep_the_format_and_stay_near():
    import random

    rng = random.Random(1)
    assert set(wrong_numbers("2024年", rng)) <= {"2021年", "2022年", "2023年", "2025年",
                                                 "2026年"}
    dates = wrong_numbers("2023年12月", rng)
    assert "2023年12月" not in dates and all(d.endswith("月") for d in dates)
    values = wrong_numbers("9918.5万", rng)
    assert all(v.endswith("万") and len(v.split(".")[1]) == 2 for v in values)
    assert all(0.6 < float(v[:-1]) / 9918.5 < 1.4 for v in values)
    assert all(float(p[:-1]) < 100 for p in wrong_numbers("77.5%", rng))


def test_every_lecture_of_a_folder_gets_questions(tmp_path, tokenizer):
    shutil.copy(KNOWLEDGE_DIR / "party-lecture-online-conduct.txt", tmp_path)
    write_lecture(tmp_path, "branch-building.txt", SECOND_LECTURE)
    knowledge = KnowledgeBase.load(tmp_path, tokenizer)
    bank = QuizBank.load(knowledge.library, tokenizer)
    assert set(bank.lectures) == {LECTURE_ID, "branch-building"}
    second = bank.lecture("branch-building")
    assert second.path == tmp_path / "branch-building.quiz.tsv" and second.path.is_file()
    assert len(second.askable) >= 4
    for question in second.askable:
        paragraph = knowledge.library.passage(question.passage_id).text
        if BLANK in question.question:
            assert _statement(question).replace(BLANK, question.answer) in paragraph


@pytest.fixture
def folder(tmp_path):
    shutil.copy(KNOWLEDGE_DIR / "party-lecture-online-conduct.txt", tmp_path)
    return tmp_path


def _bank(folder, tokenizer) -> tuple[KnowledgeBase, QuizBank]:
    knowledge = KnowledgeBase.load(folder, tokenizer)
    return knowledge, QuizBank.load(knowledge.library, tokenizer)


def test_the_shipped_questions_file_is_in_step_with_the_lecture(folder, tokenizer):
    shipped = (KNOWLEDGE_DIR / "party-lecture-online-conduct.quiz.tsv").read_text("utf-8")
    (folder / "party-lecture-online-conduct.quiz.tsv").write_text(shipped, "utf-8")
    _, bank = _bank(folder, tokenizer)
    assert (folder / "party-lecture-online-conduct.quiz.tsv").read_text("utf-8") == shipped
    assert len(bank.lecture(LECTURE_ID).askable) >= 20


def test_a_second_load_reads_the_file_and_writes_nothing(folder, tokenizer):
    _, first = _bank(folder, tokenizer)
    path = first.lecture(LECTURE_ID).path
    written = path.stat().st_mtime_ns
    _, second = _bank(folder, tokenizer)
    assert path.stat().st_mtime_ns == written
    assert second.askable() == first.askable()


def test_hand_edits_admin_lines_and_bad_lines_survive_a_changed_paragraph(folder, tokenizer):
    knowledge, bank = _bank(folder, tokenizer)
    path = bank.lecture(LECTURE_ID).path
    third_section = [q for q in bank.lecture(LECTURE_ID).questions if ":3." in q.passage_id]
    lines = path.read_text("utf-8").splitlines()
    first_auto = next(i for i, line in enumerate(lines) if "\t0.1\t" not in line
                      and line.startswith(f"{LECTURE_ID}:1.1"))
    edited = lines[first_auto].split("\t")
    edited[2] = "根据讲稿填空:\\n截至2023年底,中国GCD党员总数达____名。"
    edited[3:5] = ["9918.5万 | 8926.7万 | 10910.4万", "9918.5万"]
    edited[6] = "manual"
    lines[first_auto] = "\t".join(edited)
    admin_line = "\t".join((f"{LECTURE_ID}:3.3", "", "管理员出的题:网络安全法属于?",
                            "国家法律 | 党内法规", "国家法律", "见第三部分"))
    lines += [admin_line, "这一行缺了好几列", f"{LECTURE_ID}:0.1\th\t题目\tA | A\tA\t\tauto"]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    changed_paragraph = knowledge.library.passage(f"{LECTURE_ID}:1.1").text
    lecture = folder / "party-lecture-online-conduct.txt"
    lecture.write_text(lecture.read_text("utf-8").replace(changed_paragraph,
                                                          changed_paragraph + "这是新加的一句。"),
                       "utf-8")

    knowledge, bank = _bank(folder, tokenizer)
    quiz = bank.lecture(LECTURE_ID)
    questions = {q.question: q for q in quiz.questions}
    assert "根据讲稿填空:\n截至2023年底,中国GCD党员总数达____名。" in questions
    assert questions["管理员出的题:网络安全法属于?"].source == "manual"
    assert quiz.problems[0].startswith("party-lecture-online-conduct.quiz.tsv 第")
    assert any("有 1 列,应为 7 列" in p for p in quiz.problems)
    assert any("有重复的选项" in p for p in quiz.problems)
    text = path.read_text("utf-8")
    assert "这一行缺了好几列" in text, "a line the bot cannot read is kept for the admin"
    new_hash = [q for q in quiz.questions if q.passage_id == f"{LECTURE_ID}:1.1"
                and q.source == "auto"]
    assert new_hash, "the changed paragraph got new questions"
    assert all(q.paragraph_hash != edited[1] for q in new_hash)
    assert [q for q in quiz.questions if ":3." in q.passage_id
            and q.source == "auto"] == third_section, "unchanged paragraphs keep their lines"


def test_a_dropped_question_is_never_asked_nor_generated_again(folder, tokenizer):
    _, bank = _bank(folder, tokenizer)
    quiz = bank.lecture(LECTURE_ID)
    victim = quiz.askable[0]
    assert drop_question(quiz.path, victim.key)
    assert not drop_question(quiz.path, victim.key), "already dropped"
    _, bank = _bank(folder, tokenizer)
    assert victim.key not in {q.key for q in bank.askable()}
    assert len(bank.lecture(LECTURE_ID).askable) == len(quiz.askable) - 1
    assert read_questions(quiz_path(bank_lecture(folder, tokenizer))).problems == ()


def bank_lecture(folder, tokenizer):
    return KnowledgeBase.load(folder, tokenizer).library.lecture(LECTURE_ID)
