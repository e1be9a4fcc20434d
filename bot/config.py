"""Settings, read from the environment and an optional `.env` file and validated once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.knowledge import DEFAULT_KNOWLEDGE_DIR

_TOKEN_FORM = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_WEBHOOK_SECRET_FORM = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_DB_PATH = Path("data") / "lecture-bot.sqlite3"
DEFAULT_TIMEZONE = "Asia/Shanghai"


class SettingsError(ValueError):
    """A setting that is missing or malformed; the message is meant for the admin."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes removed."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def environment(env_file: Path = Path(".env"),
                environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `.env` file's values, overridden by the real environment."""
    return {**read_env_file(env_file), **(os.environ if environ is None else environ)}


def token_is_valid(token: str) -> bool:
    return bool(_TOKEN_FORM.match(token))


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    admin_ids: frozenset[int] = frozenset()
    db_path: Path = DEFAULT_DB_PATH
    timezone: str = DEFAULT_TIMEZONE
    # PostgreSQL, shared by several instances; None keeps the SQLite file at db_path.
    database_url: str | None = field(default=None, repr=False)

    @property
    def database(self) -> Path | str:
        """Where the data lives: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.database_url or self.db_path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise SettingsError("missing-token")
        if not token_is_valid(token):
            raise SettingsError("invalid-token")
        webhook_url = env.get("WEBHOOK_URL") or None
        webhook_secret = env.get("WEBHOOK_SECRET") or None
        if webhook_url and not (webhook_secret and _WEBHOOK_SECRET_FORM.match(webhook_secret)):
            # Without it anyone who reaches the URL could post updates, even as an admin.
            raise SettingsError("设置 WEBHOOK_URL 时必须设置 WEBHOOK_SECRET"
                                "(1-256 位字母、数字、_ 或 -)"
                                " / WEBHOOK_URL needs WEBHOOK_SECRET ([A-Za-z0-9_-]{1,256})")
        timezone = env.get("BOT_TIMEZONE") or DEFAULT_TIMEZONE
        if not _is_timezone(timezone):
            raise SettingsError(f"BOT_TIMEZONE 不是有效的时区:{timezone}"
                                f" / BOT_TIMEZONE is not a time zone: {timezone}")
        database_url = database_url_from(env)
        port = _int(env, "WEBHOOK_PORT", 8443)
        if not 1 <= port <= 65535:
            raise SettingsError("WEBHOOK_PORT 必须在 1-65535 之间 / WEBHOOK_PORT out of range")
        return cls(
            token=token,
            knowledge_dir=Path(env.get("BOT_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR),
            api_base_url=(env.get("TELEGRAM_API_BASE_URL") or "").rstrip("/") or None,
            webhook_url=webhook_url,
            webhook_listen=env.get("WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=port,
            webhook_secret=webhook_secret,
            admin_ids=frozenset(_ids(env.get("BOT_ADMIN_IDS", ""))),
            db_path=Path(env.get("BOT_DB_PATH") or DEFAULT_DB_PATH),
            timezone=timezone,
            database_url=database_url,
        )


def database_url_from(env: Mapping[str, str]) -> str | None:
    """BOT_DATABASE_URL, checked: only PostgreSQL URLs (SQLite is BOT_DB_PATH)."""
    url = (env.get("BOT_DATABASE_URL") or "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise SettingsError("BOT_DATABASE_URL 必须以 postgresql:// 开头(SQLite 请用 BOT_DB_PATH)"
                            " / BOT_DATABASE_URL must be a postgresql:// URL")
    return url


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingsError(f"{key} 必须是数字 / {key} must be a number")
    return int(raw)


def _ids(raw: str) -> list[int]:
    ids = []
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise SettingsError(f"BOT_ADMIN_IDS 含有非数字:{part} / BOT_ADMIN_IDS: not a number")
        ids.append(int(part))
    return ids
