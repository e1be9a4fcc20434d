"""Records without Telegram: months and days, the roster, 补学, the workbook, roster files and
the chart's Chinese glyphs."""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from bot.members.store import Member, Sighting
from bot.records.chart import CJK_FAMILY, ChartDay, cjk_font_path, drawable, render_chart
from bot.records.report import AskedQuestion, MonthRecord, StudyDay, month_record
from bot.records.roster import MAX_ROSTER_ROWS, RosterError, read_roster
from bot.records.rules import (
    DayMarks,
    Person,
    build_roster,
    day_marks,
    find_person,
    parse_day,
    parse_export_args,
    parse_month,
    to_remind,
)
from bot.records.store import RosterEntry, member_key, name_key
from bot.records.workbook import HEADER_ROW, file_name, workbook_bytes
from bot.stores import Stores
from bot.study.store import CheckIn, Push

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHAT = -100900


def _member(user_id: int, first: str, username: str | None = None,
            own: str | None = None) -> Member:
    return Member(CHAT, user_id, first, "", username, own, None)


# --- months, days, arguments -------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11", date(2026, 11, 1)), ("2026/1", date(2026, 1, 1)),
    ("2026年11月", date(2026, 11, 1)), (" 2026-03 ", date(2026, 3, 1)),
    ("2026-13", None), ("2026-0", None), ("11月", None), ("abc", None), ("", None),
    ("1999-12", None), ("2026-11-01", None)])
def test_months(text, expected):
    assert parse_month(text) == expected


def test_days_default_to_this_year_or_the_last_one():
    today = date(2026, 1, 2)
    assert parse_day("12-30", today) == date(2025, 12, 30)
    assert parse_day("1月2日", today) == date(2026, 1, 2)
    assert parse_day("2026-02-30", today) is None
    assert parse_day("张三", today) is None


def test_export_arguments_take_the_month_wherever_it_stands():
    assert parse_export_args(["第一", "支部", "2026-11"]).group == "第一 支部"
    assert parse_export_args(["2026-11", "-100123456"]).group == "-100123456"
    request = parse_export_args(["2026-13"])
    assert (request.month_text, request.group) == ("2026-13", "")
    assert parse_export_args([]).month_text is None


# --- the roster ----------------------------------------------------------------------------


def test_roster_lists_imported_names_first_and_matches_by_username_then_unique_name():
    members = [_member(1, "Wei", "ZhangWei"), _member(2, "小王", own="王芳"),
               _member(3, "阿明"), _member(4, "阿明"), _member(5, "赵六")]
    entries = [RosterEntry(1, "张伟", "zhangwei"), RosterEntry(2, "王芳"),
               RosterEntry(3, "阿明"), RosterEntry(4, "赵六")]
    roster = build_roster(members, entries)
    # 王芳 is only the /myname of member 2: a claim an admin must confirm, never a match.
    assert [(p.name, p.user_id) for p in roster.persons] == [
        ("张伟", 1), ("王芳", None), ("阿明", None), ("赵六", 5), ("王芳", 2), ("阿明", 3),
        ("阿明", 4)]
    assert [(e.name, user) for e, user in roster.new_matches] == [("张伟", 1), ("赵六", 5)]
    again = build_roster(members, [RosterEntry(1, "张伟", "zhangwei", 1)])
    assert again.new_matches == (), "a stored match is not reported again"


def test_find_person_takes_the_longest_name_and_allows_spaces():
    persons = [Person("u:1", "Wei"), Person("u:2", "Wei Zhang"), Person("n:王五", "王五")]
    assert find_person(persons, "Wei Zhang 出差") == (persons[1], "出差")
    assert find_person(persons, "王五\u3000病假") == (persons[2], "病假")
    assert find_person(persons, "王五") == (persons[2], "")
    assert find_person(persons, "王五病假") is None, "a name ends at a space"


