"""Records (学习台账) end to end: three days of pushes and check-ins driven by the JobQueue and a
fake clock, then /export, /stats, reminders, a private /export and `lecture-bot export`.

The real Application polls the fake Bot API server; the workbook the bot uploads is opened
with openpyxl and its cells are checked against what happened.
"""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot import texts
from bot.cli import main as cli_main
from bot.records.delivery import reminder_job_name
from bot.records.workbook import HEADER_ROW
from bot.study.delivery import job_name
from tests import botharness
from tests.botharness import running_bot
from tests.conftest import KNOWLEDGE_DIR

pytestmark = pytest.mark.usefixtures("workdir", "bot_engine")

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUP = -100555
OTHER_GROUP = -100666
ADMIN = 5001
ZHANG, LI, CHEN, ZHAO = 101, 102, 103, 104  # members; Li has the @username on the roster
NAMES = {ADMIN: "书记", ZHANG: "Zhang", LI: "Li", CHEN: "小陈", ZHAO: "老赵"}  # Telegram names
ROSTER_TSV = "姓名\t用户名\n李四\t@LiSi_2026\n王五\n".encode()
CITATION_START = "《党课:发挥模范带头作用 规范网络行为》· "


class Clock:
    def __init__(self, *args: int):
        self.now = datetime(*args, tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.now


def _message(server, chat_id: int, text: str, user_id: int) -> dict:
    return server.text_message(chat_id, text, user_id, first_name=NAMES[user_id])


async def _send(server, chat_id: int, text: str, user_id: int):
    """Sends a message and waits for the bot's text reply to it."""
    mark = server.mark()
    server.push_update(_message(server, chat_id, text, user_id))
    (reply,) = await server.wait_for("sendMessage", since=mark)
    return reply


async def _press(server, chat_id: int, user_id: int, message: dict) -> None:
    data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    mark = server.mark()
    server.push_update(server.callback_query(chat_id, user_id, message, data,
                                             first_name=NAMES[user_id]))
    await server.wait_for("answerCallbackQuery", since=mark)


async def _push_at(server, app, clock: Clock, day: int) -> tuple[dict, dict]:
    """Fires the group's daily job at 08:00 of the given November day; returns the push and
    the 每日一题 poll that comes with it."""
    clock.now = datetime(2026, 11, day, 8, 0, tzinfo=SHANGHAI)
    mark = server.mark()
    (job,) = app.job_queue.get_jobs_by_name(job_name(GROUP))
    await job.run(app)
    (push,) = await server.wait_for("sendMessage", lambda c: "今日学习" in c.params["text"],
                                    since=mark)
    (poll,) = await server.wait_for("sendPoll", since=mark)
    return push.result, poll


async def _answer(server, poll, user_id: int, right: bool) -> None:
    (correct,) = poll.params["correct_option_ids"]
    option = correct if right else (correct + 1) % len(poll.params["options"])
    mark = server.mark()
    server.push_update(server.poll_answer(poll.result["poll"]["id"], user_id, [option],
                                          first_name=NAMES[user_id]))
    await server.wait_for("getUpdates", since=mark)


async def _three_days(server, app, clock: Clock) -> list[dict]:
    """Nov 2-4: 张三 studies on the 2nd and 3rd, 李四 on the 2nd and 4th, 小陈 makes the 3rd up
    on the 4th; 王五 (roster only) never; questions on the 3rd; reasons noted. 每日一题: on the
    2nd 张三 answers right and 李四 wrong, on the 3rd 张三 right, on the 4th nobody."""
    await _send(server, GROUP, "/subscribe", ADMIN)
    await _send(server, GROUP, "/myname 张三", ZHANG)
    roster = server.document_message(GROUP, ADMIN, file_name="名单.tsv", data=ROSTER_TSV,
                                     caption="/roster", first_name=NAMES[ADMIN])
    mark = server.mark()
    server.push_update(roster)
    (imported,) = await server.wait_for("sendMessage", since=mark)
    assert imported.params["text"].startswith("✅ 已导入名单 2 人,其中 0 人已对应")
    first, quiz = await _push_at(server, app, clock, 2)
    await _answer(server, quiz, ZHANG, right=True)
    await _answer(server, quiz, LI, right=False)
    clock.now += timedelta(hours=1)
    await _press(server, GROUP, ZHANG, first)
    await _press(server, GROUP, LI, first)
    second, quiz = await _push_at(server, app, clock, 3)
    await _answer(server, quiz, ZHANG, right=True)
    clock.now += timedelta(hours=2)
    await _press(server, GROUP, ZHANG, second)
    await _send(server, GROUP, "/ask 网民规模有多大", ZHANG)
    await _send(server, GROUP, "/ask 党费怎么交", CHEN)
    third, _ = await _push_at(server, app, clock, 4)
    clock.now += timedelta(hours=3)
    await _press(server, GROUP, CHEN, second)  # the 3rd's passage, made up on the 4th
    await _press(server, GROUP, LI, third)
    noted = await _send(server, GROUP, "/absent 11-02 王五 出差", ADMIN)
    assert noted.params["text"] == "已登记:王五 2026-11-02 未学,原因:出差。"
    await _send(server, GROUP, "/absent 11-02 小陈 病假", ADMIN)
    return [first, second, third]


def _sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(min_row=HEADER_ROW, values_only=True)]


