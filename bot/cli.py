"""`lecture-bot`: ask, chat, inspect, quiz, check, export, migrate, run, start — thin wrappers
over the core.

Telegram is imported only by `run` (and `start` with a token), so `ask` starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import texts
from bot.config import (
    DEFAULT_DB_PATH,
    DEFAULT_TIMEZONE,
    SettingsError,
    database_url_from,
    environment,
    token_is_valid,
)
from bot.core.answer import Answer, AnswerKind
from bot.core.checks import evidence
from bot.core.features import CANDIDATES, shares_a_word
from bot.core.knowledge import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase
from bot.core.lectures import Lecture, LectureError, decode_lecture_bytes, load_library
from bot.core.navigation import find_passage, find_withheld, neighbours, withheld_beside
from bot.core.render import (
    help_text,
    hit_summary,
    plain_text,
    toc_text,
    withheld_note,
    withheld_section_text,
)
from bot.storage import DatabaseError, DatabaseUnusable, engine_for
from bot.teach import regression

EXIT_USAGE = 2
# A reader that closed our output: the status a shell gives a command SIGPIPE ended (128 + 13).
EXIT_READER_GONE = 141
QUIT_COMMANDS = {"/quit", "/exit", "quit", "exit", "退出"}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return status
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """The reader of our output left (`lecture-bot quiz --json | head`): stop quietly, as
    `git log | head` does. Python would flush stdout again at exit and print an error, so
    stdout is pointed at /dev/null first (the way the Python docs on SIGPIPE advise)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_READER_GONE


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    bot_process = args.command == "run" or (args.command == "start" and _token_configured())
    try:
        configure_logging(environment(), bot_process)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    return args.handler(args)


# Libraries whose INFO lines are about their own work, not about members and admins:
# APScheduler logs every job run twice ("Running job…", "…executed successfully"), httpx every
# request URL (and a Bot API URL holds the token). They log at WARNING unless
# BOT_LOG_LEVEL=DEBUG.
LIBRARY_LOGGERS = ("apscheduler", "httpx", "httpcore", "jieba")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure_logging(env: dict[str, str], bot_process: bool) -> None:
    """The bot's own log at BOT_LOG_LEVEL (INFO for the bot, WARNING for the other commands
    unless set); the libraries' at WARNING, or at DEBUG with BOT_LOG_LEVEL=DEBUG."""
    wanted = env.get("BOT_LOG_LEVEL", "").strip().upper()
    if wanted and wanted not in LOG_LEVELS:
        raise SettingsError(texts.CLI_BAD_LOG_LEVEL.format(value=wanted,
                                                           levels=", ".join(LOG_LEVELS)))
    level = getattr(logging, wanted) if wanted else (
        logging.INFO if bot_process else logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if token:  # at DEBUG httpx logs each request URL, which holds the token
        for handler in root.handlers:
            handler.addFilter(RedactToken(token))
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level == logging.DEBUG
                                         else max(level, logging.WARNING))