def test_reminders_go_to_reachable_members_who_have_not_studied_nor_opted_out():
    roster = build_roster([_member(i, f"m{i}") for i in range(1, 6)],
                          [RosterEntry(1, "仅名单")])
    assert to_remind(roster, studied_today={1}, opted_out={2},
                     reachable={1, 2, 3, 4}) == [3, 4]


# --- 补学 -------------------------------------------------------------------------------------


def _push(push_id: int, day: int) -> Push:
    return Push(push_id, CHAT, date(2026, 11, day), f"lec:1.{push_id}", "scheduled", push_id)


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def test_a_check_in_on_a_later_local_day_is_made_up_with_its_date():
    pushes = [_push(1, 2), _push(2, 3), _push(3, 3)]
    checkins = [CheckIn(1, 10, date(2026, 11, 2), _at(2, 23)),  # 23:00 local: same day
                CheckIn(1, 11, date(2026, 11, 2), _at(3, 0)),  # just after midnight: 补
                CheckIn(1, 11, date(2026, 11, 2), _at(5, 9)),
                CheckIn(2, 12, date(2026, 11, 3), None),  # from before times were kept
                CheckIn(3, 13, date(2026, 11, 3), _at(4, 9)),
                CheckIn(2, 13, date(2026, 11, 3), _at(3, 9)),  # one of the day's pushes
                CheckIn(99, 14, date(2026, 11, 3), _at(3, 9))]  # a push never delivered
    first, second = day_marks(pushes, checkins, SHANGHAI)
    assert (first.day, first.on_time, first.made_up) == \
        (date(2026, 11, 2), {10}, {11: date(2026, 11, 3)})
    assert second.passage_ids == ("lec:1.2", "lec:1.3")
    assert second.on_time == {12, 13} and second.made_up == {}


# --- the workbook ------------------------------------------------------------------------------


def _record(**overrides) -> MonthRecord:
    persons = (Person(member_key(1), "=HYPERLINK(\"http://x\",\"点我\")", 1),
               Person(member_key(2), "李四\x07", 2), Person(name_key("王五"), "王五"))
    day = StudyDay(DayMarks(date(2026, 11, 2), ("lec:0.1",), frozenset({1}),
                            {2: date(2026, 11, 4)}), ("《讲稿》· 开篇 · 第1段",), 1)
    question = AskedQuestion(datetime(2026, 11, 2, 21, 5, tzinfo=SHANGHAI), "李四",
                             "=1+1 是什么", False)
    values = dict(chat_id=CHAT, title="支部/一", month=date(2026, 11, 1), persons=persons,
                  days=(day,), questions=(question,),
                  absences={(date(2026, 11, 2), name_key("王五")): "+出差"})
    return MonthRecord(**(values | overrides))


def test_typed_texts_are_written_as_text_never_as_formulas():
    book = load_workbook(io.BytesIO(workbook_bytes(_record())))
    sign_in = book["签到表"]
    assert sign_in.cell(HEADER_ROW + 1, 1).value == "=HYPERLINK(\"http://x\",\"点我\")"
    assert sign_in.cell(HEADER_ROW + 1, 1).data_type == "s"
    assert sign_in.cell(HEADER_ROW + 2, 1).value == "李四", "control characters dropped"
    assert [c.value for c in sign_in[HEADER_ROW + 2]][:2] == ["李四", "补 11-04"]
    assert book["提问记录"].cell(HEADER_ROW + 1, 3).data_type == "s"
    absent = [list(r) for r in book["未学名单"].iter_rows(min_row=HEADER_ROW + 1,
                                                       values_only=True)]
    assert [r[1:] for r in absent] == [["李四", "11-04 补学", None], ["王五", "未学", "+出差"]]


