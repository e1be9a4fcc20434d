"""Who the bot has met in each chat and what to call them: the store, and the handler that
records every sender before the features see the update."""

from __future__ import annotations

import asyncio

import pytest

from bot.members.store import Sighting
from bot.stores import Stores
from tests.botharness import GROUP_CHAT, MEMBER, PRIVATE_CHAT, ask, running_bot

pytestmark = pytest.mark.usefixtures("workdir")

CHAT = -100777


@pytest.fixture
async def members(database_target):
    stores = await Stores.open(database_target)
    try:
        yield stores.members
    finally:
        await stores.close()


async def test_a_name_prefers_the_roster_then_the_members_choice_then_telegram(members):
    await members.saw(Sighting(CHAT, 1, "Wei", "Zhang", "zhangwei"))
    assert (await members.member(CHAT, 1)).name == "Wei Zhang"
    await members.set_own_name(CHAT, 1, "  张伟  ")
    assert (await members.member(CHAT, 1)).name == "张伟"
    await members.set_roster_name(CHAT, 1, "张伟(组织委员)")
    assert (await members.member(CHAT, 1)).name == "张伟(组织委员)"
    await members.set_roster_name(CHAT, 1, None)
    assert (await members.member(CHAT, 1)).name == "张伟"
    await members.set_own_name(CHAT, 1, "")
    assert (await members.member(CHAT, 1)).name == "Wei Zhang"


async def test_a_member_without_names_is_called_by_username_then_id(members):
    await members.saw(Sighting(CHAT, 2, "", "", "lihua"))
    await members.saw(Sighting(CHAT, 3, "", "", None))
    assert await members.names(CHAT, [2, 3, 4]) == {2: "@lihua", 3: "3", 4: "4"}


async def test_names_are_per_chat_and_a_changed_telegram_name_is_kept(members):
    await members.saw(Sighting(CHAT, 1, "Old"))
    await members.saw(Sighting(CHAT, 1, "New"))
    await members.saw(Sighting(CHAT + 1, 1, "Elsewhere"))
    await members.set_own_name(CHAT + 1, 1, "别名")
    assert (await members.member(CHAT, 1)).name == "New"
    assert (await members.member(CHAT + 1, 1)).name == "别名"
    assert [m.user_id for m in await members.members(CHAT)] == [1]


async def test_an_admin_may_name_someone_the_bot_never_saw(members):
    await members.set_roster_name(CHAT, 9, "王芳")
    member = await members.member(CHAT, 9)
    assert member.name == "王芳" and member.first_name == ""


async def test_a_huge_name_is_cut(members):
    await members.saw(Sighting(CHAT, 1, "名" * 1000))
    await members.set_own_name(CHAT, 2, "字" * 1000)
    assert len((await members.member(CHAT, 1)).name) == 64
    assert len((await members.member(CHAT, 2)).name) == 64


async def test_the_bot_remembers_senders_in_groups_and_private_chats(server, knowledge):
    async with running_bot(server, knowledge) as app:
        server.push_update(server.text_message(GROUP_CHAT, "大家好", MEMBER, first_name="小李"))
        await ask(server, "/ask 网民规模有多大", GROUP_CHAT, user_id=MEMBER, first_name="小李")
        await ask(server, "网民规模有多大", PRIVATE_CHAT, user_id=PRIVATE_CHAT)
        directory = app.bot_data["stores"].members
        assert (await directory.member(GROUP_CHAT, MEMBER)).name == "小李"
        assert await directory.has_private_chat(PRIVATE_CHAT)
        assert not await directory.has_private_chat(MEMBER)


async def test_a_failing_directory_never_costs_a_member_the_answer(server, knowledge):
    async with running_bot(server, knowledge) as app:
        async def broken(sighting):
            raise RuntimeError("disk full")

        app.bot_data["stores"].members.saw = broken
        call = await ask(server, "网民规模有多大", PRIVATE_CHAT)
        await asyncio.sleep(0)
    assert "10.92亿" in call.params["text"]