class RedactToken(logging.Filter):
    """Replaces the bot token in every record a handler writes."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def _token_configured() -> bool:
    return bool(environment().get("TELEGRAM_BOT_TOKEN", "").strip())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lecture-bot",
                                     description="讲稿问答机器人 / lecture Q&A bot")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="回答一个问题 / answer one question")
    ask.add_argument("question", nargs="?", help="问题 / the question")
    ask.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    ask.add_argument("--top", type=int, default=5, metavar="K", help="候选段落数 (默认 5)")
    ask.add_argument("--questions", type=Path, metavar="FILE",
                     help="每行一个问题的文件 / one question per line")
    _knowledge_option(ask)
    ask.set_defaults(handler=cmd_ask)

    chat = sub.add_parser("chat", help="本地终端对话 / local terminal chat")
    _knowledge_option(chat)
    chat.set_defaults(handler=cmd_chat)

    inspect = sub.add_parser("inspect", help="检查讲稿与打分 / inspect lectures and scoring")
    inspect.add_argument("--question", help="显示这个问题每个候选段落的打分")
    _knowledge_option(inspect)
    inspect.set_defaults(handler=cmd_inspect)

    quiz = sub.add_parser("quiz", help="每日一题题库(缺的题会生成并写入题库文件)/ quiz questions")
    quiz.add_argument("--lecture", metavar="NAME", help="只看这篇讲稿(标题或文件名的一部分)")
    quiz.add_argument("--json", action="store_true", help="每行输出一个 JSON / JSON lines")
    _knowledge_option(quiz)
    quiz.set_defaults(handler=cmd_quiz)

    check = sub.add_parser("check", help="把问题链接当回归测试运行 / run the question links "
                                         "as regression tests")
    check.add_argument("--without-links", action="store_true",
                       help="另外统计不用链接时机器人自己答对多少 (仅供参考)")
    _knowledge_option(check)
    check.set_defaults(handler=cmd_check)

    run = sub.add_parser("run", help="运行 Telegram 机器人 / run the Telegram bot")
    run.set_defaults(handler=cmd_run)

    start = sub.add_parser("start", help="有令牌时运行机器人,否则本地对话 (make run)")
    _knowledge_option(start, default=None)
    start.set_defaults(handler=cmd_start)

    export = sub.add_parser("export", help="导出学习台账 / export a group's study records")
    export.add_argument("--chat", type=int, required=True, metavar="ID", help="群号 / chat id")
    export.add_argument("--month", required=True, metavar="YYYY-MM", help="月份 / month")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="输出的 .xlsx 文件 / the .xlsx file to write")
    _knowledge_option(export)
    export.set_defaults(handler=cmd_export)

    migrate = sub.add_parser(
        "migrate", help="把 SQLite 数据库复制到空的 PostgreSQL 数据库 / copy SQLite into an "
                        "empty PostgreSQL database",
        description="把 SQLite 数据库的所有表复制到空的 PostgreSQL 数据库,核对每张表的行数。"
                    "复制期间机器人不能在源数据库上运行:请先停止机器人。"
                    " / Copies every table into an empty PostgreSQL database and checks the "
                    "row counts. Stop the bot first: it must not run on the source meanwhile.")
    migrate.add_argument("--from", dest="source", type=Path, metavar="FILE",
                         help=f"SQLite 文件 (默认 BOT_DB_PATH 或 {DEFAULT_DB_PATH})")
    migrate.add_argument("--to", dest="target", metavar="URL",
                         help="目标 postgresql://… (默认 BOT_DATABASE_URL)")
    migrate.set_defaults(handler=cmd_migrate)
    return parser


def _knowledge_option(parser: argparse.ArgumentParser, default: Path | None = None) -> None:
    parser.add_argument("--knowledge", type=Path, metavar="DIR", default=default,
                        help=f"讲稿目录 (默认 BOT_KNOWLEDGE_DIR 或 {DEFAULT_KNOWLEDGE_DIR})")


def _knowledge_dir(args: argparse.Namespace) -> Path:
    if args.knowledge is not None:
        return args.knowledge
    return Path(environment().get("BOT_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR)


def _missing_knowledge(args: argparse.Namespace) -> bool:
    """True (and one line on stderr) when the knowledge folder does not exist: `check &&
    restart` must not pass on a typo, nor `ask` answer "not covered" from nothing."""
    folder = _knowledge_dir(args)
    if folder.is_dir():
        return False
    print(texts.CLI_NO_KNOWLEDGE.format(path=folder), file=sys.stderr)
    return True


def _load(args: argparse.Namespace) -> KnowledgeBase:
    # The command line answers a question or a few: the thesaurus waits until one needs it.
    knowledge = KnowledgeBase.load(_knowledge_dir(args), warm_up=False)
    for failure in knowledge.library.failures:
        print(f"警告:{texts.INSPECT_FAILED} {failure}", file=sys.stderr)
    return knowledge


def cmd_ask(args: argparse.Namespace) -> int:
    if args.question is None and args.questions is None:
        print(texts.CLI_NO_QUESTION, file=sys.stderr)
        return EXIT_USAGE
    try:
        questions = _questions(args)
    except QuestionsFileError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    if _missing_knowledge(args):
        return EXIT_USAGE
    knowledge = _load(args)
    for question in questions:
        answer = knowledge.answer(question, top_k=max(args.top, 1))
        if args.json:
            print(json.dumps(answer_json(answer), ensure_ascii=False))
        else:
            print(plain_text(answer, knowledge.library))
            print()
    return 0


class QuestionsFileError(Exception):
    """The --questions file cannot be read; the message is the one line the user sees."""


def _questions(args: argparse.Namespace) -> list[str]:
    """The question argument, then each line of the questions file (read before anything is
    answered, so a bad file fails at once)."""
    questions = [args.question] if args.question is not None else []
    if args.questions is not None:
        questions += _read_questions_file(args.questions)
    return questions


def _read_questions_file(path: Path) -> list[str]:
    """Lines of UTF-8 or GBK/GB18030 text, decoded as lecture files are."""
    try:
        text = decode_lecture_bytes(path, path.read_bytes())
    except OSError as error:
        reason = error.strerror or type(error).__name__
    except LectureError as error:
        reason = error.reason
    else:
        return text.splitlines()
    raise QuestionsFileError(texts.CLI_QUESTIONS_UNREADABLE.format(file=path, reason=reason))


def answer_json(answer: Answer) -> dict:
    """The CLI's public JSON contract for one message (see docs/usage.md): the fields of the
    question answered best, and `parts` with each question's own answer when it asked
    several."""
    result = _answer_fields(answer)
    if answer.parts:
        result["parts"] = [_answer_fields(part) for part in answer.parts]
    return result


def _answer_fields(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "answered": answer.answered,
        "kind": answer.kind.value,
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
        "answer": answer.reading.as_dict() if answer.reading and answer.answered else None,
        "results": [
            {
                "passage_id": hit.passage.passage_id,
                "lecture": hit.passage.lecture_title,
                "section": hit.passage.section_heading,
                "subheading": hit.passage.subheading,
                "paragraph": hit.passage.paragraph_no,
                "citation": hit.passage.citation,
                "score": hit.score,
                "coverage": hit.coverage,
                "text": hit.passage.text,
                "matched_sentences": list(hit.sentences),
            }
            for hit in answer.hits
        ],
    }


def cmd_chat(args: argparse.Namespace) -> int:
    return chat(_load(args), sys.stdin, sys.stdout)


def chat(knowledge: KnowledgeBase, stdin: TextIO, stdout: TextIO) -> int:
    """Answers each line; with a terminal, prompts; without one, stops at end of input."""
    interactive = stdin.isatty()
    if interactive:
        print(texts.CHAT_WELCOME, file=stdout)
    while True:
        if interactive:
            print(texts.CHAT_PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        question = line.strip()
        if question in QUIT_COMMANDS:
            break
        if interactive and not question:
            continue
        print(reply_for(knowledge, question), file=stdout)
        print(file=stdout, flush=True)
    if interactive:
        print(texts.CHAT_BYE, file=stdout)
    return 0


def reply_for(knowledge: KnowledgeBase, line: str) -> str:
    """What the bot replies to one line of the terminal chat (commands included)."""
    command = line.split(maxsplit=1)[0].lower() if line.startswith("/") else ""
    if command in ("/start", "/help"):
        return help_text()
    if command == "/toc":
        return toc_text(knowledge.library)
    if command == "/read":
        return _read(knowledge, line[len(command):].strip())
    if command == "/ask":
        line = line[len(command):]
    answer = knowledge.answer(line)
    reply = plain_text(answer, knowledge.library)
    if answer.best and (answer.answered or answer.kind == AnswerKind.CLOSEST) \
            and not answer.parts:
        reply += "\n" + _buttons_hint(knowledge, answer.best.passage)
    return reply


def _read(knowledge: KnowledgeBase, selector: str) -> str:
    if not selector:
        return texts.READ_USAGE
    passage = find_passage(knowledge.library, selector)
    if passage is None:
        withheld = find_withheld(knowledge.library, selector)
        if withheld is not None:
            return withheld_section_text(*withheld)
        return texts.READ_NOT_FOUND.format(selector=texts.echoed(selector))
    before, after = withheld_beside(knowledge.library, passage)
    quote = "\n".join(filter(None, (withheld_note(before) if before else "",
                                    passage.heading_line, passage.text,
                                    withheld_note(after) if after else "")))
    text = f"{texts.ANSWER_HEADER.format(citation=passage.citation)}\n\n{quote}"
    return text + "\n" + _buttons_hint(knowledge, passage)


def _buttons_hint(knowledge: KnowledgeBase, passage) -> str:
    """The terminal's stand-in for the 上一段/下一段 buttons: the commands that do the same."""
    before, after = neighbours(knowledge.library, passage)
    commands = [template.format(selector=f"{p.section_no}.{p.paragraph_no}")
                for template, p in ((texts.CHAT_BUTTON_PREVIOUS, before),
                                    (texts.CHAT_BUTTON_NEXT, after)) if p is not None]
    return texts.CHAT_BUTTONS_HINT.format(commands=" · ".join(commands)) if commands else ""