def test_quiz_columns_appear_only_with_a_quiz():
    plain = load_workbook(io.BytesIO(workbook_bytes(_record())))["学习记录"]
    assert [c.value for c in plain[HEADER_ROW]][-1] == "提问数"
    assert "答题人数" not in [c.value for c in plain[HEADER_ROW]]
    from bot.records.report import QuizDay
    record = _record(has_quiz=True)
    record = _record(has_quiz=True, days=(StudyDay(record.days[0].marks,
                                                   record.days[0].citations, 1,
                                                   QuizDay(3, 2)),))
    quiz = load_workbook(io.BytesIO(workbook_bytes(record)))["学习记录"]
    header = [c.value for c in quiz[HEADER_ROW]]
    row = [c.value for c in quiz[HEADER_ROW + 1]]
    assert row[header.index("答题人数")] == 3 and row[header.index("答对人数")] == 2


def test_file_names_lose_what_file_systems_refuse():
    assert file_name("支部/一:*", "2026-11") == "学习台账-支部_一__-2026-11.xlsx"
    assert file_name("   ", "2026-11") == "学习台账-group-2026-11.xlsx"


async def test_a_month_is_gathered_from_every_feature_store(database_target):
    stores = await Stores.open(database_target)
    try:
        await stores.members.saw(Sighting(CHAT, 1, "张三"))
        await stores.members.saw(Sighting(CHAT, 2, "Li", username="lisi"))
        await stores.records.replace_roster(CHAT, [RosterEntry(1, "李四", "@LiSi"),
                                                   RosterEntry(2, "王五")])
        await stores.records.note_absence(CHAT, date(2026, 11, 2), name_key("王五"), "出差", 9)
        push = await stores.study.claim_push(CHAT, date(2026, 11, 2), "lec:0.1", "scheduled")
        await stores.study.mark_delivered(push, 50, CHAT)
        other = await stores.study.claim_push(CHAT, date(2026, 10, 31), "lec:0.0", "manual")
        await stores.study.mark_delivered(other, 49, CHAT)
        await stores.study.check_in(push, 2, datetime(2026, 11, 2, 9, tzinfo=SHANGHAI))
        await stores.study.check_in(push, 3, datetime(2026, 11, 6, 9, tzinfo=SHANGHAI))
        await stores.questions.log_question(CHAT, "问题", True, None, user_id=1,
                                            at=datetime(2026, 11, 30, 23, tzinfo=SHANGHAI))
        await stores.questions.log_question(CHAT, "下个月", True, None, user_id=1,
                                            at=datetime(2026, 12, 1, 0, tzinfo=SHANGHAI))
        from bot.core.lectures import Library
        record = await month_record(stores, Library(()), CHAT, date(2026, 11, 1),
                                    "Asia/Shanghai")
        linked = await stores.members.member(CHAT, 2)
    finally:
        await stores.close()
    assert [p.name for p in record.persons] == ["李四", "王五", "张三", "3"]
    assert linked.name == "李四", "the roster name reached the member directory"
    (day,) = record.days
    assert day.citations == ("lec:0.1",), "a passage no longer in the library: its id"
    assert [record.mark(p, day) for p in record.persons] == ["✓", "", "", "补 11-06"]
    assert record.reason(day, record.persons[1]) == "出差"
    assert [q.text for q in record.questions] == ["问题"]


# --- roster files --------------------------------------------------------------------------------


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_roster_files_in_excel_tsv_csv_and_gbk():
    expected = [("张三", None), ("李四", "lisi_01")]
    files = {"名单.xlsx": _xlsx([["姓名", "用户名"], ["张三"], [], ["李四", "@LiSi_01"],
                                 ["张三", None]]),
             "名单.tsv": "姓名\t用户名\n张三\n\n李四\t@LiSi_01\n".encode("utf-8-sig"),
             "名单.csv": "张三,\n李四,lisi_01\n".encode("gbk"),
             "名单.txt": "张三\n  李四 \t @lisi_01 \n".encode()}
    for name, data in files.items():
        entries = read_roster(name, data)
        assert [(e.name, e.username) for e in entries] == expected, name
        assert [e.position for e in entries] == [1, 2]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("名单.pdf", b"%PDF", "只接受"),
    ("名单.xlsx", b"not a zip", "损坏"),
    ("名单.xlsx", b"PK\x03\x04broken", "损坏"),
    ("名单.tsv", b"\xff\xfe\x00\x00\x00", "编码"),
    ("名单.tsv", b"x" * (600 * 1024), "太大"),
    ("名单.tsv", "\n".join(f"人{i}" for i in range(MAX_ROSTER_ROWS + 1)).encode(), "太长"),
])
def test_unreadable_roster_files_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(RosterError, match=reason):
        read_roster(name, data)


