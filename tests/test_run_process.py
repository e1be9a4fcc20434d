"""`lecture-bot run` as a real process: run_polling, post_init and post_shutdown for real."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE_DIR, ROOT
from tests.fakebotapi import FakeBotApi

TOKEN = "123456:TEST-token-for-the-fake-server"


@pytest.mark.usefixtures("workdir")
def test_the_bot_process_answers_and_shuts_down_cleanly(server: FakeBotApi, tmp_path: Path):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.url,
           "BOT_KNOWLEDGE_DIR": str(KNOWLEDGE_DIR), "BOT_DB_PATH": str(tmp_path / "bot.db"),
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        server.wait_for_sync("getUpdates", timeout=60)  # post_init done: it polls
        server.push_update(server.text_message(1001, "网民规模有多大"))
        (answer,) = server.wait_for_sync("sendMessage", timeout=30)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert "10.92亿" in answer.params["text"]
    assert process.returncode == 0, output
    assert TOKEN.split(":")[1] not in output, "the token must never be logged"
    assert (tmp_path / "bot.db").is_file()


GROUP_CHAT = -100200300
GROUP_ADMIN = 5001
BOT_ADMIN = 9999


def _start_bot(server: FakeBotApi, db_path: Path, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.url,
           "BOT_KNOWLEDGE_DIR": str(KNOWLEDGE_DIR), "BOT_DB_PATH": str(db_path),
           "BOT_ADMIN_IDS": str(BOT_ADMIN), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    mark = server.mark()
    server.wait_for_sync("getUpdates", timeout=60, since=mark)  # post_init done: it polls
    return process


def _command(server: FakeBotApi, text: str, user_id: int) -> dict:
    return server.push_update(server.text_message(GROUP_CHAT, text, user_id=user_id))


def _reply(server: FakeBotApi, text: str, user_id: int) -> str:
    mark = server.mark()
    _command(server, text, user_id)
    (reply,) = server.wait_for_sync("sendMessage", timeout=30, since=mark)
    return reply.params["text"]


def _pushes_the_group_got(server: FakeBotApi) -> list[str]:
    # The daily quiz follows a delivered push as a poll: only text messages are pushes.
    return [m["text"].split("\n")[0] for m in server.sent_messages(GROUP_CHAT)
            if "今日学习" in m.get("text", "") and "reply_to_message" not in m]


@pytest.mark.usefixtures("workdir")
def test_a_bot_killed_mid_push_counts_it_once_and_tells_the_admins(server: FakeBotApi,
                                                                   tmp_path: Path):
    """SIGKILL while Telegram holds the push's answer (the group already has the message):
    after a restart the store is intact, the plan advanced exactly once, /today shows the
    push, the admins are told with a send-now button, and nothing is sent twice."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    db_path = tmp_path / "bot.db"
    first = _start_bot(server, db_path, tmp_path)
    try:
        assert _reply(server, "/subscribe", GROUP_ADMIN).startswith("已开始每日学习")
        hold = server.hold_next("sendMessage", when=lambda params: "今日学习" in params["text"])
        push_command = _command(server, "/push", GROUP_ADMIN)
        hold.wait_arrived(timeout=30)
        # Telegram has the /push update confirmed, as it would before the bot dies.
        server.wait_for_sync("getUpdates", lambda call: call.params.get("offset", 0)
                             > push_command["update_id"], timeout=30)
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        hold.release()
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT state FROM pushes").fetchall() == [("sending",)]

    second = _start_bot(server, db_path, tmp_path)
    try:
        (alert,) = server.wait_for_sync("sendMessage", lambda c: c.params["chat_id"]
                                        == GROUP_ADMIN, timeout=30)
        today = _reply(server, "/today", 424242)
        next_push = _reply(server, "/push", GROUP_ADMIN)
        second.send_signal(signal.SIGINT)
        output, _ = second.communicate(timeout=30)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, output
    assert "不确定" in alert.params["text"] and "第1/6段" in alert.params["text"]
    assert alert.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "立即发送"
    assert today.startswith("📖 今日学习 · 第1/6段")
    assert next_push.startswith("📖 今日学习 · 第2/6段"), "the plan advanced exactly once"
    assert _pushes_the_group_got(server) == ["📖 今日学习 · 第1/6段", "📖 今日学习 · 第2/6段"]
    assert [m["chat"]["id"] for m in server.sent_messages() if "不确定" in m.get("text", "")] \
        == [GROUP_ADMIN], "told once, the group's admin"
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        states = connection.execute("SELECT state, message_id IS NULL FROM pushes "
                                    "ORDER BY push_id").fetchall()
        (last_passage,) = connection.execute("SELECT last_passage_id FROM plans").fetchone()
    assert states == [("unknown", 1), ("delivered", 0)]
    assert last_passage.endswith(":1.1")
