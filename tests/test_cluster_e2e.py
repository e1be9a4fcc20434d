"""Two bot processes on one PostgreSQL database, each behind its own webhook, as a reverse
proxy would spread Telegram's updates over them: every flow works whichever instance gets
which update, and the scheduler's work survives a kill -9 of the instance doing it.

Real processes (`lecture-bot run` in webhook mode), the real HTTP layer, a real throwaway
PostgreSQL (tests/postgres.py) and the fake Bot API; nothing mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from bot.study.rules import EVERY_DAY
from bot.study.store import Plan
from tests.conftest import KNOWLEDGE_DIR, ROOT
from tests.fakebotapi import FakeBotApi
from tests.postgres import free_port

TOKEN = "123456:TEST-token-for-the-fake-server"
SECRET = "cluster-test-secret"
BOT_ADMIN = 9999
GROUP_ADMIN = 5001
GROUP = -100300400
MEMBER = 31337
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Start-up loads jieba, the index and the learned trees: seconds, more on a busy machine.
READY_TIMEOUT_S = 120
# The lease expires 15 s after its holder's last tick, and ticks come every 2 s.
TAKEOVER_LIMIT_S = 30
_update_ids = itertools.count(1)


class Instance:
    """One `lecture-bot run` process in webhook mode; `post` is the proxy handing it an
    update."""

    def __init__(self, name: str, server: FakeBotApi, database_url: str, knowledge: Path,
                 root: Path):
        self.name = name
        self.server = server
        self.port = free_port()
        self.workdir = root / name
        self.workdir.mkdir(parents=True)
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.url,
               "BOT_KNOWLEDGE_DIR": str(knowledge), "BOT_DATABASE_URL": database_url,
               "BOT_DB_PATH": str(self.workdir / "bot.sqlite3"),
               "BOT_ADMIN_IDS": str(BOT_ADMIN), "WEBHOOK_URL": f"http://127.0.0.1:{self.port}/hook",
               "WEBHOOK_SECRET": SECRET, "WEBHOOK_LISTEN": "127.0.0.1",
               "WEBHOOK_PORT": str(self.port), "PYTHONPATH": str(ROOT)}
        self.log = (self.workdir / "log.txt").open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"],
                                        cwd=self.workdir, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self) -> Instance:
        """The webhook listens once start-up (post_init: the lease, the jobs) is done."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.output()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready: {self.output()}")

    def post(self, update: dict) -> None:
        self.post_as_is(self.server.webhook_update({"update_id": next(_update_ids), **update}))

    def post_as_is(self, update: dict) -> None:
        response = httpx.post(f"http://127.0.0.1:{self.port}/hook", json=update,
                              headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10)
        assert response.status_code == 200, response.text

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return (self.workdir / "log.txt").read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture
def shared_knowledge(tmp_path: Path) -> Path:
    """The knowledge folder every instance reads and publishes into (a shared volume)."""
    target = tmp_path / "shared" / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


@pytest.fixture
def instances(server, pg_url, shared_knowledge, tmp_path):
    """A starts first and so holds the scheduler lease; B joins."""
    started: list[Instance] = []

    def start(name: str) -> Instance:
        instance = Instance(name, server, pg_url, shared_knowledge, tmp_path)
        started.append(instance)
        return instance.wait_ready()

    try:
        yield start
    finally:
        for instance in started:
            instance.stop()


def _reply(server: FakeBotApi, instance: Instance, update: dict, method: str = "sendMessage",
           timeout: float = 20.0):
    mark = server.mark()
    instance.post(update)
    (call,) = server.wait_for_sync(method, since=mark, timeout=timeout)
    return call


