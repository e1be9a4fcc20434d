"""Shared fixtures: the shipped knowledge folder loaded once per test session."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.text import Lexicon, Tokenizer
from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = ROOT / "knowledge"
SHARED_LECTURE = ROOT.parent / "shared" / "lectures" / "party-lecture-online-conduct.txt"
LECTURE_ID = "party-lecture-online-conduct"

logging.getLogger("jieba").setLevel(logging.WARNING)


@pytest.fixture
def server():
    """A fresh fake Telegram Bot API server on 127.0.0.1."""
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Runs the test in a temporary folder, so relative paths (the database) stay out of it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the knowledge folder, for tests that write into it."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return Tokenizer(Lexicon.load(KNOWLEDGE_DIR / "lexicon"))


@pytest.fixture(scope="session")
def knowledge(tokenizer) -> KnowledgeBase:
    return KnowledgeBase.load(KNOWLEDGE_DIR, tokenizer)


def write_lecture(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's throwaway PostgreSQL server (see tests/postgres.py)."""
    from tests.postgres import PostgresUnavailable, ThrowawayCluster, postgres_required

    try:
        cluster = ThrowawayCluster().start()
    except PostgresUnavailable as error:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required here but could not start: {error}")
        pytest.skip(f"PostgreSQL half skipped: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """An empty PostgreSQL database of its own."""
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request, tmp_path):
    """Each store test runs on both engines: a new SQLite file, or a new PostgreSQL
    database."""
    if request.param == "sqlite":
        return tmp_path / "data" / "bot.sqlite3"
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def bot_engine(request, monkeypatch):
    """The running bot's end-to-end tests on each engine (modules opt in with
    `pytestmark = pytest.mark.usefixtures("bot_engine")`)."""
    from tests import botharness

    if request.param == "postgresql":
        monkeypatch.setattr(botharness, "DATABASE_URL", request.getfixturevalue("pg_url"))
    return request.param