def _by_first_cell(rows: list[list]) -> dict:
    return {row[0]: row[1:] for row in rows[1:]}


def _check_workbook(data: bytes) -> None:
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["学习记录", "签到表", "未学名单", "提问记录"]

    days = _sheet_rows(book["学习记录"])
    assert days[0] == ["日期", "学习内容", "当天学习", "补学", "名单人数", "学习率",
                       "答题人数", "答对人数", "提问数"]
    assert [row[0].date().isoformat() for row in days[1:]] == \
        ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert all(row[1].startswith(CITATION_START) for row in days[1:])
    roster_size = days[1][4]
    assert roster_size == 5  # 李四, 王五 (imported), 书记, 小陈, 张三
    assert [row[2:4] for row in days[1:]] == [[2, 0], [1, 1], [1, 0]]
    assert days[1][5] == pytest.approx(2 / 5)
    assert [row[6:8] for row in days[1:]] == [[2, 1], [1, 1], [0, 0]]
    assert [row[8] for row in days[1:]] == [0, 2, 0]

    sign_in = _sheet_rows(book["签到表"])
    assert sign_in[0] == ["姓名", "11-02", "11-03", "11-04", "当天学习", "补学", "未学"]
    people = _by_first_cell(sign_in)
    assert [row[0] for row in sign_in[1:3]] == ["李四", "王五"], "the roster's order first"
    assert people["张三"] == ["✓", "✓", None, 2, 0, 1]
    assert people["李四"] == ["✓", None, "✓", 2, 0, 1]
    assert people["小陈"] == [None, "补 11-04", None, 0, 1, 2]
    assert people["王五"] == [None, None, None, 0, 0, 3]
    assert people["当天学习人数"] == [2, 1, 1, None, None, None]
    assert people["补学人数"] == [0, 1, 0, None, None, None]

    absent = _sheet_rows(book["未学名单"])
    assert absent[0] == ["日期", "姓名", "情况", "原因"]
    entries = {(row[0].date().isoformat(), row[1]): row[2:] for row in absent[1:]}
    assert entries[("2026-11-02", "王五")] == ["未学", "出差"]
    assert entries[("2026-11-02", "小陈")] == ["未学", "病假"]
    assert entries[("2026-11-03", "小陈")] == ["11-04 补学", None]
    assert ("2026-11-02", "张三") not in entries and ("2026-11-04", "李四") not in entries

    questions = _sheet_rows(book["提问记录"])
    assert questions[0] == ["时间", "提问人", "问题", "讲稿是否回答"]
    assert [row[1:] for row in questions[1:]] == [["张三", "网民规模有多大", "已回答"],
                                                 ["小陈", "党费怎么交", "讲稿未涉及"]]
    assert questions[1][0].strftime("%m-%d %H") == "11-03 10"


