"""Records benchmark: exporting a month of a 200-member group as the 学习台账 workbook.

The data (synthetic, seeded): a group of 200 members the bot met, a roster of 200 imported
names (the first 150 with @usernames that match members, so 150 are linked), 30 daily
pushes in November 2026, a check-in by each member on ~80% of the days (~8% of them made up
one to three days later), 300 questions and 60 absence reasons. All written through the
stores' own methods into a fresh SQLite database in a temporary folder.

Timed, in one process (median of RUNS runs, `gc.collect()` before each):
- export, end to end: what `lecture-bot export` does after loading the lectures: open the
  database, gather the month (`report.month_record`: every store read, roster matching,
  补学), build the four-sheet workbook (`workbook.workbook_bytes`), close; the bot's /export
  does the same on its open database.
- workbook only: `workbook_bytes` of the gathered record (XlsxWriter, constant memory).
- Baselines a secretary would otherwise use, writing the same sign-in table (member × day
  marks with totals, 200 × 30) and the per-day table from the same gathered record:
  `csv` (the standard library, two .csv files) and a plain openpyxl dump (write-only mode,
  rows appended, no styles or widths; openpyxl is what most Python scripts reach for).
- The /stats chart (`chart.render_chart`, 30 bars and a quiz line): the first one in the
  process (imports matplotlib and registers the CJK font) and a warm one.

Run from the repository root: `python -m benchmarks.records`. Prints a table and writes it
to benchmarks/results/records.txt, and the numbers to benchmarks/results/records.json.
"""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks import REPO_ROOT, Report, load_average, write_result
from benchmarks.harness import environment
from bot.core.lectures import load_library
from bot.members.store import Sighting
from bot.records.report import MonthRecord, month_record, quiz_results_of, short_date
from bot.records.store import RosterEntry, member_key
from bot.records.workbook import workbook_bytes
from bot.stores import Stores

CHAT = -1001000000001
MEMBERS = 200
LINKED = 150  # roster names with an @username; the others match a member by name
DAYS = 30
QUESTIONS = 300
ABSENCES = 60
STUDY_SHARE, MADE_UP_SHARE = 0.80, 0.08
RUNS = 5
TARGET_SECONDS = 1.0  # the bound for exporting a month of 200 members
MONTH = date(2026, 11, 1)
TIMEZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TIMEZONE)
SEED = 13


async def build_database(path: Path, passage_ids: list[str]) -> None:
    """The synthetic month, written through the stores as the bot would write it."""
    rng = random.Random(SEED)
    stores = await Stores.open(path)
    try:
        for user in range(1, MEMBERS + 1):
            telegram_name = f"Member{user}" if user <= LINKED else f"党员{user:03d}"
            await stores.members.saw(Sighting(CHAT, user, telegram_name, "",
                                              f"member_{user:03d}"))
        await stores.records.replace_roster(CHAT, [
            RosterEntry(i, f"党员{i:03d}", f"member_{i:03d}" if i <= LINKED else None)
            for i in range(1, MEMBERS + 1)])
        for offset in range(DAYS):
            day = MONTH + timedelta(days=offset)
            passage = passage_ids[offset % len(passage_ids)]
            push = await stores.study.claim_push(CHAT, day, passage, "scheduled")
            await stores.study.mark_delivered(push, offset + 1, CHAT)
            for user in range(1, MEMBERS + 1):
                if rng.random() < STUDY_SHARE:
                    late = rng.randint(1, 3) if rng.random() < MADE_UP_SHARE else 0
                    at = datetime.combine(day + timedelta(days=late),
                                          datetime.min.time().replace(hour=20), SHANGHAI)
                    await stores.study.check_in(push, user, at)
        for i in range(QUESTIONS):
            at = datetime.combine(MONTH + timedelta(days=i % DAYS),
                                  datetime.min.time().replace(hour=9), SHANGHAI)
            await stores.questions.log_question(CHAT, f"第{i}个问题:网民规模有多大?",
                                                i % 3 != 0, None, user_id=1 + i % MEMBERS,
                                                at=at + timedelta(minutes=i))
        for i in range(ABSENCES):
            await stores.records.note_absence(CHAT, MONTH + timedelta(days=i % DAYS),
                                              member_key(1 + (i * 7) % MEMBERS), "出差", 1)
    finally:
        await stores.close()


async def gather(path: Path, library) -> MonthRecord:
    stores = await Stores.open(path)
    try:
        return await month_record(stores, library, CHAT, MONTH, TIMEZONE,
                                  quiz_results_of(stores.quiz.daily_results))
    finally:
        await stores.close()


async def export(path: Path, library) -> bytes:
    return workbook_bytes(await gather(path, library))


