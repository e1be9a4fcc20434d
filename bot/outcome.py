"""What a failed Bot API request says about delivery: every sender that must neither lose nor
repeat a message (the daily push, quiz polls, teach follow-ups) asks the same question."""

from __future__ import annotations

import httpx
from telegram.error import NetworkError, TelegramError

# httpx errors raised before a request was sent: nothing can have reached Telegram.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def outcome_unknown(error: TelegramError) -> bool:
    """Did the request leave without an answer coming back (so Telegram may have delivered
    it)? An error response has no httpx cause; a connection never made sent nothing."""
    cause = error.__cause__
    return (isinstance(error, NetworkError) and isinstance(cause, httpx.HTTPError)
            and not isinstance(cause, _NOT_SENT))
