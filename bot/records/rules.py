"""Records rules as plain functions: months, the roster, who studied when, whom to remind.

No Telegram and no storage: callers feed in members, roster entries, pushes and check-ins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.members.store import Member
from bot.records.store import RosterEntry, member_key, name_key
from bot.study.store import CheckIn, Push

_MONTH = re.compile(r"^(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*月?$")
_DAY = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$")
# /export's group may be named by its id, e.g. -1001234567890.
_CHAT_ID = re.compile(r"^-\d{5,20}$")
# Months before this are surely a typo (the bot did not exist); years after, too.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def parse_month(text: str) -> date | None:
    """"2026-11" / "2026/1" / "2026年11月" → the month's first day; None for anything else."""
    match = _MONTH.match(text.strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (EARLIEST_YEAR <= year <= LATEST_YEAR and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def month_of(day: date) -> date:
    return day.replace(day=1)


def last_day(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def month_bounds(month: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The month as [start, end) moments in the group's time zone."""
    start = datetime.combine(month, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last_day(month) + timedelta(days=1), datetime.min.time(),
                           tzinfo=zone)
    return start, end


def parse_day(text: str, today: date) -> date | None:
    """"2026-11-26" / "11-26" / "11月26日" → a date (this year, or last year if that would
    be in the future); None for anything else."""
    match = _DAY.match(text.strip())
    if not match:
        return None
    year = int(match[1]) if match[1] else today.year
    try:
        day = date(year, int(match[2]), int(match[3]))
    except ValueError:
        return None
    if not match[1] and day > today:  # "12-30" typed on January 2nd: last December
        try:
            day = day.replace(year=year - 1)
        except ValueError:  # February 29th of a leap year, then not one
            return None
    return day


@dataclass(frozen=True)
class ExportRequest:
    month_text: str | None  # as typed; None: the current month
    group: str  # an id, or part of a title; empty in the group itself


def parse_export_args(args: Sequence[str]) -> ExportRequest:
    """`/export [群] [YYYY-MM]` in either order: the month is whatever looks like one."""
    month = next((a for a in args if parse_month(a) is not None or _looks_like_month(a)), None)
    rest = [a for a in args if a is not month]
    return ExportRequest(month, " ".join(rest).strip())


def _looks_like_month(text: str) -> bool:
    """Something meant as a month but wrong ("2026-13"): reported, not taken as a group."""
    return bool(re.match(r"^\d{4}[-/.年]\d{1,2}月?$", text.strip()))


def is_chat_id(text: str) -> bool:
    return bool(_CHAT_ID.match(text.strip()))


# --- the roster ------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone on a group's roster: a member the bot met, or a name from an imported list."""

    key: str  # member_key(user id) or name_key(name)
    name: str
    user_id: int | None = None

    @property
    def matched(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class Roster:
    persons: tuple[Person, ...]
    # Imported names newly recognised as members the bot met: (entry, user id) to store.
    new_matches: tuple[tuple[RosterEntry, int], ...] = ()

    @property
    def unmatched(self) -> tuple[Person, ...]:
        return tuple(p for p in self.persons if not p.matched)

    def person(self, key: str) -> Person | None:
        return next((p for p in self.persons if p.key == key), None)


def build_roster(members: Sequence[Member], entries: Sequence[RosterEntry]) -> Roster:
    """The imported names first, in the file's order, then everyone else the bot met, by name.

    An imported name is linked to a member by @username, or else by a Telegram name that only
    one member carries (a /myname claim needs an admin); a linked member is shown by the
    imported name.
    """
    by_id = {m.user_id: m for m in members}
    taken = {e.user_id for e in entries if e.user_id in by_id}
    persons, matches = [], []
    for entry in entries:
        user_id = entry.user_id if entry.user_id in by_id else _match(entry, members, taken)
        if user_id is not None and entry.user_id != user_id:
            matches.append((entry, user_id))
            taken.add(user_id)
        key = member_key(user_id) if user_id is not None else name_key(entry.name)
        persons.append(Person(key, entry.name, user_id))
    others = sorted((m for m in members if m.user_id not in taken), key=lambda m: m.name)
    persons += [Person(member_key(m.user_id), m.name, m.user_id) for m in others]
    return Roster(tuple(_unique_keys(persons)), tuple(matches))


def _match(entry: RosterEntry, members: Sequence[Member], taken: set[int]) -> int | None:
    free = [m for m in members if m.user_id not in taken]
    if entry.username:
        found = [m for m in free if (m.username or "").lower() == entry.username]
        if found:
            return found[0].user_id
    named = [m for m in free if entry.name in _own_names(m)]
    return named[0].user_id if len(named) == 1 else None


def _own_names(member: Member) -> set[str]:
    """The names a roster name is matched by: Telegram's. Never the /myname name: a roster
    name is claimed with /myname and linked once an admin confirms (bot.records.claims)."""
    telegram = f"{member.first_name} {member.last_name}".strip()
    return {name for name in (telegram, member.first_name) if name}


def _unique_keys(persons: Iterable[Person]) -> list[Person]:
    """A name listed twice on an imported roster is one person."""
    seen, unique = set(), []
    for person in persons:
        if person.key not in seen:
            seen.add(person.key)
            unique.append(person)
    return unique


def find_person(persons: Sequence[Person], text: str) -> tuple[Person, str] | None:
    """The person whose name starts `text` (the longest such name) and the rest of the text.

    Names may hold spaces ("Wei Zhang"), so the name is not simply the first word.
    """
    text = text.strip()
    found = [p for p in persons
             if text == p.name or text.startswith(p.name + " ") or
             text.startswith(p.name + "\u3000")]
    if not found:
        return None
    person = max(found, key=lambda p: len(p.name))
    return person, text[len(person.name):].strip()


# --- who studied when ------------------------------------------------------------------


@dataclass(frozen=True)
class DayMarks:
    """One study day: who studied it that day, and who made it up later (and when)."""

    day: date
    passage_ids: tuple[str, ...]
    on_time: frozenset[int]
    made_up: dict[int, date]


def day_marks(pushes: Sequence[Push], checkins: Sequence[CheckIn],
              zone: tzinfo) -> list[DayMarks]:
    """Study days in order. A check-in made on a later local day than its push is 补学;
    studying any of a day's pushes on the day counts as studied that day."""
    days: dict[date, list[Push]] = {}
    for push in pushes:
        days.setdefault(push.local_date, []).append(push)
    push_day = {push.push_id: push.local_date for push in pushes}
    on_time: dict[date, set[int]] = {day: set() for day in days}
    made_up: dict[date, dict[int, date]] = {day: {} for day in days}
    for checkin in checkins:
        day = push_day.get(checkin.push_id)
        if day is None:
            continue  # a push that never reached the chat
        studied = checkin.checked_in_at.astimezone(zone).date() if checkin.checked_in_at \
            else day  # recorded before check-in times were kept: counted as on the day
        if studied <= day:
            on_time[day].add(checkin.user_id)
        else:
            earlier = made_up[day].get(checkin.user_id)
            made_up[day][checkin.user_id] = min(studied, earlier) if earlier else studied
    return [DayMarks(day, tuple(dict.fromkeys(p.passage_id for p in pushes_of_day)),
                     frozenset(on_time[day]),
                     {user: when for user, when in made_up[day].items()
                      if user not in on_time[day]})
            for day, pushes_of_day in sorted(days.items())]


def to_remind(roster: Roster, studied_today: set[int], opted_out: set[int],
              reachable: set[int]) -> list[int]:
    """Members on the roster who have not studied today, can be written to privately and did
    not turn reminders off, in roster order."""
    return [p.user_id for p in roster.persons
            if p.user_id is not None and p.user_id not in studied_today
            and p.user_id not in opted_out and p.user_id in reachable]