def cmd_inspect(args: argparse.Namespace) -> int:
    knowledge = KnowledgeBase.load(_knowledge_dir(args))
    if args.question:
        _print_scoring(knowledge, args.question)
    else:
        _print_library(knowledge)
    return 0


def _print_library(knowledge: KnowledgeBase) -> None:
    library = knowledge.library
    if not library.lectures and not library.failures:
        print(texts.INSPECT_NO_LECTURES.format(folder=knowledge.folder))
    for lecture in library.lectures:
        print(f"《{lecture.title}》 文件:{lecture.path.name}  段落:{len(lecture.passages)}")
        if lecture.meta:
            print(f"  信息:{lecture.meta}")
        for section in lecture.sections:
            print(f"  [{section.number}] {section.heading}({len(section.passages)}段)")
        for gap in lecture.gaps:
            missing = "、".join(str(n) for n in gap.missing_section_nos) or "无"
            print(f"  缺失:第{missing}部分,约{gap.chars or '?'}字(标记:{gap.marker})")
        for warning in lecture.warnings:
            print(f"  警告:{warning}")
    for failure in library.failures:
        print(f"{texts.INSPECT_FAILED}:{failure.path.name}:{failure.reason}")


def _print_scoring(knowledge: KnowledgeBase, question: str) -> None:
    tokenizer = knowledge.index.tokenizer
    analysis = tokenizer.analyze(question)
    print(f"问题:{question}")
    print(f"分词:{' / '.join(analysis.words)}")
    weights = ", ".join(f"{w}={tokenizer.word_weight(w):.1f}" for w in analysis.content_words)
    print(f"关键词(权重):{weights}")
    answer = knowledge.answer(question, top_k=10)
    confidence = "" if answer.confidence is None else f"(把握 {answer.confidence:.0%})"
    print(f"判定:{answer.kind.value}{confidence}")
    searched, hits = knowledge.index.search_query(question, top_k=10)
    probabilities = knowledge.answerer.candidate_probabilities(question, searched, tuple(hits))
    verdicts = evidence(question, hits, tokenizer)
    for rank, (hit, verdict) in enumerate(zip(hits, verdicts, strict=True), start=1):
        chance = f",把握 {probabilities[rank - 1]:.0%}" if rank <= CANDIDATES else ""
        if chance and not shares_a_word(hit):
            chance += "(不含问题里的任何词,不会给出)"
        print(f"{rank:2d}. {hit_summary(hit)}{chance}")
        print(f"    命中词:{'、'.join(hit.matched_terms) or '无'}")
        for reason in verdict.reasons:
            print(f"    不利证据:{reason}")
        for sentence in hit.sentences:
            print(f"    命中句:{sentence}")


