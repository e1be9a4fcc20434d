"""The command line: ask (text and JSON), chat without a terminal, inspect, run's token check."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import chat, main
from bot.core.text import normalize
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID, ROOT, write_lecture


def test_ask_json_contract(capsys):
    assert main(["ask", "--json", "--top", "3", "--knowledge", str(KNOWLEDGE_DIR),
                 "党员总数有多少"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["question"] == "党员总数有多少" and result["answered"] is True
    assert len(result["results"]) == 3
    first = result["results"][0]
    assert set(first) >= {"passage_id", "lecture", "section", "paragraph", "citation", "score",
                          "text", "matched_sentences"}
    assert first["passage_id"] == f"{LECTURE_ID}:1.1"
    assert first["lecture"] == "党课:发挥模范带头作用 规范网络行为"
    assert any("9918.5万" in s for s in first["matched_sentences"])
    assert first["text"] in (KNOWLEDGE_DIR / f"{LECTURE_ID}.txt").read_text(encoding="utf-8")


def test_ask_json_gives_the_decisions_confidence_and_each_questions_answer(capsys, tmp_path):
    from dataclasses import replace

    from bot.core.decision import Thresholds, shipped_model

    assert main(["ask", "--json", "--knowledge", str(KNOWLEDGE_DIR), "网民规模多大"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 < result["confidence"] <= 1 and "parts" not in result
    assert main(["ask", "--json", "--knowledge", str(KNOWLEDGE_DIR),
                 "老师好!三地是啥?另外网民规模多大?"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [part["question"] for part in result["parts"]] == ["三地是啥?", "网民规模多大?"]
    assert result["question"] in {part["question"] for part in result["parts"]}
    assert all(part["results"] for part in result["parts"])
    # the closest paragraph: not answered, the paragraph first, with its confidence
    from bot.cli import answer_json
    from bot.core.knowledge import KnowledgeBase

    knowledge = KnowledgeBase.load(KNOWLEDGE_DIR, warm_up=False)
    closest = knowledge.with_model(replace(shipped_model(), thresholds=Thresholds(1.01, 0.0)))
    shown = answer_json(closest.answer("网民规模多大"))
    assert shown["kind"] == "closest" and shown["answered"] is False
    assert shown["results"][0]["passage_id"] == f"{LECTURE_ID}:1.2"
    assert 0 < shown["confidence"] <= 1


def test_ask_questions_file_one_object_per_line_in_order(tmp_path: Path, capsys):
    questions = tmp_path / "q.txt"
    questions.write_text("第二部分讲了什么\n你好\n党费怎么交\n", encoding="utf-8")
    assert main(["ask", "--json", "--questions", str(questions)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in lines] == ["第二部分讲了什么", "你好", "党费怎么交"]
    assert [r["answered"] for r in lines] == [False, False, False]


def test_ask_without_question_is_a_usage_error(capsys):
    assert main(["ask"]) == 2
    assert "问题" in capsys.readouterr().err


def test_chat_answers_each_line_and_exits_at_end_of_input(knowledge):
    out = io.StringIO()
    assert chat(knowledge, io.StringIO("你好\n第二部分讲了什么\n/toc\n"), out) == 0
    text = out.getvalue()
    assert "学习助手" in text and "原文缺少第二部分" in text and "目录" in text


def test_inspect_lists_lectures_gaps_and_broken_files(tmp_path: Path, capsys):
    write_lecture(tmp_path, "a.txt",
                  "讲稿甲\n\n一、开始\n内容。\n---此处隐藏100字---\n三、结束\n内容三。\n")
    (tmp_path / "broken.md").write_bytes(b"\x00\x01binary")
    assert main(["inspect", "--knowledge", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "《讲稿甲》" in out and "缺失:第2部分,约100字" in out
    assert "broken.md" in out and "二进制" in out


def test_inspect_question_shows_scoring(capsys):
    assert main(["inspect", "--knowledge", str(KNOWLEDGE_DIR), "--question", "网民规模"]) == 0
    out = capsys.readouterr().out
    assert "分词" in out and "得分" in out and "网民" in out
    assert "不能作答" not in out.split("\n 2.")[0], "the answering passage passes every check"


def test_inspect_says_why_a_paragraph_sharing_no_word_is_not_given(capsys):
    main(["inspect", "--knowledge", str(KNOWLEDGE_DIR), "--question", "明天的天气"])
    first = capsys.readouterr().out.split("\n 1.")[1].split("\n")[0]
    assert first.endswith("把握 0%(不含问题里的任何词,不会给出)")


def test_inspect_question_shows_the_decision_and_the_evidence_against_each_passage(capsys):
    main(["inspect", "--knowledge", str(KNOWLEDGE_DIR), "--question", "2022年网民规模多大"])
    out = capsys.readouterr().out
    assert re.search(r"判定:\w+\(把握 \d+%\)", out)
    assert re.search(r"^ 1\. .*,把握 \d+%$", out, re.MULTILINE)
    assert "不利证据:问题中的数字(2022)不与其他关键词同在一句" in out


def _run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_run_without_or_with_malformed_token_exits_2(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    missing = _run_cli("run", env=env)
    assert missing.returncode == 2 and "TELEGRAM_BOT_TOKEN" in missing.stderr
    assert "Traceback" not in missing.stderr
    malformed = _run_cli("run", env={**env, "TELEGRAM_BOT_TOKEN": "123:ABC"})
    assert malformed.returncode == 2 and "格式不对" in malformed.stderr
    # The refusal shows what a token looks like: digits, a colon, 35 characters.
    assert "35" in malformed.stderr
    examples = re.findall(r"\d+:[A-Za-z0-9_-]+", malformed.stderr)
    assert examples and all(re.fullmatch(r"\d+:[A-Za-z0-9_-]{35}", e) for e in examples)


def test_the_readme_shows_a_token_of_the_real_form():
    from bot import texts

    assert re.fullmatch(r"\d+:[A-Za-z0-9_-]{35}", texts.TOKEN_EXAMPLE)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert texts.TOKEN_EXAMPLE in readme and "35" in readme


def test_cli_ask_does_not_import_telegram():
    code = ("import sys; from bot.cli import main; main(['ask','--json','网民']); "
            "assert not any(m == 'telegram' or m.startswith('telegram.') for m in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_webhook_without_secret_and_bad_time_zone_are_refused(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK", "BOT_"))}
    env["TELEGRAM_BOT_TOKEN"] = "123456:" + "A" * 30
    no_secret = _run_cli("run", env={**env, "WEBHOOK_URL": "https://example.org/hook"})
    assert no_secret.returncode == 2 and "WEBHOOK_SECRET" in no_secret.stderr
    bad_zone = _run_cli("run", env={**env, "BOT_TIMEZONE": "Mars/Olympus"})
    assert bad_zone.returncode == 2 and "BOT_TIMEZONE" in bad_zone.stderr
    assert "Traceback" not in no_secret.stderr + bad_zone.stderr


def test_quiz_json_one_question_a_line_with_the_ask_passage_ids(tmp_path: Path, capsys):
    for name in ("party-lecture-online-conduct.txt", "party-lecture-online-conduct.quiz.tsv"):
        (tmp_path / name).write_bytes((KNOWLEDGE_DIR / name).read_bytes())
    assert main(["quiz", "--json", "--knowledge", str(tmp_path), "--lecture", "党课"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) >= 20
    assert all(set(line) == {"question", "options", "correct", "explanation", "passage_id"}
               for line in lines)
    first = lines[0]
    assert 0 <= first["correct"] < len(first["options"])
    assert main(["ask", "--json", "--knowledge", str(tmp_path), "党员总数有多少"]) == 0
    asked = json.loads(capsys.readouterr().out)["results"][0]["passage_id"]
    assert asked in {line["passage_id"] for line in lines}
    assert main(["quiz", "--knowledge", str(tmp_path), "--lecture", "没有这篇"]) == 2
    assert "没有这篇" in capsys.readouterr().err
@pytest.mark.parametrize("make, reason", [
    (lambda folder: folder / "missing.txt", "No such file or directory"),
    (lambda folder: folder, "Is a directory"),
    (lambda folder: write_bytes(folder / "binary.txt", b"\x00\x01\x02" * 100), "二进制"),
    (lambda folder: write_bytes(folder / "odd.txt", b"\xff\xfe\x80" * 50), "无法识别的文字编码"),
])
def test_an_unreadable_questions_file_is_one_line_and_exit_status_2(tmp_path: Path, capsys,
                                                                    make, reason):
    path = make(tmp_path)
    assert main(["ask", "--json", "--questions", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"无法读取问题文件 {path}:") and reason in line
    assert f"cannot read the questions file {path}" in line


def test_the_command_line_reports_a_missing_questions_file_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "--questions",
                             str(tmp_path / "none.txt")], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_a_questions_file_is_read_like_a_lecture_file(tmp_path: Path, capsys, encoding):
    questions = tmp_path / "q.txt"
    questions.write_bytes("网民规模有多大\r\n党员总数有多少\r\n".encode(encoding))
    assert main(["ask", "--json", "--questions", str(questions)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in lines] == ["网民规模有多大", "党员总数有多少"]
    assert all(r["answered"] for r in lines)


@pytest.mark.parametrize("dressed", [
    "\x1b[31m网民规模有多大\x1b[0m",          # colour, as pasted from a terminal
    "\x1b]0;窗口标题\x07网民规模有多大",        # OSC: a window title
    "网民\x1b[1;4m规模\x1b[m有多大\x00\x07",   # attributes and stray control characters
])
def test_escape_sequences_and_control_characters_are_stripped_before_matching(
        knowledge, dressed):
    clean = knowledge.answer("网民规模有多大")
    answer = knowledge.answer(dressed)
    assert normalize(dressed) == "网民规模有多大"
    assert [hit.passage.passage_id for hit in answer.hits] == \
        [hit.passage.passage_id for hit in clean.hits]
    assert [hit.score for hit in answer.hits] == [hit.score for hit in clean.hits]


def test_the_parameters_of_an_escape_sequence_are_not_read_as_a_number(tokenizer):
    assert "31" not in tokenizer.analyze("\x1b[31m党员\x1b[0m").words
    assert "31" in tokenizer.analyze("党员31").words


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# Every command that prints, as an admin would pipe it into `head` (exit quietly, as `git log |
# head` does: no BrokenPipeError traceback).
PIPED_COMMANDS = [
    ["--help"],
    ["ask", "--help"],
    ["ask", "网民规模有多大"],
    ["ask", "--json", "网民规模有多大"],
    ["chat"],
    ["inspect"],
    ["inspect", "--question", "网民规模有多大"],
    ["quiz", "--json"],
    ["quiz"],
    ["check"],
]


def _cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "BOT_"))}
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for path in KNOWLEDGE_DIR.glob("party-lecture-online-conduct.*"):
        (knowledge / path.name).write_bytes(path.read_bytes())
    return {**env, "BOT_KNOWLEDGE_DIR": str(knowledge), "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("args", PIPED_COMMANDS, ids=" ".join)
def test_every_output_survives_a_reader_that_closed(args: list[str], tmp_path: Path):
    """The reader is gone before the command prints anything (deterministic: the pipe's
    reading end is closed before the process starts)."""
    reading, writing = os.pipe()
    os.close(reading)
    try:
        done = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path,
                              env=_cli_env(tmp_path), stdout=writing, stderr=subprocess.PIPE,
                              input="网民规模有多大\n", text=True, timeout=120)
    finally:
        os.close(writing)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr


def test_a_reader_that_stops_after_the_first_line_ends_the_command_quietly(tmp_path: Path):
    """`lecture-bot ask --json --questions FILE | head -1`: far more than a pipe holds."""
    questions = tmp_path / "questions.txt"
    questions.write_text("网民规模有多大\n党员发帖子组织上管得着吗\n" * 150, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "ask", "--json",
                                "--questions", str(questions)], cwd=tmp_path,
                               env=_cli_env(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        first = json.loads(process.stdout.readline())
        process.stdout.close()
        _, errors = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert first["question"] == "网民规模有多大"
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors, errors.decode()
    assert process.returncode != 0  # stopped early, as `git log | head` leaves git
