"""Names are claimed, not taken: /myname and the group's roster.

Issue 21's case: a roster with 张三 (no @username) is imported, and any member could send
/myname 张三 and be 张三 for good. Now a roster name no member holds waits for one of the
group's admins (a button in the group), a roster @username links at once, and a name that
is someone else's is refused. Every step is logged.
"""

from __future__ import annotations

import logging

import pytest

from bot import services, texts
from tests.botharness import running_bot

pytestmark = pytest.mark.usefixtures("workdir")

GROUP = -100424242
ADMIN = 5101
REAL = 5102      # the real 张三
MALLORY = 5103   # a member who wants to be 张三
LISI = 5104      # 李四, @lisi_2026 on the roster
ROSTER = "姓名\t用户名\n张三\n李四\t@lisi_2026\n".encode()


async def _send(server, chat_id: int, text: str, user_id: int, name: str = "Tester"):
    """Sends a message; returns the bot's first reply in that chat."""
    mark = server.mark()
    server.push_update(server.text_message(chat_id, text, user_id, first_name=name))
    (reply,) = await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == chat_id,
                                     since=mark)
    return reply


async def _import_roster(server) -> None:
    mark = server.mark()
    server.push_update(server.document_message(GROUP, ADMIN, file_name="名单.tsv",
                                               data=ROSTER, caption="/roster"))
    await server.wait_for("sendMessage", lambda c: "已导入名单" in c.params["text"], since=mark)


async def _claim(server, user_id: int, name: str):
    """/myname in the group: returns (the member's reply, the claim shown to the admins)."""
    mark = server.mark()
    server.push_update(server.text_message(GROUP, f"/myname {name}", user_id))
    calls = await server.wait_for("sendMessage", count=2, since=mark)
    asked = next(c for c in calls if c.params["text"].startswith("📝"))
    reply = next(c for c in calls if c is not asked)
    return reply, asked


def _data(call, row_button: int) -> str:
    return call.params["reply_markup"]["inline_keyboard"][0][row_button]["callback_data"]


async def _press(server, chat_id: int, user_id: int, message, data: str):
    mark = server.mark()
    server.push_update(server.callback_query(chat_id, user_id, message, data))
    (answer,) = await server.wait_for("answerCallbackQuery", since=mark)
    return answer


async def _roster_user(app, name: str) -> int | None:
    entries = await services.stores(app).records.roster(GROUP)
    return next(e.user_id for e in entries if e.name == name)


async def test_a_roster_name_waits_for_an_admin_and_then_belongs_to_its_member(
        server, knowledge, caplog):
    caplog.set_level(logging.INFO)
    server.chat_admins[GROUP] = [ADMIN]
    async with running_bot(server, knowledge) as app:
        await _send(server, GROUP, "/ask 你好", MALLORY, "Mallory")
        await _send(server, GROUP, "/ask 你好", REAL, "Real")
        await _import_roster(server)

        reply, asked = await _claim(server, MALLORY, "张三")
        assert reply.params["text"] == texts.RECORDS_MYNAME_PENDING.format(name="张三")
        assert await _roster_user(app, "张三") is None, "not taken by asking"
        mallory = await services.members(app).member(GROUP, MALLORY)
        assert mallory.name != "张三"
        # Mallory confirms his own claim: refused; so is a forged press in his private chat.
        answer = await _press(server, GROUP, MALLORY, asked.result, _data(asked, 0))
        assert answer.params["text"] == texts.RECORDS_CLAIM_ONLY_ADMINS
        own = await _send(server, MALLORY, "你好", MALLORY)
        answer = await _press(server, MALLORY, MALLORY, own.result, _data(asked, 0))
        assert answer.params["text"] == texts.RECORDS_CLAIM_ONLY_ADMINS
        answer = await _press(server, GROUP, ADMIN, asked.result, "nm:y:99999999999999999999")
        assert answer.params["text"] == texts.BUTTON_EXPIRED
        assert await _roster_user(app, "张三") is None
        # The admin refuses it.
        await _press(server, GROUP, ADMIN, asked.result, _data(asked, 1))
        assert await _roster_user(app, "张三") is None

        # The real 张三 claims it and the admin confirms: his for good.
        reply, asked = await _claim(server, REAL, "张三")
        await _press(server, GROUP, ADMIN, asked.result, _data(asked, 0))
        assert await _roster_user(app, "张三") == REAL
        again = await _press(server, GROUP, ADMIN, asked.result, _data(asked, 0))
        assert again.params["text"] == texts.RECORDS_CLAIM_SETTLED

        taken = await _send(server, GROUP, "/myname 张三", MALLORY, "Mallory")
        assert taken.params["text"] == texts.RECORDS_MYNAME_TAKEN.format(name="张三")
        assert await _roster_user(app, "张三") == REAL
        assert (await services.members(app).member(GROUP, REAL)).name == "张三"
        assert (await services.members(app).member(GROUP, MALLORY)).name == "Mallory"
    logged = [r.getMessage() for r in caplog.records if "name claim" in r.getMessage()]
    assert any("waiting for an admin" in line for line in logged)
    assert any("refused by admin" in line for line in logged)
    assert any("confirmed by admin" in line for line in logged)
    assert any("claim refused" in line for line in logged)


async def test_the_rosters_username_links_at_once(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    server.usernames[LISI] = "LiSi_2026"
    async with running_bot(server, knowledge) as app:
        await _send(server, GROUP, "/ask 你好", LISI, "Li")
        await _import_roster(server)
        # Matched by @username on import already? Then /myname changes nothing: still his.
        reply = await _send(server, GROUP, "/myname 李四", LISI, "Li")
        assert reply.params["text"] in (texts.RECORDS_MYNAME_LINKED.format(name="李四"),
                                        texts.RECORDS_MYNAME_SET.format(name="李四"))
        assert await _roster_user(app, "李四") == LISI
        assert not [c for c in server.calls("sendMessage")
                    if c.params["text"].startswith("📝")], "no admin needed"
