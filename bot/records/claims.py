"""/myname and the roster: a roster name is claimed, not taken.

A member's /myname that is not on the group's roster is simply their name there. A roster
name linked to someone else is refused. A roster name no member holds yet is linked at once
when the roster's @username is the member's; otherwise it waits for one of the group's
admins to confirm the claim (a button in the group). Every outcome is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.records.report import current_roster
from bot.records.store import NameClaim, RosterEntry
from bot.stores import Stores

log = logging.getLogger(__name__)


class Claimed(StrEnum):
    OWN_NAME = "own name"  # not on the roster (or already theirs): their name now
    LINKED = "linked"      # the roster's @username is theirs: linked at once
    PENDING = "pending"    # waits for an admin's confirmation
    TAKEN = "taken"        # the roster name belongs to someone else: refused


@dataclass(frozen=True)
class ClaimResult:
    chat_id: int
    outcome: Claimed
    claim: NameClaim | None = None


def roster_entry(entries: list[RosterEntry], name: str) -> RosterEntry | None:
    return next((e for e in entries if e.name == name), None)


async def claim_name(stores: Stores, chat_id: int, user_id: int, username: str | None,
                     name: str) -> ClaimResult:
    """What the member's /myname does in one chat (see the module docstring)."""
    await current_roster(stores, chat_id)  # names matched by now are linked first
    entry = roster_entry(await stores.records.roster(chat_id), name)
    if entry is None or entry.user_id == user_id:
        await stores.members.set_own_name(chat_id, user_id, name)
        return ClaimResult(chat_id, Claimed.OWN_NAME)
    if entry.user_id is not None:
        log.warning("name claim refused: user %s asked for %r in chat %s, which is user %s's",
                    user_id, name, chat_id, entry.user_id)
        return ClaimResult(chat_id, Claimed.TAKEN)
    if entry.username and username and entry.username == username.lower():
        await stores.records.matched(chat_id, entry, user_id)
        await stores.members.set_roster_name(chat_id, user_id, entry.name)
        log.info("name claim: user %s is %r in chat %s by the roster's @username", user_id,
                 name, chat_id)
        return ClaimResult(chat_id, Claimed.LINKED)
    claim = await stores.records.claim_name(chat_id, name, user_id)
    log.info("name claim %s: user %s asks for %r in chat %s; waiting for an admin",
             claim.claim_id, user_id, name, chat_id)
    return ClaimResult(chat_id, Claimed.PENDING, claim)


async def decide_claim(stores: Stores, claim: NameClaim, confirmed: bool,
                       admin_id: int) -> bool:
    """An admin's confirmation or refusal; False if the claim was settled already or its
    name went to someone else meanwhile (then the claim stays as it was)."""
    entry = roster_entry(await stores.records.roster(claim.chat_id), claim.name)
    if confirmed and (entry is None or entry.user_id not in (None, claim.user_id)):
        log.warning("name claim %s not confirmed: %r is gone or someone else's", claim.claim_id,
                    claim.name)
        return False
    settled = await stores.records.settle_claim(claim, confirmed, admin_id, entry)
    if settled and confirmed:
        await stores.members.set_roster_name(claim.chat_id, claim.user_id, claim.name)
    log.info("name claim %s (%r for user %s in chat %s) %s by admin %s", claim.claim_id,
             claim.name, claim.user_id, claim.chat_id,
             ("confirmed" if confirmed else "refused") if settled else "already settled",
             admin_id)
    return settled