def cmd_quiz(args: argparse.Namespace) -> int:
    from bot.quiz.bank import QuizBank
    from bot.study.rules import find_lecture

    knowledge = _load(args)
    wanted = None
    if args.lecture:
        wanted = find_lecture(knowledge.library, args.lecture)
        if not isinstance(wanted, Lecture):
            print(texts.CLI_QUIZ_NO_LECTURE.format(name=args.lecture), file=sys.stderr)
            return EXIT_USAGE
    bank = QuizBank.load(knowledge.library, knowledge.index.tokenizer)
    for quiz in bank.lectures.values():
        if wanted is None or quiz.lecture_id == wanted.lecture_id:
            for problem in quiz.problems:
                print(f"警告:{problem}", file=sys.stderr)
            for question in quiz.askable:
                print(json.dumps(quiz_json(question), ensure_ascii=False) if args.json
                      else quiz_text(question))
    return 0


def quiz_json(question) -> dict:
    """The CLI's public JSON contract for one quiz question (see docs/usage.md)."""
    return {"question": question.question, "options": list(question.options),
            "correct": question.correct, "explanation": question.explanation,
            "passage_id": question.passage_id}


def quiz_text(question) -> str:
    options = "\n".join(f"  {'✅' if i == question.correct else '  '} {option}"
                        for i, option in enumerate(question.options))
    return f"[{question.passage_id}] {question.question}\n{options}\n"


