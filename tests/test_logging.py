"""The bot's log is about members and admins: the libraries' own INFO lines (APScheduler's
"Running job…", httpx's request lines) stay out unless BOT_LOG_LEVEL=DEBUG."""

from __future__ import annotations

import logging

import pytest

from bot.cli import LIBRARY_LOGGERS, configure_logging, main
from tests.botharness import Clock, ask, running_bot

pytestmark = pytest.mark.usefixtures("workdir")

LIBRARIES = ("apscheduler", "httpx")


@pytest.fixture
def restore_levels():
    """configure_logging sets process-wide levels: put them back for the other tests."""
    names = ["", *LIBRARY_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = list(logging.getLogger().handlers)
    filters = {handler: list(handler.filters) for handler in handlers}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler in handlers:
        handler.filters[:] = filters[handler]


def _library_records(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno <= level
            and r.name.split(".")[0] in LIBRARIES]


@pytest.mark.usefixtures("restore_levels")
async def test_info_log_tells_of_questions_and_pushes_not_of_jobs_and_requests(server, knowledge,
                                                                              caplog):
    configure_logging({}, bot_process=True)
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)):
        await ask(server, "网民规模有多大")
        await ask(server, "/subscribe")
        await ask(server, "/push")
    bot_lines = [r.getMessage() for r in caplog.records
                 if r.name.startswith("bot.") and r.levelno == logging.INFO]
    assert any("question in chat 1001 answered: answered" in line for line in bot_lines)
    assert any("delivered to chat 1001" in line for line in bot_lines)
    # The catch-up job ran through APScheduler and each call went through httpx: silent.
    assert _library_records(caplog, logging.INFO) == []


@pytest.mark.usefixtures("restore_levels")
async def test_bot_log_level_debug_lets_the_libraries_speak(server, knowledge, caplog):
    configure_logging({"BOT_LOG_LEVEL": "debug"}, bot_process=True)
    async with running_bot(server, knowledge):
        await ask(server, "网民规模有多大")
    names = {r.name.split(".")[0] for r in _library_records(caplog, logging.INFO)}
    assert names >= {"apscheduler", "httpx"}


@pytest.mark.usefixtures("restore_levels")
def test_levels_per_setting():
    configure_logging({}, bot_process=True)
    assert logging.getLogger("bot.handlers.ask").getEffectiveLevel() == logging.INFO
    for name in LIBRARIES:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
    configure_logging({"BOT_LOG_LEVEL": "WARNING"}, bot_process=True)
    assert logging.getLogger("bot.handlers.ask").getEffectiveLevel() == logging.WARNING
    configure_logging({"BOT_LOG_LEVEL": "DEBUG"}, bot_process=True)
    for name in LIBRARIES:
        assert logging.getLogger(name).getEffectiveLevel() == logging.DEBUG


@pytest.mark.usefixtures("restore_levels")
def test_the_token_is_redacted_even_at_debug():
    token = "123456789:AAHLkcN2WTqyI4bC6dnk-1c3ThAeVwBUVKO"
    root = logging.getLogger()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    root.addHandler(handler)
    try:
        configure_logging({"BOT_LOG_LEVEL": "DEBUG", "TELEGRAM_BOT_TOKEN": token},
                          bot_process=True)
        logging.getLogger("httpx").debug("HTTP Request: POST %s", f"https://x/bot{token}/getMe")
    finally:
        root.removeHandler(handler)
    assert records and all(token not in r.getMessage() for r in records)


def test_an_unknown_log_level_is_a_clear_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("BOT_LOG_LEVEL", "LOUD")
    assert main(["inspect"]) == 2
    assert "BOT_LOG_LEVEL" in capsys.readouterr().err
