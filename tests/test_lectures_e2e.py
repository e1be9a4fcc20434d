"""Lecture management end to end: upload, preview, publish with a live rebuild, refusals.

Files travel the real way: the fake server serves them through getFile and
`<root>/file/bot<token>/…`, and the bot downloads them with python-telegram-bot.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import threading
import zipfile
from pathlib import Path

import docx
import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import read_lecture
from bot.services import KNOWLEDGE_KEY
from tests.botharness import GROUP_CHAT, PRIVATE_CHAT, RELOAD_TIMEOUT, ask, running_bot
from tests.conftest import KNOWLEDGE_DIR
from tests.documents import many_paragraph_docx

pytestmark = pytest.mark.usefixtures("workdir")

ADMIN = PRIVATE_CHAT  # in a private chat the user id is the chat id
PREVIEW_TIMEOUT_S = 30
NEW_LECTURE = (
    "党课:学习新党章\n\n来源:支部整理\n\n一、认真学习党章\n"
    "党章是立党治党管党的总章程,每名党员都要逐条学习。\n"
    "二、严守组织纪律\n党员要按时参加组织生活,按期交纳党费。\n"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the knowledge folder: publishing writes into it."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("党课:学习新党章", style="Title")
    document.add_paragraph("认真学习党章", style="Heading 1")
    document.add_paragraph("党章是立党治党管党的总章程,每名党员都要逐条学习。")
    document.add_paragraph("严守组织纪律", style="Heading 1")
    document.add_paragraph("党员要按时参加组织生活,按期交纳党费。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def _send_file(server, name: str, data: bytes, user_id: int = ADMIN,
                     size: int | None = None):
    file_id = f"file-{name}-{len(data)}"
    server.add_file(file_id, data)
    mark = server.mark()
    server.push_update(server.document_message(PRIVATE_CHAT, user_id, file_id=file_id,
                                               file_name=name, file_size=size or len(data)))
    # The first upload starts the parser's worker process: seconds on a busy machine.
    (reply,) = await server.wait_for("sendMessage", since=mark, timeout=PREVIEW_TIMEOUT_S)
    return reply


def _buttons(call) -> dict[str, str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


@pytest.mark.parametrize("name, data", [
    ("new.txt", NEW_LECTURE.encode("utf-8")),
    ("new.md", ("# " + NEW_LECTURE).encode("utf-8-sig")),
    ("new-gbk.txt", NEW_LECTURE.encode("gb18030")),
    ("new.docx", _docx_bytes()),
])
async def test_upload_preview_publish_and_ask(server, folder, tokenizer, name, data):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        preview = await _send_file(server, name, data)
        text = preview.params["text"]
        assert "预览:《党课:学习新党章》" in text and "段落:2 段" in text
        assert not list(folder.glob("new*")), "nothing is published before 发布"
        mark = server.mark()
        server.push_update(server.callback_query(PRIVATE_CHAT, ADMIN, preview.result,
                                                 _buttons(preview)["发布"]))
        done = await server.wait_for("editMessageText",
                                     lambda c: c.params["text"].startswith("✅"), since=mark)
        answer = await ask(server, "党费要按期交吗")
    assert done[0].params["text"] == "✅ 已发布《党课:学习新党章》(2段),现在可以提问了。"
    assert (folder / name).read_bytes() == data
    assert "《党课:学习新党章》" in answer.params["text"]
    assert read_lecture(folder / name).title == "党课:学习新党章"


async def test_questions_during_a_rebuild_use_the_old_index(server, folder, tokenizer,
                                                            monkeypatch):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    gate = threading.Event()
    real_load = KnowledgeBase.load.__func__

    def held_load(cls, *args, **kwargs):
        gate.wait(timeout=30)
        return real_load(cls, *args, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "load", classmethod(held_load))
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})) as app:
        preview = await _send_file(server, "new.txt", NEW_LECTURE.encode())
        server.push_update(server.callback_query(PRIVATE_CHAT, ADMIN, preview.result,
                                                 _buttons(preview)["发布"]))
        await server.wait_for("editMessageText", lambda c: "正在发布" in c.params["text"])
        during = await ask(server, "党费要按期交吗")
        assert app.bot_data[KNOWLEDGE_KEY] is knowledge
        gate.set()
        await server.wait_for("editMessageText", lambda c: c.params["text"].startswith("✅"))
        after = await ask(server, "党费要按期交吗")
    assert "学习新党章" not in during.params["text"]
    assert "讲稿里没有讲到" in during.params["text"]
    assert "《党课:学习新党章》" in after.params["text"]


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/document.xml", b"0" * 40_000_000)
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, size, reason", [
    ("photo.docx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, None, "不是 Word"),
    ("bomb.docx", _zip_bomb(), None, "解压后过大"),
    ("binary.txt", b"\x00\x01\x02\x03" * 100, None, "二进制"),
    ("big.txt", b"x", 3 * 1024 * 1024, "文件太大"),
    ("slides.pptx", b"whatever", None, "只接受"),
    ("empty.md", b"", None, "空"),
])
async def test_bad_files_are_refused_and_nothing_is_written(server, folder, tokenizer,
                                                           name, data, size, reason):
    before = sorted(p.name for p in folder.rglob("*") if ".staging" not in p.parts)
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        reply = await _send_file(server, name, data, size=size)
    assert reply.params["text"].startswith("无法使用这个文件") and reason in reply.params["text"]
    assert sorted(p.name for p in folder.rglob("*") if ".staging" not in p.parts) == before


async def test_non_admin_upload_is_refused_without_download(server, folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        reply = await _send_file(server, "new.txt", NEW_LECTURE.encode(), user_id=4242)
    assert reply.params["text"] == "抱歉,只有机器人管理员可以管理讲稿。"
    assert not server.calls("getFile")


async def test_lectures_retire_and_reload(server, folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        listing = await ask(server, "/lectures")
        assert "《党课:发挥模范带头作用 规范网络行为》6段" in listing.params["text"]
        (folder / "hand.txt").write_text(NEW_LECTURE, encoding="utf-8")
        reloaded = await ask(server, "/reload")
        assert reloaded.params["text"] == "✅ 已重新加载:2 篇讲稿,8 段。"
        (folder / "broken.txt").write_bytes(b"\x00\x01")
        kept = await ask(server, "/reload")
        assert "broken.txt" in kept.params["text"] and "继续使用之前的讲稿" in kept.params["text"]
        (folder / "broken.txt").unlink()
        retired = await ask(server, "/retire 新党章")
        answer = await ask(server, "党费要按期交吗")
    assert retired.params["text"].startswith("已下架《党课:学习新党章》")
    assert (folder / "retired" / "hand.txt").is_file() and not (folder / "hand.txt").exists()
    assert "学习新党章" not in answer.params["text"]



async def test_plans_follow_a_changed_and_then_a_retired_lecture(server, folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    lecture_file = folder / "party-lecture-online-conduct.txt"
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        await ask(server, "/subscribe")
        first = await ask(server, "/push")
        assert first.params["text"].startswith("📖 今日学习 · 第1/6段")
        await server.wait_for("sendMessage", lambda c: "额外推送" in c.params["text"])
        # A new version without the opening paragraph: the pushed passage 0.1 is gone.
        lines = lecture_file.read_text(encoding="utf-8").splitlines()
        opening = next(i for i, line in enumerate(lines) if line.startswith("总书记强调"))
        lecture_file.write_text("\n".join(lines[:opening] + lines[opening + 1:]),
                                encoding="utf-8")
        reloaded = await ask(server, "/reload")
        assert reloaded.params["text"].startswith("✅ 已重新加载")
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "/push"))
        moved = await server.wait_for("sendMessage", count=3, since=mark)
        assert moved[0].params["text"].startswith("📖 今日学习 · 第1/5段")
        assert "一、统一思想… · 第1段" in moved[0].params["text"]
        assert "上次推送的段落已不在讲稿中" in moved[1].params["text"]
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "/retire 规范网络行为"))
        told, retired = await server.wait_for("sendMessage", count=2, since=mark,
                                              timeout=RELOAD_TIMEOUT)
        gone = await ask(server, "/push")
    assert "已下架,每日推送已暂停" in told.params["text"]  # at once, not at the next push
    assert retired.params["text"].startswith("已下架《党课:发挥模范带头作用 规范网络行为》")
    assert "已下架,每日推送已暂停" in gone.params["text"]
    # No lecture is left to offer: no buttons, /plan 讲稿名 is the way on.
    assert "reply_markup" not in gone.params or not gone.params["reply_markup"]


async def test_retire_takes_the_quiz_bank_along_and_asks_the_groups_admins_at_once(
        server, folder, tokenizer):
    """/retire leaves nothing of the lecture in the knowledge folder, and a group whose plan
    used it hears of it at once (not at its next /plan or push), with a button per lecture
    left; only the group's admins may press one, and the plan goes on with that lecture."""
    group, group_admin, member = GROUP_CHAT, 5001, 31337
    (folder / "hand.txt").write_text(NEW_LECTURE, encoding="utf-8")
    quiz_bank = folder / "party-lecture-online-conduct.quiz.tsv"
    assert quiz_bank.is_file()
    server.chat_admins[group] = [group_admin]
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        subscribed = await ask(server, "/subscribe 规范网络行为", group, user_id=group_admin)
        assert subscribed.params["text"].startswith("已开始每日学习")
        other = await ask(server, "/subscribe 新党章", -100777, user_id=ADMIN)
        assert other.params["text"].startswith("已开始每日学习")
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "/retire 规范网络行为"))
        told, done = await server.wait_for("sendMessage", count=2, since=mark,
                                           timeout=RELOAD_TIMEOUT)
        assert told.params["chat_id"] == group
        assert "已下架,每日推送已暂停" in told.params["text"]
        assert "以下文件已移到 retired 文件夹" in done.params["text"]
        assert "party-lecture-online-conduct.quiz.tsv" in done.params["text"]
        assert "1 个聊天已暂停每日推送" in done.params["text"]
        buttons = _buttons(told)
        assert list(buttons) == ["改学《党课:学习新党章》"]
        asked_again = await ask(server, "/plan", group, user_id=member)
        assert "已下架,每日推送已暂停" in asked_again.params["text"]
        assert _buttons(asked_again) == buttons
        mark = server.mark()
        server.push_update(server.callback_query(group, member, told.result,
                                                 buttons["改学《党课:学习新党章》"]))
        (refused,) = await server.wait_for("answerCallbackQuery", since=mark)
        assert "管理员" in refused.params["text"]
        mark = server.mark()
        server.push_update(server.callback_query(group, group_admin, told.result,
                                                 buttons["改学《党课:学习新党章》"]))
        (switched,) = await server.wait_for("editMessageText", since=mark)
        assert switched.params["text"] == "已切换到《党课:学习新党章》,从第一段开始。"
        pushed = await ask(server, "/push", group, user_id=group_admin)
    assert "党课:学习新党章" in pushed.params["text"]
    assert not quiz_bank.exists()
    assert (folder / "retired" / quiz_bank.name).is_file()
    # The other group's plan did not use it: it heard nothing.
    assert not [m for m in server.sent_messages(-100777) if "下架" in m.get("text", "")]


