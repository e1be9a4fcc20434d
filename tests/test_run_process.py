"""`lecture-bot run` as a real process: run_polling, post_init and post_shutdown for real."""

from __future__ import annotations

import os
import signal
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
