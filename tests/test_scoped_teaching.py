"""Teaching is scoped: a group's admins teach their group; the shared questions file comes
from bot admins (BOT_ADMIN_IDS) only, directly or by adopting a group's link in their /review.

The attack of issue 21: a stranger makes a group of his own (so he is its admin), asks
网民规模有多大, presses 👎 and picks 讲稿没讲 in /review. His group is refused from then on;
every other group and private chat still gets the answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.core.knowledge import KnowledgeBase
from bot.core.links import LINKS_SUFFIX
from tests.botharness import ask, running_bot
from tests.conftest import LECTURE_ID

pytestmark = pytest.mark.usefixtures("workdir")

STRANGER = 6601
STRANGERS_GROUP = -100777777
OTHER_GROUP = -100555555
OTHER_MEMBER = 6602
GLOBAL_ADMIN = 9901
QUESTION = "网民规模有多大"
ANSWER = "10.92亿"


def _buttons(call) -> dict[str, str]:
    rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def _links_file(folder: Path) -> str:
    path = folder / f"{LECTURE_ID}{LINKS_SUFFIX}"
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def _press(server, call, data: str, user_id: int):
    """Presses a button under the message `call` sent or edited; returns the edit."""
    mark = server.mark()
    server.push_update(server.callback_query(call.result["chat"]["id"], user_id, call.result,
                                             data))
    (edit,) = await server.wait_for("editMessageText", since=mark)
    return edit


async def _reply(server, chat_id: int, text: str, user_id: int):
    mark = server.mark()
    server.push_update(server.text_message(chat_id, text, user_id=user_id))
    (call,) = await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == chat_id,
                                    since=mark)
    return call


async def _stranger_teaches_not_covered(server) -> None:
    answered = await _reply(server, STRANGERS_GROUP, f"/ask {QUESTION}", STRANGER)
    assert ANSWER in answered.params["text"]
    mark = server.mark()
    server.push_update(server.callback_query(STRANGERS_GROUP, STRANGER, answered.result,
                                             _buttons(answered)["👎"]))
    await server.wait_for("answerCallbackQuery", since=mark)
    listing = await _reply(server, STRANGERS_GROUP, "/review", STRANGER)
    assert f"问题:“{QUESTION}”" in listing.params["text"]
    marked = await _press(server, listing, _buttons(listing)["讲稿没讲"], STRANGER)
    assert marked.params["text"].startswith(
        texts.REVIEW_MARKED_NOT_COVERED_GROUP.format(question=QUESTION))


async def test_a_group_admins_not_covered_changes_only_that_group(server, folder, tokenizer):
    server.chat_admins[STRANGERS_GROUP] = [STRANGER]
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({GLOBAL_ADMIN})):
        await _stranger_teaches_not_covered(server)
        own_group = await _reply(server, STRANGERS_GROUP, f"/ask {QUESTION}", STRANGER)
        other_group = await _reply(server, OTHER_GROUP, f"/ask {QUESTION}", OTHER_MEMBER)
        private = await ask(server, QUESTION, OTHER_MEMBER)
        reworded = await _reply(server, STRANGERS_GROUP, f"/ask {QUESTION}呀", STRANGER)
        again = await _reply(server, STRANGERS_GROUP, "/review", STRANGER)
    assert own_group.params["text"].startswith("讲稿里没有讲到")
    assert reworded.params["text"].startswith("讲稿里没有讲到")
    assert ANSWER in other_group.params["text"]
    assert ANSWER in private.params["text"]
    assert QUESTION not in _links_file(folder), "the shared questions file is untouched"
    assert again.params["text"] == texts.REVIEW_EMPTY


async def test_a_group_admin_reviewing_in_private_teaches_only_his_groups(server, folder,
                                                                          tokenizer):
    server.chat_admins[STRANGERS_GROUP] = [STRANGER]
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({GLOBAL_ADMIN})):
        answered = await _reply(server, STRANGERS_GROUP, f"/ask {QUESTION}", STRANGER)
        mark = server.mark()
        server.push_update(server.callback_query(STRANGERS_GROUP, STRANGER, answered.result,
                                                 _buttons(answered)["👎"]))
        await server.wait_for("answerCallbackQuery", since=mark)
        listing = await ask(server, "/review", STRANGER)  # his private chat: "my groups"
        await _press(server, listing, _buttons(listing)["讲稿没讲"], STRANGER)
        own_group = await _reply(server, STRANGERS_GROUP, f"/ask {QUESTION}", STRANGER)
        private = await ask(server, QUESTION, STRANGER)
    assert own_group.params["text"].startswith("讲稿里没有讲到")
    assert ANSWER in private.params["text"], "not even his own private chat changes"
    assert not _links_file(folder)


async def test_a_bot_admin_adopts_a_groups_link_for_every_chat(server, folder, tokenizer):
    server.chat_admins[STRANGERS_GROUP] = [STRANGER]
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({GLOBAL_ADMIN})):
        await _stranger_teaches_not_covered(server)
        listing = await ask(server, "/review", GLOBAL_ADMIN)
        assert f"问题:“{QUESTION}”" in listing.params["text"]
        assert "管理员已选:讲稿没讲" in listing.params["text"]
        adopted = await _press(server, listing, _buttons(listing)[texts.BUTTON_REVIEW_ADOPT],
                               GLOBAL_ADMIN)
        assert adopted.params["text"].startswith(
            texts.REVIEW_MARKED_NOT_COVERED.format(question=QUESTION))
        other_group = await _reply(server, OTHER_GROUP, f"/ask {QUESTION}", OTHER_MEMBER)
        private = await ask(server, QUESTION, OTHER_MEMBER)
    assert f"{QUESTION}\t-" in _links_file(folder)
    assert other_group.params["text"].startswith("讲稿里没有讲到")
    assert private.params["text"].startswith("讲稿里没有讲到")


async def test_what_a_group_taught_follows_it_into_its_supergroup(server, folder, tokenizer):
    old, new = -4007, -1004007
    server.chat_admins[old] = server.chat_admins[new] = [STRANGER]
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({GLOBAL_ADMIN})):
        mark = server.mark()
        server.push_update(server.text_message(old, f"/ask {QUESTION}", STRANGER,
                                               chat_type="group"))
        (answered,) = await server.wait_for("sendMessage", since=mark)
        server.push_update(server.callback_query(old, STRANGER, answered.result,
                                                 _buttons(answered)["👎"]))
        listing = await _reply(server, old, "/review", STRANGER)
        await _press(server, listing, _buttons(listing)["讲稿没讲"], STRANGER)
        server.push_update(server.migration_message(old, new, user_id=STRANGER))
        in_new = await _reply(server, new, f"/ask {QUESTION}", STRANGER)
        review_new = await _reply(server, new, "/review", STRANGER)
        elsewhere = await _reply(server, OTHER_GROUP, f"/ask {QUESTION}", OTHER_MEMBER)
    assert in_new.params["text"].startswith("讲稿里没有讲到")
    assert review_new.params["text"] == texts.REVIEW_EMPTY
    assert ANSWER in elsewhere.params["text"]