async def test_sighup_reloads_the_folder(server, folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge) as app:
        (folder / "hand.txt").write_text(NEW_LECTURE, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            if len(app.bot_data[KNOWLEDGE_KEY].library.lectures) == 2:
                break
            await asyncio.sleep(0.05)
        answer = await ask(server, "党费要按期交吗")
    assert "《党课:学习新党章》" in answer.params["text"]


async def test_of_two_previews_of_one_lecture_only_the_first_published_wins(server, folder,
                                                                          tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        as_txt = await _send_file(server, "twin.txt", NEW_LECTURE.encode())
        as_md = await _send_file(server, "twin.md", ("# " + NEW_LECTURE).encode())
        for preview in (as_txt, as_md):
            mark = server.mark()
            server.push_update(server.callback_query(PRIVATE_CHAT, ADMIN, preview.result,
                                                     _buttons(preview)["发布"]))
            await server.wait_for("editMessageText", since=mark)
        (refused,) = await server.wait_for(
            "editMessageText", lambda c: c.params["message_id"] == as_md.result["message_id"])
        await server.wait_for("editMessageText", lambda c: c.params["text"].startswith("✅"))
    assert refused.params["text"].startswith("没有发布:在你确认之前,同名讲稿 twin.txt 已经发布了")
    assert "reply_markup" not in refused.params, "no 发布 button left to press"
    assert sorted(p.name for p in folder.glob("twin*")) == ["twin.txt"]


async def test_members_are_answered_while_a_large_document_is_parsed(server, folder,
                                                                    tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    data = many_paragraph_docx(20_000)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        server.add_file("big-docx", data)
        mark = server.mark()
        server.push_update(server.document_message(PRIVATE_CHAT, ADMIN, file_id="big-docx",
                                                   file_name="big.docx", file_size=len(data)))
        answer = await ask(server, "网民规模有多大", chat_id=2002)
        (preview,) = await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == ADMIN,
                                           since=mark, timeout=PREVIEW_TIMEOUT_S)
    assert "10.92亿" in answer.params["text"]
    assert answer.seq < preview.seq, "the answer did not wait for the parse"
    text = preview.params["text"]
    assert "段落:18999 段" in text and "· ……另有 970 项" in text
    assert len(text) <= 4096
