"""The questions file beside each lecture (`<lecture file stem>.quiz.tsv`) and the bank of all.

One question a line, tab-separated: passage id, paragraph fingerprint, question, options
(separated by " | "), the right option's text, explanation, source. A line break inside a
field is written as \\n. Source is `auto` (generated), `manual` (written or corrected by an
admin: kept whatever happens to its paragraph) or `dropped` (an admin dropped it: kept, so it
is not generated again, and never asked).

Questions are keyed by their paragraph's fingerprint (a hash of its text): at every load, a
paragraph that no line covers (new, or changed since its questions were made) gets generated
questions, and the generated lines of a paragraph that changed are replaced. Everything else,
hand edits included, is kept as it is; a line that cannot be read is kept too, reported with
its line number. The file is written only when that changes something, atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from bot import texts
from bot.core.lectures import Lecture, Library, Passage
from bot.core.text import Tokenizer
from bot.publishing.files import atomic_write
from bot.quiz.generation import (
    AUTO,
    DROPPED,
    MANUAL,
    MAX_EXPLANATION_CHARS,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_QUESTION_CHARS,
    MIN_OPTIONS,
    Question,
    TermPool,
    paragraph_hash,
    passage_questions,
)

log = logging.getLogger(__name__)

QUIZ_SUFFIX = ".quiz.tsv"
OPTION_SEPARATOR = " | "
FIELDS = 7
SOURCES = (AUTO, MANUAL, DROPPED)
HEADER = (
    "# 每日一题题库:每行一题,各列用 Tab 分隔(用 Excel/WPS 或文本编辑器都可以改)。\n"
    "# 列:段落编号 段落指纹 题目 选项(用 | 分隔,2~10 个) 正确选项(写选项原文) 解析 来源\n"
    "# 来源:auto 自动生成(段落改了会重新生成);manual 管理员写的或改过的(永远保留);"
    "dropped 已删除(不再出题,也不会再生成)。\n"
    "# 改过自动生成的题,请把来源改成 manual。题目和解析里的换行写作 \\n。改完发送 /reload。\n"
)


def quiz_path(lecture: Lecture) -> Path:
    return lecture.path.with_name(lecture.path.stem + QUIZ_SUFFIX)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", " ")


def _unescape(text: str) -> str:
    out, chars = [], iter(text)
    for ch in chars:
        if ch == "\\":
            following = next(chars, "")
            out.append("\n" if following == "n" else following)
        else:
            out.append(ch)
    return "".join(out)


def format_line(question: Question) -> str:
    fields = (question.passage_id, question.paragraph_hash, question.question,
              OPTION_SEPARATOR.join(question.options), question.answer, question.explanation,
              question.source)
    return "\t".join(_escape(f) for f in fields)


def parse_line(line: str) -> Question:
    """One line as a Question; ValueError (the reason, in Chinese) if it is not a fair one."""
    fields = [_unescape(f).strip() for f in line.split("\t")]
    if len(fields) == FIELDS - 1:
        fields.append(MANUAL)  # an admin's line without the last column
    if len(fields) != FIELDS:
        raise ValueError(texts.QUIZ_LINE_FIELDS.format(count=len(fields), expected=FIELDS))
    passage_id, fingerprint, question, options_text, answer, explanation, source = fields
    options = tuple(o.strip() for o in options_text.split("|"))
    problem = _problem(passage_id, question, options, answer, explanation, source)
    if problem:
        raise ValueError(problem)
    return Question(passage_id, fingerprint, question, options, options.index(answer),
                    explanation, source)


def _problem(passage_id: str, question: str, options: tuple[str, ...], answer: str,
             explanation: str, source: str) -> str | None:
    checks = (
        (not passage_id, texts.QUIZ_LINE_NO_PASSAGE),
        (not question, texts.QUIZ_LINE_NO_QUESTION),
        (len(question) > MAX_QUESTION_CHARS,
         texts.QUIZ_LINE_TOO_LONG.format(what="题目", limit=MAX_QUESTION_CHARS)),
        (not MIN_OPTIONS <= len(options) <= MAX_OPTIONS,
         texts.QUIZ_LINE_OPTION_COUNT.format(low=MIN_OPTIONS, high=MAX_OPTIONS)),
        (any(not o for o in options), texts.QUIZ_LINE_EMPTY_OPTION),
        (any(len(o) > MAX_OPTION_CHARS for o in options),
         texts.QUIZ_LINE_TOO_LONG.format(what="选项", limit=MAX_OPTION_CHARS)),
        (len(set(options)) != len(options), texts.QUIZ_LINE_SAME_OPTIONS),
        (answer not in options, texts.QUIZ_LINE_ANSWER.format(answer=answer[:20])),
        (len(explanation) > MAX_EXPLANATION_CHARS,
         texts.QUIZ_LINE_TOO_LONG.format(what="解析", limit=MAX_EXPLANATION_CHARS)),
        (source not in SOURCES, texts.QUIZ_LINE_SOURCE.format(source=source[:20])),
    )
    return next((message for failed, message in checks if failed), None)


@dataclass(frozen=True)
class QuestionFile:
    """A questions file as read: its questions, the lines it could not read, the problems."""

    questions: tuple[Question, ...] = ()
    bad_lines: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def read_questions(path: Path) -> QuestionFile:
    """The file's questions; a missing file has none. Never raises for a bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return QuestionFile()
    except (OSError, UnicodeDecodeError) as error:
        return QuestionFile(problems=(texts.QUIZ_FILE_UNREADABLE.format(reason=error),))
    questions, bad, problems = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            questions.append(parse_line(line))
        except ValueError as error:
            bad.append(line)
            problems.append(texts.QUIZ_LINE_PROBLEM.format(file=path.name, line=number,
                                                           reason=error))
    return QuestionFile(tuple(questions), tuple(bad), tuple(problems))


