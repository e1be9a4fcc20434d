"""Which quiz a poll is when its sendPoll got no answer (pure: no Telegram, no SQL).

A quiz is claimed before its poll is sent. When the request times out or the process is
killed mid-request, Telegram may have delivered the poll all the same, and the claim keeps no
poll id. Telegram reports each change of a poll the bot sent (a vote) as a `poll` update with
the poll's id, question and options but no chat; the claim is recognised by that text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# How many days before today (by study date) a claim may be recognised: members answer the
# day's quiz that day or the next, and Telegram keeps a bot's updates for a day while it is
# down. An older claim with the same text is more likely a poll that never arrived.
RECOGNISED_DAYS = 2


@dataclass(frozen=True)
class Claim:
    """A claimed quiz whose poll id is unknown, as its poll would show it."""

    quiz_id: int
    chat_id: int
    question: str
    options: tuple[str, ...]


def same_text(claim: Claim, question: str, options: Sequence[str]) -> bool:
    """Does a poll show this claim's question and options (Telegram trims the texts)?"""
    return (claim.question.strip() == question.strip()
            and tuple(o.strip() for o in claim.options) == tuple(o.strip() for o in options))


def recognised(claims: Sequence[Claim], voters_chats: Sequence[set[int]]) -> Claim | None:
    """The claim a poll is, among the claims with its text (newest first); None if unsure.

    Within one chat the newest claim is taken: a question comes round again only after every
    other one, so an older claim with the same text is most likely a poll that never arrived.
    Claims in several chats (a timeout hits every group's daily quiz at once, and groups may
    study the same passage) are told apart by the voters: `voters_chats` holds, for each
    member who answered the poll, those of the claims' chats they are known in. Members known
    in just one of them must all point to the same chat; otherwise the poll waits for more
    answers rather than award points in the wrong group.
    """
    chats = {claim.chat_id for claim in claims}
    if len(chats) > 1:
        chats = {next(iter(known)) for known in voters_chats if len(known) == 1}
    if len(chats) != 1:
        return None
    (chat_id,) = chats
    return next((claim for claim in claims if claim.chat_id == chat_id), None)