def _tables(record: MonthRecord) -> tuple[list[list], list[list]]:
    """The sign-in and per-day tables as plain rows, for the baselines."""
    header = ["姓名", *(short_date(d.day) for d in record.days), "当天学习", "补学", "未学"]
    sign_in = [header]
    for person in record.persons:
        marks = [record.mark(person, day) for day in record.days]
        studied = marks.count("✓")
        made_up = sum(1 for m in marks if m.startswith("补"))
        sign_in.append([person.name, *marks, studied, made_up, len(marks) - studied - made_up])
    days = [["日期", "学习内容", "当天学习", "补学", "名单人数", "学习率", "提问数"]]
    days += [[d.day.isoformat(), "\n".join(d.citations), len(record.studied(d)),
              record.made_up_count(d), len(record.persons), record.rate(d), d.questions]
             for d in record.days]
    return sign_in, days


def csv_baseline(record: MonthRecord) -> bytes:
    out = []
    for table in _tables(record):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table)
        out.append(buffer.getvalue().encode("utf-8-sig"))
    return b"".join(out)


def openpyxl_dump_baseline(record: MonthRecord) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for table in _tables(record):
        sheet = book.create_sheet()
        for row in table:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def timed(function: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def median_of(function: Callable[[], object]) -> tuple[float, float, float, object]:
    runs = [timed(function) for _ in range(RUNS)]
    seconds = [s for s, _ in runs]
    return statistics.median(seconds), min(seconds), max(seconds), runs[-1][1]


def render_chart_of(record: MonthRecord) -> bytes:
    from bot.records.chart import ChartDay, render_chart

    days = [ChartDay(d.day, record.rate(d), 0.6) for d in record.days]
    return render_chart(record.title, record.month, days)


def main() -> None:
    say = Report()
    library = load_library(REPO_ROOT / "knowledge")
    passage_ids = [p.passage_id for p in library.passages]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        started = time.perf_counter()
        asyncio.run(build_database(path, passage_ids))
        built = time.perf_counter() - started
        record = asyncio.run(gather(path, library))
        results = {
            "export": median_of(lambda: asyncio.run(export(path, library))),
            "workbook": median_of(lambda: workbook_bytes(record)),
            "csv": median_of(lambda: csv_baseline(record)),
            "openpyxl_dump": median_of(lambda: openpyxl_dump_baseline(record)),
        }
        chart_cold = timed(lambda: render_chart_of(record))
        chart_warm = median_of(lambda: render_chart_of(record))
    env = environment()
    made_up = sum(record.made_up_count(d) for d in record.days)
    say(f"Records benchmark: a month of {MEMBERS} members as the 学习台账 workbook "
        f"(python -m benchmarks.records), {time.strftime('%Y-%m-%d %H:%M:%S')}")
    say(f"Python {env['python']}, {env['platform']}, {env['cpus']} CPUs, "
        f"load average {load_average()} at the end")
    say(f"Data: {len(record.persons)} on the roster, {len(record.days)} study days, "
        f"{sum(len(d.marks.on_time) for d in record.days)} check-ins on the day, {made_up} "
        f"made up, {len(record.questions)} questions; database built in {built:.1f} s "
        f"(not timed below); median of {RUNS} runs")
    say()
    say(f"{'':44}{'median':>10}{'min .. max':>22}{'size':>10}")
    labels = {"export": "export, end to end (read + build + write)",
              "workbook": "  of which the workbook (4 sheets, styled)",
              "csv": "baseline: csv module, 2 tables",
              "openpyxl_dump": "baseline: plain openpyxl dump, 2 tables"}
    for key, label in labels.items():
        median, low, high, data = results[key]
        say(f"{label:44}{_ms(median):>10}{_ms(low) + ' .. ' + _ms(high):>22}"
            f"{len(data) / 1024:>8.0f} kB")
    say(f"{'/stats chart, first in the process':44}{_ms(chart_cold[0]):>10}"
        f"{'':>22}{len(chart_cold[1]) / 1024:>8.0f} kB")
    say(f"{'/stats chart, warm':44}{_ms(chart_warm[0]):>10}"
        f"{_ms(chart_warm[1]) + ' .. ' + _ms(chart_warm[2]):>22}")
    export_s = results["export"][0]
    say()
    workbook_s, dump_s = results["workbook"][0], results["openpyxl_dump"][0]
    say(f"Export vs csv: {export_s / results['csv'][0]:.1f}x; vs plain openpyxl dump: "
        f"{export_s / dump_s:.2f}x (the workbook alone: {workbook_s / dump_s:.2f}x, with about "
        f"twice the cells); target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if export_s < TARGET_SECONDS else 'NOT met'} ({_ms(export_s)})")
    say()
    say("Notes")
    say("- The baselines write only the sign-in and per-day tables from the already gathered")
    say("  record: no database reads, no roster matching, no absences or questions sheets,")
    say("  no styles; they are what a secretary gets by dumping the data by hand.")
    say("- The bot builds the workbook and the chart in a worker thread (asyncio.to_thread).")
    say.save("records.txt")
    write_result("records.json", json.dumps({
        "environment": env, "members": MEMBERS, "days": DAYS, "runs": RUNS,
        "seconds": {key: {"median": r[0], "min": r[1], "max": r[2]}
                    for key, r in results.items()},
        "chart_seconds": {"cold": chart_cold[0], "warm_median": chart_warm[0]},
    }, indent=2) + "\n")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


if __name__ == "__main__":
    main()
