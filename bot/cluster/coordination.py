"""The lease and the change counters at work in a running bot (its JobQueue).

Every instance keeps the jobs its own commands create, but a scheduled job does its work only
on the instance holding the scheduler lease (`scheduler_only`). The holder renews the lease
every tick; when it dies (kill -9, a lost machine) the lease expires and the next instance to
tick takes it over: it rebuilds its jobs from the database and runs the start-up catch-up,
whose claims in the database make every push, quiz and reminder go out once per chat and day
whichever process sends it.

Changes to what each instance keeps in memory are counted in the database (`announce`);
every tick reads the counters, and a changed one runs what the features registered for it
(`on_change`): the lectures are loaded again, the links read again, the jobs rebuilt.
On SQLite there is one instance: it is always the scheduler and nothing here runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram.ext import Application, ContextTypes

from bot import services
from bot.cluster.store import instance_identity
from bot.storage import DatabaseError

log = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"
# A dead holder's lease is taken within LEASE_TTL_S + TICK_S (under the 30 s promised).
LEASE_TTL_S = 15.0
TICK_S = 2.0
TICK_JOB_NAME = "cluster-tick"
# What instances keep in memory, by the name its change counter has.
LECTURES, LINKS, SCHEDULES, QUIZ_BANK = "lectures", "links", "schedules", "quiz_bank"

_STATE_KEY = "cluster"
# Update ids are remembered a day (Telegram stops resending long before), pruned every 5 min.
UPDATE_MEMORY_S = 24 * 3600
FORGET_UPDATES_EVERY_TICKS = 150
# Set while this instance follows another's change (loads the lectures again, rebuilds its
# jobs): that is no change of its own to announce.
_following = contextvars.ContextVar("rebuilding_jobs", default=False)

Callback = Callable[[Application], Awaitable[None]]


@dataclass
class ClusterState:
    identity: str
    shared: bool = False
    scheduler: bool = True  # one instance (SQLite) always is
    lease_until: float = 0.0
    seen: dict[str, int] = field(default_factory=dict)
    on_change: dict[str, list[Callback]] = field(default_factory=dict)
    on_takeover: list[Callback] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)
    ticks: int = 0


def state(app: Application) -> ClusterState:
    return app.bot_data.setdefault(_STATE_KEY, ClusterState(instance_identity()))


def on_change(app: Application, name: str, callback: Callback) -> None:
    """`callback(app)` runs when another instance announces a change of `name`."""
    state(app).on_change.setdefault(name, []).append(callback)


def on_takeover(app: Application, callback: Callback) -> None:
    """`callback(app)` runs when this instance becomes the scheduler after start-up (its jobs
    were rebuilt first); in registration order."""
    state(app).on_takeover.append(callback)


def is_scheduler(app: Application) -> bool:
    return state(app).scheduler


def scheduler_only(job: Callable[[ContextTypes.DEFAULT_TYPE], Awaitable[None]]):
    """A scheduled job that does its work only on the scheduler instance."""
    @functools.wraps(job)
    async def guarded(context: ContextTypes.DEFAULT_TYPE) -> None:
        if is_scheduler(context.application):
            await job(context)
    return guarded


async def start(app: Application) -> None:
    """At start-up, before the jobs are restored: on a shared database, try for the lease
    and tick from then on."""
    cluster = state(app)
    database = services.stores(app).database
    cluster.shared = database.shared
    if not cluster.shared:
        cluster.scheduler = True
        return
    store = services.stores(app).cluster
    cluster.seen = await store.versions()
    await store.heartbeat(cluster.identity)
    cluster.scheduler = await _take_lease(app)
    log.info("instance %s %s the scheduler", cluster.identity,
             "is" if cluster.scheduler else "is not")
    if app.job_queue is not None:
        app.job_queue.run_repeating(tick, interval=TICK_S, first=TICK_S, name=TICK_JOB_NAME)


async def stop(app: Application) -> None:
    """A clean stop hands the lease on at once."""
    cluster = state(app)
    if not cluster.shared:
        return
    store = services.stores(app).cluster
    try:
        await store.leave(cluster.identity)
        if cluster.scheduler:
            await store.release_lease(SCHEDULER_LEASE, cluster.identity)
    except DatabaseError as error:
        log.warning("scheduler lease not released (it expires by itself): %s", error)
    cluster.scheduler = False


async def _take_lease(app: Application) -> bool:
    cluster = state(app)
    asked = time.monotonic()
    held = await services.stores(app).cluster.take_lease(SCHEDULER_LEASE, cluster.identity,
                                                         LEASE_TTL_S)
    if held:
        cluster.lease_until = asked + LEASE_TTL_S
    return held


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    cluster = state(app)
    try:
        await services.stores(app).cluster.heartbeat(cluster.identity)
        held = await _take_lease(app)
        versions = await services.stores(app).cluster.versions()
    except DatabaseError as error:
        # Unreachable: the lease is ours only until it would have expired for the others.
        if cluster.scheduler and time.monotonic() >= cluster.lease_until:
            cluster.scheduler = False
            log.error("scheduler lease lapsed: the database is unreachable (%s)", error)
        return
    if held and not cluster.scheduler:
        cluster.scheduler = True
        log.warning("instance %s took over the scheduler", cluster.identity)
        _spawn(app, _take_over(app))
    elif not held and cluster.scheduler:
        cluster.scheduler = False
        log.warning("instance %s lost the scheduler lease", cluster.identity)
    cluster.ticks += 1
    if cluster.scheduler and cluster.ticks % FORGET_UPDATES_EVERY_TICKS == 0:
        _spawn(app, _forget_updates(app))
    for name, version in versions.items():
        if cluster.seen.get(name) != version:
            cluster.seen[name] = version
            if name != SCHEDULES or cluster.scheduler:
                _spawn(app, _run(app, cluster.on_change.get(name, [])))


async def _forget_updates(app: Application) -> None:
    try:
        await services.stores(app).cluster.forget_updates(UPDATE_MEMORY_S)
    except DatabaseError as error:
        log.warning("old update ids not pruned: %s", error)


async def first_sighting(app: Application, update_id: int) -> bool:
    """Is this instance the first to take the update on? (Always, with one instance.)"""
    if not state(app).shared:
        return True
    try:
        return await services.stores(app).cluster.first_sighting(update_id)
    except DatabaseError as error:  # better answered twice than not at all
        log.warning("update %s not checked for a repeat: %s", update_id, error)
        return True


async def _take_over(app: Application) -> None:
    await _run(app, state(app).on_change.get(SCHEDULES, []))
    await _run(app, state(app).on_takeover)


async def _run(app: Application, callbacks: list[Callback]) -> None:
    token = _following.set(True)
    try:
        for callback in callbacks:
            try:
                await callback(app)
            except Exception:
                log.exception("cluster callback %s failed", getattr(callback, "__name__", ""))
    finally:
        _following.reset(token)


def _spawn(app: Application, coroutine: Awaitable[None]) -> None:
    app.create_task(coroutine)


async def announce(app: Application, name: str) -> None:
    """This instance changed `name`: the others load it again at their next tick."""
    cluster = state(app)
    if not cluster.shared or _following.get():
        return
    try:
        cluster.seen[name] = await services.stores(app).cluster.bump(name, cluster.identity)
    except DatabaseError as error:
        log.error("change of %s not announced to the other instances: %s", name, error)


async def live_instances(app: Application) -> set[str]:
    """The instances still running, this one included (alone on SQLite); a push one of them
    claimed is theirs to finish."""
    cluster = state(app)
    if not cluster.shared:
        return {cluster.identity}
    found = await services.stores(app).cluster.live_instances(LEASE_TTL_S)
    return found | {cluster.identity}


@contextlib.contextmanager
def quietly():
    """Jobs restored from the database at start-up are no change to announce."""
    token = _following.set(True)
    try:
        yield
    finally:
        _following.reset(token)


def schedules_changed(app: Application) -> None:
    """A job was (re)scheduled or removed here: the scheduler rebuilds its jobs from the
    database. Called from synchronous code; the announcement is sent once per loop turn."""
    cluster = state(app)
    if not cluster.shared or _following.get() or SCHEDULES in cluster.pending:
        return
    cluster.pending.add(SCHEDULES)

    async def send() -> None:
        await asyncio.sleep(0)  # after the rest of this handler's writes
        cluster.pending.discard(SCHEDULES)
        await announce(app, SCHEDULES)
    _spawn(app, send())