async def test_export_stats_and_refusal_after_three_days(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    server.group_titles[GROUP] = "第一党支部"
    server.usernames[LI] = "LiSi_2026"
    server.member_counts[GROUP] = 7
    clock = Clock(2026, 11, 1, 12, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await _three_days(server, app, clock)
        refused = await _send(server, GROUP, "/export", ZHANG)
        assert refused.params["text"] == texts.NOT_ALLOWED
        mark = server.mark()
        server.push_update(_message(server, GROUP, "/export 2026-11", ADMIN))
        (sent,) = await server.wait_for("sendDocument", since=mark)
        stats_mark = server.mark()
        server.push_update(_message(server, GROUP, "/stats", ADMIN))
        (photo,) = await server.wait_for("sendPhoto", since=stats_mark)
    assert sent.ok and not server.calls("sendDocument")[:-1], "one document, for the admin"
    upload = sent.params["document"]
    assert upload.filename == "学习台账-第一党支部-2026-11.xlsx"
    assert "3 个学习日,名单 5 人" in sent.params["caption"]
    _check_workbook(upload.data)
    assert photo.ok and photo.params["photo"].data.startswith(b"\x89PNG")
    text = "\n".join(c.params["text"] for c in server.calls("sendMessage")
                     if c.seq > stats_mark)
    assert "今天(11-04)已学习 1 人:李四" in text
    assert "还没学习 4 人:王五、书记、小陈、张三" in text
    assert "名单 5 人(Telegram 群成员 7 人,含机器人)" in text
    assert "今天打卡:1 人次" in text, "the study counts come first"


async def test_reminders_reach_only_who_has_not_studied_and_kept_them_on(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    server.usernames[LI] = "LiSi_2026"
    clock = Clock(2026, 11, 1, 12, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        for user in (ZHANG, LI, CHEN, ZHAO):
            await _send(server, user, "/start", user)  # each has a private chat
        off = await _send(server, CHEN, "/remind off", CHEN)
        assert off.params["text"] == texts.RECORDS_REMIND_MEMBER_OFF
        await _send(server, GROUP, "/ask 网民规模有多大", ZHAO)
        pushes = await _three_days(server, app, clock)
        set_reply = await _send(server, GROUP, "/remind 20:00", ADMIN)
        assert set_reply.params["text"].startswith("好的,每天 20:00 私聊提醒")
        (job,) = app.job_queue.get_jobs_by_name(reminder_job_name(GROUP))
        assert job.next_t.astimezone(SHANGHAI).strftime("%H:%M") == "20:00"
        clock.now = datetime(2026, 11, 4, 20, 0, tzinfo=SHANGHAI)
        server.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
        mark = server.mark()
        await job.run(app)
        await job.run(app)  # a second firing the same day sends nothing more
        refused = await _send(server, GROUP, "/remind 20:00", ZHANG)
        reminders = [c for c in server.calls("sendMessage")
                     if c.seq > mark and c.params["text"].startswith("⏰ 学习提醒")]
        delivered = next(c for c in reminders if c.ok)
        await _press(server, delivered.params["chat_id"], delivered.params["chat_id"],
                     delivered.result)  # studied right from the reminder
        studied = await app.bot_data["stores"].study.checkins_between(
            GROUP, clock.now.date(), clock.now.date())
    # 李四 studied on the 4th, 小陈 turned reminders off, 王五 and 书记 have no private chat;
    # the first of 张三 and 老赵 (roster order: by name) got the injected 403 and is not retried.
    assert sorted(c.params["chat_id"] for c in reminders) == sorted([ZHANG, ZHAO])
    assert [c.ok for c in reminders].count(True) == 1
    third_citation = pushes[2]["text"].split("\n")[1]
    assert third_citation in delivered.params["text"]
    assert "/remind off" in delivered.params["text"]
    assert {c.user_id for c in studied} == {LI, delivered.params["chat_id"]}
    assert refused.params["text"] == texts.NOT_ALLOWED


async def test_restart_rebuilds_the_reminder_job(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    async with running_bot(server, knowledge):
        await _send(server, GROUP, "/remind 21:30", ADMIN)
    async with running_bot(server, knowledge) as app:
        (job,) = app.job_queue.get_jobs_by_name(reminder_job_name(GROUP))
        shown = await _send(server, GROUP, "/remind", ADMIN)
        off = await _send(server, GROUP, "/remind off", ADMIN)
        assert not app.job_queue.get_jobs_by_name(reminder_job_name(GROUP))
    assert job.next_t.astimezone(SHANGHAI).strftime("%H:%M") == "21:30"
    assert shown.params["text"] == "本群每天 21:30 提醒还没学习的成员。"
    assert off.params["text"] == texts.RECORDS_REMIND_GROUP_OFF
    async with running_bot(server, knowledge) as app:
        assert not app.job_queue.get_jobs_by_name(reminder_job_name(GROUP))


async def test_private_export_names_one_of_several_groups(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    server.chat_admins[OTHER_GROUP] = [ADMIN]
    server.group_titles[GROUP] = "第一党支部"
    server.group_titles[OTHER_GROUP] = "第二党支部"
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 5, 9, 0)):
        await _send(server, GROUP, "/ask 网民规模有多大", ADMIN)
        await _send(server, OTHER_GROUP, "/ask 网民规模有多大", ADMIN)
        await _send(server, OTHER_GROUP, "/ask 网民规模有多大", ZHANG)
        which = await _send(server, ADMIN, "/export", ADMIN)
        unknown = await _send(server, ADMIN, "/export 第三", ADMIN)
        not_theirs = await _send(server, ZHANG, "/export", ZHANG)
        bad_month = await _send(server, ADMIN, "/export 第二 2026-13", ADMIN)
        mark = server.mark()
        server.push_update(_message(server, ADMIN, "/export 第二 2026-11", ADMIN))
        (sent,) = await server.wait_for("sendDocument", since=mark)
    assert which.params["text"].startswith("你管理多个群")
    assert "· 第一党支部(-100555)" in which.params["text"]
    assert "· 第二党支部(-100666)" in which.params["text"]
    assert unknown.params["text"].startswith("没有找到你管理的群“第三”")
    assert not_theirs.params["text"] == texts.RECORDS_NO_GROUPS
    assert bad_month.params["text"] == "“2026-13”不是有效的月份,请写成 2026-11 这样的格式。"
    assert sent.params["chat_id"] == ADMIN
    assert sent.params["document"].filename == "学习台账-第二党支部-2026-11.xlsx"
    questions = _sheet_rows(load_workbook(io.BytesIO(sent.params["document"].data))["提问记录"])
    assert len(questions) == 3, "the header and the second group's two questions"


async def test_command_line_export_writes_the_same_workbook(server, knowledge, monkeypatch,
                                                            capsys):
    server.chat_admins[GROUP] = [ADMIN]
    server.group_titles[GROUP] = "第一党支部"
    server.usernames[LI] = "LiSi_2026"
    clock = Clock(2026, 11, 1, 12, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await _three_days(server, app, clock)
        mark = server.mark()
        server.push_update(_message(server, GROUP, "/export 2026-11", ADMIN))
        (sent,) = await server.wait_for("sendDocument", since=mark)
    monkeypatch.setenv("BOT_DB_PATH", "bot.sqlite3")
    monkeypatch.setenv("BOT_DATABASE_URL", botharness.DATABASE_URL or "")
    # In a thread, as from a shell: the command runs its own event loop.
    code = await asyncio.to_thread(cli_main, ["export", "--chat", str(GROUP), "--month",
                                              "2026-11", "-o", "台账.xlsx",
                                              "--knowledge", str(KNOWLEDGE_DIR)])
    assert code == 0 and "台账.xlsx" in capsys.readouterr().out
    written = Path("台账.xlsx").read_bytes()
    _check_workbook(written)
    from_bot = load_workbook(io.BytesIO(sent.params["document"].data))
    from_cli = load_workbook(io.BytesIO(written))
    for name in from_bot.sheetnames:
        assert _sheet_rows(from_cli[name]) == _sheet_rows(from_bot[name]), name
        assert from_cli[name]["A1"].value == from_bot[name]["A1"].value


def test_command_line_export_refuses_a_bad_month_or_a_missing_database(monkeypatch, capsys):
    monkeypatch.setenv("BOT_DB_PATH", "nowhere.sqlite3")
    assert cli_main(["export", "--chat", "-1", "--month", "11月", "-o", "x.xlsx"]) == 2
    assert "不是有效的月份" in capsys.readouterr().err
    assert cli_main(["export", "--chat", "-1", "--month", "2026-11", "-o", "x.xlsx"]) == 2
    assert "找不到数据库" in capsys.readouterr().err
    assert not Path("x.xlsx").exists()


async def test_bad_input_gets_a_clear_reply_and_changes_nothing(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    async with running_bot(server, knowledge) as app:
        replies = {}
        for chat_id, user, text in [
                (GROUP, ADMIN, "/absent"), (GROUP, ADMIN, "/absent 无名氏 出差"),
                (GROUP, ZHANG, "/absent 书记 出差"), (GROUP, ADMIN, "/absent 书记"),
                (GROUP, ADMIN, "/remind 25:00"), (GROUP, ADMIN, "/remind"),
                (ZHANG, ZHANG, "/remind 20:00"), (ZHANG, ZHANG, "/roster"),
                (ZHANG, ZHANG, "/myname"), (GROUP, ADMIN, "/export 某群"),
                (GROUP, ADMIN, "/export <b>2026-1</b>")]:
            replies[(user, text)] = (await _send(server, chat_id, text, user)).params["text"]
        for data, name in ((b"%PDF-1.4", "名单.pdf"), (b"\x00\x01garbage", "名单.xlsx"),
                           (b"", "名单.tsv")):
            mark = server.mark()
            server.push_update(server.document_message(GROUP, ADMIN, file_name=name, data=data,
                                                       caption="/roster",
                                                       first_name=NAMES[ADMIN]))
            (reply,) = await server.wait_for("sendMessage", since=mark)
            replies[name] = reply.params["text"]
        roster = await app.bot_data["stores"].records.roster(GROUP)
        reminders = await app.bot_data["stores"].records.reminder_times()
    assert replies[(ADMIN, "/absent")] == texts.RECORDS_ABSENT_USAGE
    assert replies[(ADMIN, "/absent 无名氏 出差")] == "名单里没有“无名氏”。发送 /roster 查看名单。"
    assert replies[(ZHANG, "/absent 书记 出差")] == texts.NOT_ALLOWED
    assert replies[(ADMIN, "/absent 书记")] == texts.RECORDS_ABSENT_USAGE
    assert replies[(ADMIN, "/remind 25:00")] == texts.RECORDS_REMIND_USAGE
    assert replies[(ADMIN, "/remind")] == texts.RECORDS_REMIND_NONE
    assert replies[(ZHANG, "/remind 20:00")] == texts.RECORDS_REMIND_USAGE
    assert replies[(ZHANG, "/roster")] == texts.RECORDS_IN_GROUP_ONLY
    assert replies[(ZHANG, "/myname")] == texts.RECORDS_MYNAME_USAGE
    assert replies[(ADMIN, "/export 某群")] == texts.RECORDS_EXPORT_USAGE
    assert replies[(ADMIN, "/export <b>2026-1</b>")] == texts.RECORDS_EXPORT_USAGE
    assert replies["名单.pdf"] == "无法读取名单文件:只接受 .xlsx、.tsv、.csv 或 .txt 名单文件。"
    assert replies["名单.xlsx"] == "无法读取名单文件:Excel 文件已损坏或格式不对。"
    assert replies["名单.tsv"] == texts.RECORDS_ROSTER_EMPTY
    assert roster == [] and reminders == []
    assert not server.calls("sendDocument")


async def test_names_follow_myname_across_groups_and_the_roster(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    async with running_bot(server, knowledge) as app:
        await _send(server, GROUP, "/ask 网民规模有多大", ZHANG)
        await _send(server, OTHER_GROUP, "/ask 网民规模有多大", ZHANG)
        named = await _send(server, ZHANG, "/myname   张  三  ", ZHANG)
        shown = await _send(server, GROUP, "/roster", ADMIN)
        directory = app.bot_data["stores"].members
        other = await directory.member(OTHER_GROUP, ZHANG)
    assert named.params["text"] == "好的,你在台账里的名字是:张 三"
    assert "张 三" in shown.params["text"] and other.name == "张 三"
    assert "书记" in shown.params["text"]