def _buttons(call) -> dict[str, str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def _rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


def _lease_holder(url: str) -> str | None:
    rows = _rows(url, "SELECT holder FROM cluster_leases WHERE name = 'scheduler'")
    return rows[0][0] if rows else None


def _wait_until(condition, timeout: float, what: str, details=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s: {what}\n{details()}")


NEW_LECTURE = ("党课:党费的交纳\n\n一、按月交纳\n\n"
               "党员应当每月按时交纳党费,在职党员按月工资收入的百分之零点五至百分之二交纳。\n")


def test_every_flow_works_whichever_instance_gets_the_update(server, instances, pg_url):
    server.chat_admins[GROUP] = [GROUP_ADMIN]
    a = instances("a")
    assert _lease_holder(pg_url).split(":")[1] == str(a.process.pid)
    b = instances("b")

    # Questions, on either instance.
    for instance in (a, b):
        answer = _reply(server, instance, server.text_message(1001, "网民规模有多大"))
        assert "10.92亿" in answer.params["text"], instance.name

    # Telegram sends an update again when its webhook did not answer in time, and the proxy
    # may give it to the other instance: it is answered once.
    mark = server.mark()
    repeated = server.webhook_update({"update_id": next(_update_ids),
                                      **server.text_message(1005, "网民规模有多大")})
    for instance in (a, b, a):
        instance.post_as_is(repeated)
    server.wait_for_sync("sendMessage", lambda c: c.params["chat_id"] == 1005, since=mark,
                         timeout=20)
    time.sleep(2)
    assert len([c for c in server.calls("sendMessage")
                if c.seq > mark and c.params["chat_id"] == 1005]) == 1

    # A plan made on A, a push sent from B, a ✅ pressed on A, counted once however often.
    subscribed = _reply(server, a, server.text_message(GROUP, "/subscribe", GROUP_ADMIN))
    assert "已开始每日学习" in subscribed.params["text"]
    pushed = _reply(server, b, server.text_message(GROUP, "/push", GROUP_ADMIN))
    (label, check_in), = _buttons(pushed).items()
    answers = []
    for instance in (a, b, a):
        call = _reply(server, instance, server.callback_query(GROUP, MEMBER, pushed.result,
                                                              check_in),
                      method="answerCallbackQuery")
        answers.append(call.params.get("text"))
    assert answers == ["已记录,谢谢学习!", "你已经打过卡了。", "你已经打过卡了。"]
    assert _rows(pg_url, "SELECT user_id FROM checkins") == [(MEMBER,)]

    # An upload previewed by A, published by a press on B, answered by A within seconds.
    server.add_file("new-lecture", NEW_LECTURE.encode("utf-8"))
    preview = _reply(server, a, server.document_message(
        BOT_ADMIN, BOT_ADMIN, file_id="new-lecture", file_name="party-dues.txt",
        file_size=len(NEW_LECTURE.encode("utf-8"))), timeout=60)
    publish = next(data for text, data in _buttons(preview).items() if "发布" in text)
    mark = server.mark()
    b.post(server.callback_query(BOT_ADMIN, BOT_ADMIN, preview.result, publish))
    server.wait_for_sync("editMessageText", lambda c: "已发布" in c.params.get("text", ""),
                         since=mark, timeout=60)

    def answered_by_a():
        reply = _reply(server, a, server.text_message(1002, "在职党员党费按什么比例交"))
        return "百分之零点五" in reply.params["text"]
    _wait_until(answered_by_a, 30, "A answers from the lecture B published")

    # A question A could not answer, linked in B's review queue, answered by A with the link.
    unanswered = "党员发帖子组织上管得着吗"
    _reply(server, a, server.text_message(1003, unanswered))
    listing = _reply(server, b, server.text_message(BOT_ADMIN, "/review", BOT_ADMIN))
    assert f"问题:“{unanswered}" in listing.params["text"]
    linked = _reply(server, a, server.callback_query(BOT_ADMIN, BOT_ADMIN, listing.result,
                                                     _buttons(listing)["1 是这一段"]),
                    method="editMessageText")
    assert linked.params["text"].startswith(f"✅ 已记下:“{unanswered}”")

    def linked_on_b():
        reply = _reply(server, b, server.text_message(1004, unanswered))
        return "<b>" in reply.params["text"] and "📖" in reply.params["text"]
    _wait_until(linked_on_b, 30, "B answers with the link taught through A")

    # The push's quiz, answered on the instance that did not send it.
    (sent_poll,) = server.wait_for_sync("sendPoll", timeout=20)  # B's push brought it
    poll_id, correct = sent_poll.result["poll"]["id"], sent_poll.params["correct_option_ids"][0]
    for _ in range(2):
        a.post(server.poll_answer(poll_id, MEMBER, [correct]))
    _wait_until(lambda: _rows(pg_url, "SELECT user_id, correct FROM quiz_answers")
                == [(MEMBER, 1)], 20, "the quiz answer is scored once")

    # Any forged press is still refused, whichever instance gets it.
    forged = _reply(server, b, server.callback_query(GROUP, MEMBER, pushed.result,
                                                     check_in.replace(":", ":9", 1)),
                    method="answerCallbackQuery")
    assert forged.params.get("text") != "已记录,谢谢学习!"


def test_kill_9_of_the_scheduler_before_the_push_time_the_other_sends_it_once(
        server, instances, pg_url):
    server.chat_admins[GROUP] = [GROUP_ADMIN]
    a = instances("a")
    b = instances("b")
    assert _lease_holder(pg_url).split(":")[1] == str(a.process.pid)
    # The plan is made on B, which is not the scheduler: A learns it from the database.
    _reply(server, b, server.text_message(GROUP, "/subscribe", GROUP_ADMIN))
    now = datetime.now(SHANGHAI)
    due = (now + timedelta(seconds=25)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    scheduled = _reply(server, b, server.text_message(GROUP, f"/schedule {due:%H:%M}",
                                                      GROUP_ADMIN))
    assert f"{due:%H:%M}" in scheduled.params["text"]
    time.sleep(max(0.0, (due - datetime.now(SHANGHAI)).total_seconds() - 2))
    mark = server.mark()
    a.kill()  # just before the push time
    killed = time.monotonic()

    def taken_over():
        holder = _lease_holder(pg_url)
        return holder is not None and holder.split(":")[1] == str(b.process.pid)
    _wait_until(taken_over, TAKEOVER_LIMIT_S, "B takes the scheduler lease")
    took = time.monotonic() - killed
    (push,) = server.wait_for_sync(
        "sendMessage", lambda c: c.params["chat_id"] == GROUP
        and c.params["text"].startswith("📖 今日学习"), since=mark, timeout=TAKEOVER_LIMIT_S)
    assert took < TAKEOVER_LIMIT_S
    time.sleep(3)  # nothing more comes
    pushes = [m for m in server.sent_messages(GROUP) if m.get("text", "").startswith("📖 今日学习")]
    assert len(pushes) == 1, "sent once"
    assert _rows(pg_url, "SELECT COUNT(*) FROM pushes WHERE chat_id = %s", (GROUP,)) == [(1,)]


def test_kill_9_in_the_middle_of_a_200_chat_push_sends_each_chat_once(
        server, instances, pg_url):
    """No chat gets the push twice. A chat whose push was in flight at the kill cannot be
    known to have it (Telegram may or may not have taken the request): it is recorded as
    unknown and its admins are told, never sent again blindly; at most the few pushes in
    flight at once (PUSH_SLOTS) can be in that state; every other chat gets it once."""
    from bot.study.delivery import PUSH_SLOTS

    chats = [-1009000000 - n for n in range(200)]
    a = instances("a")
    b = instances("b")
    now = datetime.now(SHANGHAI)
    due = (now + timedelta(seconds=20)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    asyncio.run(_plans_for(pg_url, chats, f"{due:%H:%M}"))
    mark = server.mark()

    def pushes_so_far():
        return [c for c in server.calls("sendMessage")
                if c.seq > mark and c.params["chat_id"] in chats]
    _wait_until(lambda: len(pushes_so_far()) >= 40, 120, "A pushes to 40 chats",
                lambda: a.output())
    a.kill()
    _wait_until(lambda: _lease_holder(pg_url).split(":")[1] == str(b.process.pid),
                TAKEOVER_LIMIT_S, "B takes the scheduler lease")

    def settled():
        states = dict(_rows(pg_url, "SELECT state, COUNT(*) FROM pushes GROUP BY state"))
        return sum(states.values()) == len(chats) and set(states) <= {"delivered", "unknown"}
    _wait_until(settled, 90, "every chat's push delivered or of unknown fate")
    time.sleep(2)
    received = {chat: 0 for chat in chats}
    for call in pushes_so_far():
        if call.ok:
            received[call.params["chat_id"]] += 1
    states = dict(_rows(pg_url, "SELECT chat_id, state FROM pushes"))
    assert max(received.values()) == 1, "no chat gets it twice"
    never = [chat for chat, count in received.items() if count == 0]
    assert all(states[chat] == "unknown" for chat in never), "none left out silently"
    unknown = [chat for chat, state in states.items() if state == "unknown"]
    assert len(unknown) <= PUSH_SLOTS
    assert sum(1 for state in states.values() if state == "delivered") >= len(chats) - PUSH_SLOTS


async def _plans_for(url: str, chats: list[int], time_of_day: str) -> None:
    """Plans made well before today's push time (so a scheduler that takes over late still
    owes today's push), announced to the scheduler as a command would."""
    from bot.stores import Stores

    stores = await Stores.open(url)
    try:
        for chat in chats:
            await stores.study.save_plan(Plan(
                chat_id=chat, lecture_id="party-lecture-online-conduct", last_passage_id=None,
                time_of_day=time_of_day, weekdays=EVERY_DAY,
                timezone="Asia/Shanghai", schedule_set_at=datetime.now(UTC) - timedelta(days=1),
                active=True))
        await stores.cluster.bump("schedules", "test")
    finally:
        await stores.close()
