"""The cluster's tables on both engines: the scheduler lease, heartbeats, change counters,
and pushes left half-sent by a dead instance (settled) or a live one (left to it)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from bot.stores import Stores
from bot.study.store import Plan, PushState

LEASE = "scheduler"
TTL = 15.0


@pytest.fixture
async def stores(database_target):
    opened = await Stores.open(database_target)
    try:
        yield opened
    finally:
        await opened.close()


async def test_the_first_instance_takes_the_lease_and_the_second_waits(stores):
    cluster = stores.cluster
    assert await cluster.take_lease(LEASE, "a", TTL, now=100.0)
    assert not await cluster.take_lease(LEASE, "b", TTL, now=101.0)
    assert await cluster.lease_holder(LEASE) == ("a", 115.0)


async def test_the_holder_renews_and_keeps_it_past_the_first_expiry(stores):
    cluster = stores.cluster
    assert await cluster.take_lease(LEASE, "a", TTL, now=100.0)
    assert await cluster.take_lease(LEASE, "a", TTL, now=110.0)  # renewed to 125
    assert not await cluster.take_lease(LEASE, "b", TTL, now=120.0)
    assert (await cluster.lease_holder(LEASE))[0] == "a"


async def test_an_expired_lease_goes_to_the_next_instance_and_the_old_holder_loses_it(stores):
    cluster = stores.cluster
    assert await cluster.take_lease(LEASE, "a", TTL, now=100.0)
    assert await cluster.take_lease(LEASE, "b", TTL, now=115.5)
    assert not await cluster.take_lease(LEASE, "a", TTL, now=116.0)
    assert (await cluster.lease_holder(LEASE))[0] == "b"


async def test_a_released_lease_is_taken_at_once(stores):
    cluster = stores.cluster
    assert await cluster.take_lease(LEASE, "a", TTL, now=100.0)
    await cluster.release_lease(LEASE, "b")  # not b's to release
    assert not await cluster.take_lease(LEASE, "b", TTL, now=101.0)
    await cluster.release_lease(LEASE, "a")
    assert await cluster.take_lease(LEASE, "b", TTL, now=101.0)


async def test_by_default_the_lease_runs_on_the_databases_clock(stores):
    """Instances on machines whose clocks differ agree on when a lease expires."""
    cluster = stores.cluster
    assert await cluster.take_lease(LEASE, "a", TTL)
    assert not await cluster.take_lease(LEASE, "b", TTL)
    holder, expires_at = await cluster.lease_holder(LEASE)
    assert holder == "a" and abs(expires_at - (time.time() + TTL)) < 60
    await cluster.heartbeat("a")
    assert await cluster.live_instances(TTL) == {"a"}


async def test_an_update_is_taken_on_once_and_forgotten_after_a_day(stores):
    cluster = stores.cluster
    assert await cluster.first_sighting(1001)
    assert not await cluster.first_sighting(1001), "a repeat"
    assert await cluster.first_sighting(1002)
    await cluster.forget_updates(older_than_s=3600)
    assert not await cluster.first_sighting(1001), "an hour-old id is still remembered"
    await cluster.forget_updates(older_than_s=-60)  # as if a day had passed
    assert await cluster.first_sighting(1001)


async def test_change_counters_count_per_name(stores):
    cluster = stores.cluster
    assert await cluster.versions() == {}
    assert await cluster.bump("lectures", "a") == 1
    assert await cluster.bump("lectures", "b") == 2
    assert await cluster.bump("links", "a") == 1
    assert await cluster.versions() == {"lectures": 2, "links": 1}


async def test_instances_that_stop_ticking_are_no_longer_live(stores):
    cluster = stores.cluster
    await cluster.heartbeat("a", now=100.0)
    await cluster.heartbeat("b", now=110.0)
    assert await cluster.live_instances(TTL, now=112.0) == {"a", "b"}
    assert await cluster.live_instances(TTL, now=120.0) == {"b"}
    await cluster.leave("b")
    assert await cluster.live_instances(TTL, now=120.0) == set()


async def test_a_push_left_sending_is_settled_only_when_its_instance_is_gone(database_target):
    """Two instances on one database: a push the live one is sending stays its own; the dead
    one's becomes unknown (told to the admins, never sent twice)."""
    first = await Stores.open(database_target)
    try:
        first.study.instance = "alive"
        await first.study.save_plan(_plan(1))
        await first.study.save_plan(_plan(2))
        mine = await first.study.claim_push(1, date(2025, 3, 5), "lecture:0.1", "scheduled")
        first.study.instance = "dead"
        theirs = await first.study.claim_push(2, date(2025, 3, 5), "lecture:0.1", "scheduled")
        settled = await first.study.interrupted_pushes(live={"alive"})
        assert [push.push_id for push in settled] == [theirs.push_id]
        assert (await first.study.push(mine.push_id)).state == PushState.SENDING
        assert (await first.study.push(theirs.push_id)).state == PushState.UNKNOWN
        # Alone (SQLite, or every other instance gone): every push left sending is settled.
        assert [p.push_id for p in await first.study.interrupted_pushes()] == [mine.push_id]
    finally:
        await first.close()


def _plan(chat_id: int) -> Plan:
    return Plan(chat_id=chat_id, lecture_id="lecture", last_passage_id=None,
                time_of_day="08:00", weekdays=(0, 1, 2, 3, 4, 5, 6), timezone="Asia/Shanghai",
                schedule_set_at=datetime(2025, 3, 4, tzinfo=UTC), active=True)
