"""Tests of the fake Bot API server, driven by a real python-telegram-bot Application.

Nothing inside PTB is mocked: the Application polls and calls the fake server over HTTP, and the
tests assert on what the server received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from tests.fakebotapi import DEFAULT_BOT_ID, FakeBotApi

TOKEN = "123456:TEST-token"
PRIVATE_CHAT = 1001  # a user's private chat with the bot: chat id == user id
GROUP_CHAT = -1001234567890
MEMBER = 2002


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    before = set(threading.enumerate())
    with FakeBotApi() as fake:
        yield fake
    # Nothing may outlive the test: not the server thread, not a thread of the bot.
    leaked = set(threading.enumerate()) - before
    assert not leaked, f"threads left running: {leaked}"


def build_app(server: FakeBotApi, token: str = TOKEN) -> Application:
    """The bot under test: echoes text and handles a button. Texts it saw: bot_data["seen"]."""
    app = (
        Application.builder()
        .token(token)
        .base_url(f"{server.url}/bot")
        .base_file_url(f"{server.url}/file/bot")
        .build()
    )
    seen: list[str] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.message.text)
        await update.message.reply_text("回声:" + update.message.text)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("收到")
        await query.edit_message_text(f"已选择: {query.data}")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    app.bot_data["seen"] = seen
    return app


def make_bot(server: FakeBotApi) -> Bot:
    return Bot(TOKEN, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot")


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    """Run ``app`` with long polling for the duration of the block, then shut it down."""
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


# ------------------------------------------------------------------ through a polling bot


async def test_private_text_message_gets_a_reply(server: FakeBotApi) -> None:
    async with running(build_app(server)):
        server.push_update(server.text_message(PRIVATE_CHAT, "你好"))
        [reply] = await server.wait_for("sendMessage")

    assert reply.params["chat_id"] == PRIVATE_CHAT
    assert reply.params["text"] == "回声:你好"
    assert "reply_parameters" not in reply.params  # PTB does not quote in private chats
    assert reply.token == TOKEN
    assert reply.result["from"]["id"] == DEFAULT_BOT_ID
    assert reply.result["chat"] == {"id": PRIVATE_CHAT, "type": "private", "first_name": "Tester"}
    assert [c.method for c in server.calls()][:3] == ["getMe", "deleteWebhook", "getUpdates"]


async def test_group_reply_quotes_the_question(server: FakeBotApi) -> None:
    question = server.text_message(GROUP_CHAT, "@lecture_test_bot 什么是党课?", user_id=MEMBER)
    assert question["message"]["entities"] == [{"type": "mention", "offset": 0, "length": 17}]

    async with running(build_app(server)):
        server.push_update(question)
        [reply] = await server.wait_for("sendMessage")

    asked_id = question["message"]["message_id"]
    assert reply.params["chat_id"] == GROUP_CHAT
    assert reply.params["reply_parameters"]["message_id"] == asked_id
    sent = reply.result
    assert sent["reply_to_message"]["message_id"] == asked_id
    assert sent["reply_to_message"]["from"]["id"] == MEMBER
    assert sent["chat"]["type"] == "supergroup" and sent["chat"]["title"]
    assert sent["message_id"] == asked_id + 1  # message ids are per chat and shared
    assert server.sent_messages(GROUP_CHAT) == [sent]


async def test_callback_query_is_answered_and_edits_the_message(server: FakeBotApi) -> None:
    async with running(build_app(server)) as app:
        sent = await app.bot.send_message(PRIVATE_CHAT, "选一个", reply_markup=keyboard("a", "b"))
        [message] = server.sent_messages(PRIVATE_CHAT)
        assert message["message_id"] == sent.message_id
        assert message["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "b"

        press = server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, message, "b"))
        [answer] = await server.wait_for("answerCallbackQuery")
        [edit] = await server.wait_for("editMessageText")

    assert answer.ok and answer.params["callback_query_id"] == press["callback_query"]["id"]
    assert answer.params["text"] == "收到"
    assert edit.params["chat_id"] == PRIVATE_CHAT
    assert edit.params["message_id"] == sent.message_id
    assert edit.params["text"] == "已选择: b"
    assert edit.result["text"] == "已选择: b" and "edit_date" in edit.result
    assert "reply_markup" not in edit.result  # an edit without a keyboard removes it
    assert server.message(PRIVATE_CHAT, sent.message_id) == edit.result
    assert server.sent_messages(PRIVATE_CHAT) == [message]  # as sent, not as edited


async def test_restarted_bot_does_not_get_updates_already_confirmed(server: FakeBotApi) -> None:
    asyncio.get_running_loop().set_debug(True)  # the server has its own loop: unaffected
    first = build_app(server)
    async with running(first):
        server.push_update(server.text_message(PRIVATE_CHAT, "第一次"))
        await server.wait_for("sendMessage")
    # PTB's updater confirms what it fetched with a last getUpdates when it stops.
    assert server.pending_updates() == 0

    second = build_app(server)
    mark = server.mark()
    async with running(second):
        server.push_update(server.text_message(PRIVATE_CHAT, "第二次"))
        await server.wait_for("sendMessage", since=mark)

    assert first.bot_data["seen"] == ["第一次"]
    assert second.bot_data["seen"] == ["第二次"]
    assert [c.params["text"] for c in server.calls("sendMessage")] == ["回声:第一次", "回声:第二次"]


async def test_updates_pushed_from_other_threads_are_all_answered(server: FakeBotApi) -> None:
    per_thread = 100

    def push_many(prefix: str) -> None:
        for i in range(per_thread):
            server.push_update(server.text_message(PRIVATE_CHAT, f"{prefix}{i}"))

    started = time.monotonic()
    async with running(build_app(server)):
        threads = [threading.Thread(target=push_many, args=(p,)) for p in ("甲", "乙")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        replies = await server.wait_for("sendMessage", count=2 * per_thread, timeout=10)

    texts = sorted(c.params["text"] for c in replies)
    expected = sorted(f"回声:{p}{i}" for p in ("甲", "乙") for i in range(per_thread))
    assert texts == expected  # each update answered exactly once
    assert max(len(c.result) for c in server.calls("getUpdates")) > 1  # delivered in batches
    assert time.monotonic() - started < 5


# ------------------------------------------------------------------ files


async def test_registered_file_downloads_byte_identical(server: FakeBotApi) -> None:
    payload = bytes(range(256)) * 400 + "党课讲义".encode()
    path = server.add_file("lecture-file", payload, "documents/lecture.pdf")

    async with build_app(server) as app:
        file = await app.bot.get_file("lecture-file")
        data = await file.download_as_bytearray()

    assert bytes(data) == payload
    assert file.file_size == len(payload)
    assert file.file_path == f"{server.url}/file/bot{TOKEN}/{path}"


async def test_multipart_upload_can_be_downloaded_again(server: FakeBotApi) -> None:
    async with build_app(server) as app:
        sent = await app.bot.send_document(
            PRIVATE_CHAT, b"%PDF fake", filename="notes.pdf", caption="讲义"
        )
        data = await (await app.bot.get_file(sent.document.file_id)).download_as_bytearray()

    [call] = server.calls("sendDocument")
    assert call.params["document"].filename == "notes.pdf"
    assert call.params["caption"] == "讲义"
    assert sent.document.file_name == "notes.pdf" and sent.caption == "讲义"
    assert bytes(data) == b"%PDF fake"


# ------------------------------------------------------------------ errors


async def test_fail_next_403_raises_forbidden_once(server: FakeBotApi) -> None:
    server.fail_next("sendMessage", 403)
    async with build_app(server) as app:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(PRIVATE_CHAT, "hello")
        await app.bot.send_message(PRIVATE_CHAT, "hello again")

    failed, succeeded = server.calls("sendMessage")
    assert failed.response["error_code"] == 403 and not failed.ok
    assert succeeded.ok and server.sent_messages() == [succeeded.result]


# PTB itself warns inside RetryAfter.__init__ that retry_after will become a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_raises_retry_after(server: FakeBotApi) -> None:
    server.fail_next("sendMessage", 429, retry_after=7, times=2)
    async with build_app(server) as app:
        for _ in range(2):
            with pytest.raises(RetryAfter):
                await app.bot.send_message(PRIVATE_CHAT, "hello")
        await app.bot.send_message(PRIVATE_CHAT, "hello")

    responses = [c.response for c in server.calls("sendMessage")]
    assert responses[0] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert [r["ok"] for r in responses] == [False, False, True]


async def test_fail_next_with_migration_raises_chat_migrated(server: FakeBotApi) -> None:
    server.fail_next("sendMessage", 400, migrate_to_chat_id=GROUP_CHAT)
    async with build_app(server) as app:
        with pytest.raises(ChatMigrated) as caught:
            await app.bot.send_message(-4242, "hello")
    assert caught.value.new_chat_id == GROUP_CHAT


@pytest.mark.parametrize("announced_in", ["old group", "supergroup"])
async def test_a_group_that_became_a_supergroup_refuses_calls_with_its_new_id(
    server: FakeBotApi, announced_in: str
) -> None:
    async with build_app(server) as app:
        await app.bot.send_message(-4242, "before")
        server.push_update(server.migration_message(-4242, GROUP_CHAT)
                           if announced_in == "old group"
                           else server.migrated_from_message(GROUP_CHAT, -4242))
        for call in (app.bot.send_message(-4242, "after"), app.bot.get_chat(-4242)):
            with pytest.raises(ChatMigrated) as caught:
                await call
            assert caught.value.new_chat_id == GROUP_CHAT
        await app.bot.send_message(GROUP_CHAT, "here")
    assert [m["text"] for m in server.sent_messages()] == ["before", "here"]


async def test_delay_next_times_the_client_out_although_the_message_was_stored(
    server: FakeBotApi,
) -> None:
    server.delay_next("sendMessage", 1.0)
    async with build_app(server) as app:
        with pytest.raises(TimedOut):
            await app.bot.send_message(PRIVATE_CHAT, "slow", read_timeout=0.2)
        assert [m["text"] for m in server.sent_messages()] == ["slow"], "delivered anyway"
        started = time.monotonic()
        await app.bot.send_message(PRIVATE_CHAT, "fast", read_timeout=0.2)
        assert time.monotonic() - started < 0.2, "only the next call is late"


async def test_hold_next_keeps_the_answer_back_until_released(server: FakeBotApi) -> None:
    hold = server.hold_next("sendMessage", when=lambda params: params.get("text") == "held")
    async with build_app(server) as app:
        await app.bot.send_message(PRIVATE_CHAT, "not matching: answered at once")
        sending = asyncio.create_task(app.bot.send_message(PRIVATE_CHAT, "held"))
        await asyncio.to_thread(hold.wait_arrived)
        assert server.sent_messages()[-1]["text"] == "held", "carried out while held"
        await asyncio.sleep(0.2)
        assert not sending.done() and len(server.calls("sendMessage")) == 1
        hold.release()
        message = await sending
    assert message.text == "held" and len(server.calls("sendMessage")) == 2


async def test_unknown_method_answers_404(server: FakeBotApi) -> None:
    async with build_app(server) as app:
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("frobnicateChat", api_kwargs={"chat_id": 1})
    [call] = server.calls("frobnicateChat")
    assert call.response["error_code"] == 404


async def test_telegram_rules_are_enforced(server: FakeBotApi) -> None:
    async with build_app(server) as app:
        bot = app.bot
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(PRIVATE_CHAT, "第一行<br>第二行", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(PRIVATE_CHAT, "长" * 4097)
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(PRIVATE_CHAT, "x", reply_markup=keyboard("长" * 22))
        with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
            await bot.send_message(PRIVATE_CHAT, "x", reply_parameters=ReplyParameters(999))

        sent = await bot.send_message(PRIVATE_CHAT, "<b>粗体</b> 😀 &lt;注&gt;", parse_mode="HTML")
        assert sent.text == "粗体 😀 <注>"
        assert sent.entities == (MessageEntity("bold", 0, 2),)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text(
                "<b>粗体</b> 😀 &lt;注&gt;", PRIVATE_CHAT, sent.message_id, parse_mode="HTML"
            )
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query("123")
        await bot.delete_message(PRIVATE_CHAT, sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(PRIVATE_CHAT, sent.message_id)


# ------------------------------------------------------------------ parameters and methods


async def test_form_values_are_decoded_to_json_types(server: FakeBotApi) -> None:
    async with build_app(server) as app:
        await app.bot.send_message(
            PRIVATE_CHAT,
            "42",
            reply_markup=keyboard("a"),
            entities=[MessageEntity("bold", 0, 2)],
            disable_notification=True,
        )
        await app.bot.set_my_commands([("ask", "提问"), ("help", "帮助")])
        commands = await app.bot.get_my_commands()

    params = server.calls("sendMessage")[0].params
    assert params["chat_id"] == PRIVATE_CHAT
    assert params["text"] == "42"  # free text stays a string
    assert params["disable_notification"] is True
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    assert params["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert server.calls("setMyCommands")[0].params["commands"][0] == {
        "command": "ask",
        "description": "提问",
    }
    assert [c.command for c in commands] == ["ask", "help"]


async def test_chat_admins_and_chat_info(server: FakeBotApi) -> None:
    server.chat_admins[GROUP_CHAT] = [MEMBER, DEFAULT_BOT_ID]
    async with build_app(server) as app:
        admins = await app.bot.get_chat_administrators(GROUP_CHAT)
        member = await app.bot.get_chat_member(GROUP_CHAT, MEMBER)
        other = await app.bot.get_chat_member(GROUP_CHAT, 3003)
        chat = await app.bot.get_chat(GROUP_CHAT)
        me = await app.bot.get_me()

    assert [(a.user.id, a.status) for a in admins] == [
        (MEMBER, "administrator"),
        (DEFAULT_BOT_ID, "administrator"),
    ]
    assert admins[1].user.is_bot
    assert (member.status, other.status) == ("administrator", "member")
    assert chat.type == "supergroup" and chat.title
    assert me.username == "lecture_test_bot" and me.supports_inline_queries
    assert not me.can_read_all_group_messages


async def test_get_updates_offset_limit_and_long_poll(server: FakeBotApi) -> None:
    server.long_poll_cap = 0.3
    ids = [
        server.push_update(server.text_message(PRIVATE_CHAT, f"q{i}"))["update_id"]
        for i in range(5)
    ]
    async with make_bot(server) as bot:
        first = await bot.get_updates(limit=2)
        again = await bot.get_updates(limit=2)  # not confirmed yet: delivered again
        rest = await bot.get_updates(offset=ids[1] + 1)
        assert [u.update_id for u in first] == [u.update_id for u in again] == ids[:2]
        assert [u.update_id for u in rest] == ids[2:]
        assert server.pending_updates() == 3

        started = time.monotonic()
        assert await bot.get_updates(offset=ids[-1] + 1, timeout=30) == ()
        assert 0.25 < time.monotonic() - started < 1.0  # capped at long_poll_cap

        waiting = asyncio.create_task(bot.get_updates(offset=ids[-1] + 1, timeout=30))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        pushed = server.push_update(server.text_message(PRIVATE_CHAT, "wake up"))
        [update] = await waiting
        assert update.update_id == pushed["update_id"] and update.message.text == "wake up"
        assert time.monotonic() - started < 0.2  # answered on push, not at the timeout

        # chat_member updates are only delivered to bots that ask for them, like on Telegram.
        joined = server.push_update(
            {"chat_member": server.my_chat_member(GROUP_CHAT, MEMBER)["my_chat_member"]}
        )
        offset = pushed["update_id"] + 1
        assert await bot.get_updates(offset=offset) == ()
        [update] = await bot.get_updates(offset=offset, allowed_updates=["chat_member"])
        assert update.update_id == joined["update_id"] and update.chat_member


async def test_update_builders_parse_as_ptb_updates(server: FakeBotApi) -> None:
    async with make_bot(server) as bot:
        sent = await bot.send_message(GROUP_CHAT, "答", reply_markup=keyboard("x"))
    text = server.text_message(GROUP_CHAT, "/ask@lecture_test_bot 😀 @lecture_test_bot 问题")
    assert text["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 21},
        {"type": "mention", "offset": 25, "length": 17},  # 😀 is two UTF-16 units
    ]
    builders = {
        "text": text,
        "sticker": server.sticker_message(PRIVATE_CHAT),
        "photo": server.photo_message(PRIVATE_CHAT, caption="看图", data=b"jpeg"),
        "document": server.document_message(PRIVATE_CHAT, file_name="a.docx", data=b"doc"),
        "callback": server.callback_query(GROUP_CHAT, MEMBER, sent.message_id, "x"),
        "inline": server.inline_query(MEMBER, "党课"),
        "edited": server.edited_message(GROUP_CHAT, text["message"], "新问题"),
        "member": server.my_chat_member(GROUP_CHAT, MEMBER, "administrator", "member"),
        "migration": server.migration_message(-4242, GROUP_CHAT),
        "migrated": server.migrated_from_message(GROUP_CHAT, -4242),
        "reply": server.text_message(GROUP_CHAT, "再问", reply_to=text["message"]),
    }
    updates = {
        name: Update.de_json({"update_id": 1, **data}, bot) for name, data in builders.items()
    }

    assert updates["text"].message.text.startswith("/ask")
    assert updates["sticker"].message.sticker.emoji == "👍"
    assert updates["photo"].message.photo[-1].file_size == 4
    assert updates["document"].message.document.file_name == "a.docx"
    assert updates["callback"].callback_query.message.reply_markup.inline_keyboard[0][0].text == "x"
    assert updates["inline"].inline_query.query == "党课"
    assert updates["edited"].edited_message.text == "新问题"
    assert updates["member"].my_chat_member.new_chat_member.status == "administrator"
    assert updates["migration"].message.migrate_to_chat_id == GROUP_CHAT
    assert updates["migrated"].message.migrate_from_chat_id == -4242
    assert updates["migrated"].message.chat.type == "supergroup"
    assert updates["reply"].message.reply_to_message.message_id == text["message"]["message_id"]


async def test_poll_answers_and_the_poll_updates_that_count_them(server: FakeBotApi) -> None:
    async with make_bot(server) as bot:
        sent = await bot.send_poll(GROUP_CHAT, "几点?", ["八点", "九点"], is_anonymous=False,
                                   type="quiz", correct_option_ids=[1])
    poll_id = sent.poll.id
    answers = [server.push_update(server.poll_answer(poll_id, user_id, [option]))
               for user_id, option in ((MEMBER, 1), (MEMBER + 1, 1), (MEMBER + 2, 0))]
    server.push_update(server.poll_answer(poll_id, MEMBER + 2, []))  # taken back
    async with make_bot(server) as bot:
        state = Update.de_json({"update_id": 99, **server.poll_state(poll_id)}, bot).poll
        answer = Update.de_json(answers[0], bot).poll_answer
    assert (state.id, state.question, state.total_voter_count) == (poll_id, "几点?", 2)
    assert [(o.text, o.voter_count) for o in state.options] == [("八点", 0), ("九点", 2)]
    assert (answer.poll_id, answer.user.id, answer.option_ids) == (poll_id, MEMBER, (1,))
    (call,) = server.calls("sendPoll")
    assert call.result["poll"]["total_voter_count"] == 0, "the call log keeps the poll as sent"
    with pytest.raises(ValueError):
        server.poll_state("no-such-poll")


def test_json_body_and_sync_helpers(server: FakeBotApi) -> None:
    """Plain sync code (no event loop) can drive and inspect the server too."""
    request = urllib.request.Request(
        f"{server.url}/botOTHER:token/sendMessage",
        data=json.dumps({"chat_id": PRIVATE_CHAT, "text": "42"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.load(response)

    [call] = server.wait_for_sync("sendMessage", lambda c: c.params["text"] == "42")
    assert body["ok"] and call.result == body["result"]
    assert call.token == "OTHER:token"  # any token is accepted, and recorded

    server.clear()
    assert server.calls() == [] and server.sent_messages() == []
    with pytest.raises(AssertionError, match="waiting for 1 sendMessage"):
        server.wait_for_sync("sendMessage", timeout=0.05)