def render_file(questions: Iterable[Question], bad_lines: Iterable[str]) -> str:
    lines = [format_line(q) for q in questions]
    return HEADER + "".join(line + "\n" for line in [*lines, *bad_lines])


def merged_questions(lecture: Lecture, existing: Iterable[Question],
                     generate: Callable[[Passage], list[Question]]) -> list[Question]:
    """The lecture's questions after its paragraphs changed: kept lines follow their paragraph
    (by fingerprint, even if it moved); uncovered paragraphs get generated questions."""
    by_hash = {}
    for passage in lecture.passages:
        by_hash.setdefault(paragraph_hash(passage.text), passage)
    kept: dict[str, list[Question]] = {}
    orphans = []
    for question in existing:
        passage = by_hash.get(question.paragraph_hash)
        if passage is not None:
            kept.setdefault(passage.passage_id, []).append(
                replace(question, passage_id=passage.passage_id))
        elif question.source == MANUAL:
            orphans.append(question)  # its paragraph changed: an admin's line is never lost
    for question in orphans:
        kept.setdefault(question.passage_id, []).append(question)
    merged = []
    for passage in lecture.passages:
        lines = kept.pop(passage.passage_id, [])
        if not any(q.source in (AUTO, DROPPED) for q in lines):
            lines = [*generate(passage), *lines]
        merged.extend(lines)
    for lines in kept.values():
        merged.extend(lines)  # admins' lines on paragraphs that are gone: reported, kept
    return merged


@dataclass(frozen=True)
class LectureQuiz:
    """One lecture's questions file after loading."""

    lecture_id: str
    path: Path
    questions: tuple[Question, ...]  # every line, dropped ones too
    problems: tuple[str, ...]

    @cached_property
    def askable(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.source != DROPPED)


def sync_lecture(lecture: Lecture, generate: Callable[[Passage], list[Question]]
                 ) -> LectureQuiz:
    """Loads the lecture's questions file, generating what is missing; rewrites it if needed."""
    path = quiz_path(lecture)
    found = read_questions(path)
    questions = merged_questions(lecture, found.questions, generate)
    problems = list(found.problems)
    known = {p.passage_id for p in lecture.passages}
    problems += [texts.QUIZ_UNKNOWN_PASSAGE.format(file=path.name, passage=q.passage_id)
                 for q in questions if q.passage_id not in known]
    text = render_file(questions, found.bad_lines)
    try:
        if not path.exists() or path.read_text(encoding="utf-8-sig") != text:
            atomic_write(path, text.encode("utf-8"))
    except OSError as error:
        problems.append(texts.QUIZ_FILE_NOT_WRITTEN.format(file=path.name, reason=error))
    for problem in problems:
        log.warning("%s", problem)
    usable = tuple(q for q in questions if q.passage_id in known)
    return LectureQuiz(lecture.lecture_id, path, usable, tuple(problems))


@dataclass(frozen=True)
class QuizBank:
    """Every lecture's questions, loaded (and generated where missing) from their files."""

    lectures: dict[str, LectureQuiz] = field(default_factory=dict)

    @classmethod
    def load(cls, library: Library, tokenizer: Tokenizer) -> QuizBank:
        """Blocking (file work, and jieba when a paragraph needs questions): run in a thread.

        The term pool (wrong options come from every lecture) is built only if some
        paragraph needs generating: a restart with nothing new reads the files and no more.
        """
        pool: list[TermPool] = []

        def generate(passage: Passage) -> list[Question]:
            if not pool:
                pool.append(TermPool(tokenizer, library.passages))
            return passage_questions(passage, pool[0])

        return cls({lecture.lecture_id: sync_lecture(lecture, generate)
                    for lecture in library.lectures})

    def lecture(self, lecture_id: str) -> LectureQuiz | None:
        return self.lectures.get(lecture_id)

    def for_passage(self, passage_id: str) -> list[Question]:
        return [q for quiz in self.lectures.values() for q in quiz.askable
                if q.passage_id == passage_id]

    def askable(self) -> list[Question]:
        return [q for quiz in self.lectures.values() for q in quiz.askable]

    def find(self, key: str) -> tuple[LectureQuiz, Question] | None:
        for quiz in self.lectures.values():
            for question in quiz.questions:
                if question.key == key:
                    return quiz, question
        return None


def drop_question(path: Path, key: str) -> bool:
    """Marks the question `dropped` in its file (read again first: an admin's edits made since
    the bot loaded it stay). False if no such question is in the file any more."""
    found = read_questions(path)
    if not any(q.key == key and q.source != DROPPED for q in found.questions):
        return False
    questions = [replace(q, source=DROPPED) if q.key == key else q for q in found.questions]
    atomic_write(path, render_file(questions, found.bad_lines).encode("utf-8"))
    return True