def cmd_check(args: argparse.Namespace) -> int:
    """Exit status 0 when every link of every lecture passes, 1 when any fails, 2 without
    a knowledge folder."""
    if _missing_knowledge(args):
        return EXIT_USAGE
    knowledge = _load(args)
    checks = regression.check_knowledge(knowledge, args.without_links)
    for line in regression.report_lines(checks):
        print(line)
    return 1 if any(check.failures for check in checks) else 0


def cmd_run(args: argparse.Namespace) -> int:
    env = environment()
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        print(texts.CLI_TOKEN_MISSING, file=sys.stderr)
        return EXIT_USAGE
    if not token_is_valid(token):
        print(texts.CLI_TOKEN_INVALID, file=sys.stderr)
        return EXIT_USAGE
    try:
        from bot.app import run_bot
    except ImportError as error:  # the Telegram layer arrives with its own issue
        print(f"Telegram 机器人尚不可用 / the Telegram bot is not available: {error}",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        return run_bot(env)
    except (SettingsError, DatabaseUnusable) as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE


def cmd_start(args: argparse.Namespace) -> int:
    if _token_configured():
        return cmd_run(args)
    return cmd_chat(args)


def cmd_export(args: argparse.Namespace) -> int:
    """The same workbook /export sends, from the database the bot is configured with."""
    from bot.records.export import UnknownChat, export_month
    from bot.records.rules import parse_month

    month = parse_month(args.month)
    if month is None:
        print(texts.RECORDS_BAD_MONTH.format(text=texts.echoed(args.month)), file=sys.stderr)
        return EXIT_USAGE
    env = environment()
    db_path = Path(env.get("BOT_DB_PATH") or DEFAULT_DB_PATH)
    try:
        database = database_url_from(env) or db_path
    except SettingsError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    if database == db_path and not db_path.is_file():
        print(texts.CLI_NO_DATABASE.format(path=db_path), file=sys.stderr)
        return EXIT_USAGE
    if _missing_knowledge(args):
        return EXIT_USAGE
    library = load_library(_knowledge_dir(args))
    timezone = env.get("BOT_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        data = asyncio.run(export_month(database, library, args.chat, month, timezone))
    except UnknownChat:
        print(texts.CLI_UNKNOWN_CHAT.format(chat=args.chat, path=describe(database)),
              file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnusable as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as error:  # unreadable, not a database, locked for good
        print(texts.CLI_DATABASE_UNUSABLE.format(path=describe(database), error=error),
              file=sys.stderr)
        return EXIT_USAGE
    args.output.write_bytes(data)
    print(texts.CLI_EXPORTED.format(path=args.output))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Exit status 0 when every row arrived, 1 when the copy failed (rolled back), 2 when it
    could not start."""
    from bot.storage.copy import CopyMismatch, CopyRefused, copy_database
    from bot.stores import SCHEMAS

    env = environment()
    source = args.source or Path(env.get("BOT_DB_PATH") or DEFAULT_DB_PATH)
    try:
        target = args.target or database_url_from(env)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    if not target:
        print(texts.MIGRATE_NO_TARGET, file=sys.stderr)
        return EXIT_USAGE
    try:
        counts = asyncio.run(copy_database(source, target, SCHEMAS))
    except (CopyRefused, DatabaseUnusable) as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except CopyMismatch as error:
        print(error, file=sys.stderr)
        return 1
    except DatabaseError as error:  # a row the target refused, a lost connection
        print(texts.MIGRATE_FAILED.format(error=" ".join(str(error).split())), file=sys.stderr)
        return 1
    width = max([len(texts.MIGRATE_COUNTS_HEADER), *(len(c.table) for c in counts)])
    print(f"{texts.MIGRATE_COUNTS_HEADER:<{width}}  {'SQLite':>8} → PostgreSQL")
    for count in sorted(counts, key=lambda count: count.table):
        print(f"{count.table:<{width}}  {count.source:>8} → {count.target}")
    print(texts.MIGRATE_DONE.format(tables=len(counts), rows=sum(c.target for c in counts),
                                    target=describe(target)))
    return 0


def describe(database: Path | str) -> str:
    """The database as a message may name it (a URL without its password)."""
    return engine_for(database).describe()


if __name__ == "__main__":
    sys.exit(main())