def test_a_zip_bomb_named_xlsx_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("xl/worksheets/sheet1.xml", b"0" * (40 * 1024 * 1024))
    with pytest.raises(RosterError, match="损坏"):
        read_roster("名单.xlsx", buffer.getvalue())


# --- the chart ------------------------------------------------------------------------------------


def _chart_warnings(title: str, days) -> tuple[bytes, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(title, date(2026, 11, 1), days)
    return png, [str(w.message) for w in caught]


def test_the_chart_draws_chinese_with_the_shipped_font_and_no_missing_glyph():
    from matplotlib import font_manager

    days = [ChartDay(date(2026, 11, d), d / 30, 0.5 if d % 2 else None) for d in range(1, 31)]
    png, problems = _chart_warnings("第一党支部🇨🇳", days)
    assert png.startswith(b"\x89PNG") and problems == []
    found = font_manager.findfont(font_manager.FontProperties(family=CJK_FAMILY),
                                  fallback_to_default=False)
    assert str(found) == cjk_font_path() and found.face_index == 2
    empty, problems = _chart_warnings("空", [])
    assert empty.startswith(b"\x89PNG") and problems == []


def test_without_the_cjk_font_the_same_labels_would_be_missing_glyphs():
    """The check above can fail: matplotlib's own font has no Chinese and says so."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    figure.add_subplot().set_title("每日学习率", fontdict={"family": ["DejaVu Sans"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(io.BytesIO(), format="png")
    assert any("missing from font" in str(w.message) for w in caught)


def test_text_the_font_cannot_draw_is_dropped():
    assert drawable("学习🇨🇳小组 A", frozenset(map(ord, "学习小组A"))) == "学习小组 A"


def test_long_name_lists_are_cut_into_messages_telegram_accepts():
    from bot.core.render import telegram_length
    from bot.handlers.records import _chunks

    text = "📊 统计\n" + "😀" * 5000 + "\n" + "\n".join("名字" * 30 for _ in range(200))
    chunks = _chunks(text)
    assert len(chunks) > 2 and all(telegram_length(c) <= 4096 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


async def test_a_registered_quiz_source_fills_the_quiz_columns(tmp_path):
    from bot.core.lectures import Library
    from bot.records.report import QuizDay

    asked = []

    async def quiz(chat_id, first, last):
        asked.append((chat_id, first, last))
        return {date(2026, 11, 2): QuizDay(answered=4, correct=3)}

    stores = await Stores.open(tmp_path / "bot.sqlite3")
    try:
        for day in (2, 3):
            push = await stores.study.claim_push(CHAT, date(2026, 11, day), "l:0.1", "manual")
            await stores.study.mark_delivered(push, day, CHAT)
        record = await month_record(stores, Library(()), CHAT, date(2026, 11, 1),
                                    "Asia/Shanghai", quiz)
    finally:
        await stores.close()
    assert asked == [(CHAT, date(2026, 11, 1), date(2026, 11, 30))]
    assert record.has_quiz and [d.quiz for d in record.days] == [QuizDay(4, 3), None]
    sheet = load_workbook(io.BytesIO(workbook_bytes(record)))["学习记录"]
    rows = [list(r) for r in sheet.iter_rows(min_row=HEADER_ROW, values_only=True)]
    assert rows[0][6:8] == ["答题人数", "答对人数"]
    assert [r[6:8] for r in rows[1:]] == [[4, 3], [0, 0]]
