"""A fake Telegram Bot API server for end-to-end tests and benchmarks of the bot.

The bot talks to Telegram only through python-telegram-bot (PTB). To exercise it end to end
without the network, and without mocking anything inside the bot, point a real PTB
``Application`` at this server::

    with FakeBotApi() as server:
        app = (
            Application.builder()
            .token("123456:TEST-token")
            .base_url(f"{server.url}/bot")
            .base_file_url(f"{server.url}/file/bot")
            .build()
        )

The bot then long-polls ``getUpdates`` and calls ``sendMessage`` and so on over real HTTP
(PTB's httpx layer). The test:

* feeds it updates with :meth:`FakeBotApi.push_update` and the update builders
  (:meth:`~FakeBotApi.text_message`, :meth:`~FakeBotApi.callback_query`, ...);
* checks what the bot did with :meth:`~FakeBotApi.calls`, :meth:`~FakeBotApi.wait_for` and
  :meth:`~FakeBotApi.sent_messages`.

The server is an aiohttp app on 127.0.0.1 (OS-assigned port). It runs in its own thread with its
own event loop, so it does not depend on the test's loop. That loop can be in debug mode, several
Applications can run one after another against one server, and tests can be sync or async. All
public methods are thread-safe.

Fidelity: responses have the shapes of the real Bot API (Message, User, Chat, ChatMember, File,
error objects). The server also enforces the Telegram rules that commonly break bots in
production: getUpdates ``offset`` confirmation and ``allowed_updates``, per-chat message ids,
``parse_mode=HTML`` validation, the 4096-character text limit, the 64-byte callback_data limit,
"message is not modified", errors for replying to, editing or deleting unknown messages or
answering unknown queries, and a basic group that became a supergroup (once a migration message
was pushed) refusing every call that names it with its new id. It does not model MarkdownV2
parsing (such text is kept verbatim), webhooks, or flood limits (inject those with
:meth:`FakeBotApi.fail_next`). Slow answers are injected with :meth:`FakeBotApi.delay_next`
(late, after the call was carried out) and :meth:`FakeBotApi.hold_next` (kept back until the
test releases it). Methods it does not implement answer 404, as Telegram does for unknown
methods.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import functools
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from operator import attrgetter, itemgetter
from typing import Any, NoReturn

from aiohttp import web

__all__ = ["ApiError", "Call", "FakeBotApi", "Hold", "UploadedFile"]

JSON = dict[str, Any]

DEFAULT_BOT_ID = 777000
DEFAULT_BOT_USERNAME = "lecture_test_bot"
DEFAULT_BOT_FIRST_NAME = "Lecture Test Bot"
DEFAULT_USER_ID = 424242  # sender of messages in groups when the test does not name one
DEFAULT_GROUP_TITLE = "Lecture Study Group"

# Limits of the real Bot API (https://core.telegram.org/bots/api).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPDATES_PER_CALL = 100
# sendPoll, as Telegram checks it (constants.PollLimit).
MAX_POLL_QUESTION_LENGTH = 300
MAX_POLL_OPTION_LENGTH = 100
MIN_POLL_OPTIONS, MAX_POLL_OPTIONS = 2, 10
MAX_POLL_EXPLANATION_LENGTH = 200

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)

# Update types Telegram withholds unless the bot asks for them in allowed_updates.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Keys under which an update carries a Message.
_MESSAGE_UPDATE_KEYS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
)

# PTB sends every parameter as a form field (telegram/request/_requestparameter.py,
# RequestParameter.json_value): str values verbatim, everything else json.dumps()-ed. So numbers,
# booleans and nested objects are recovered by JSON-decoding, but free-text parameters must be
# left alone: a user's text "42" or "[1]" is a string, not a number or a list.
_VERBATIM_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "data",
        "query",
        "title",
        "description",
        "short_description",
        "name",
        "url",
        "action",
        "emoji",
        "language_code",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "file_id",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
        "question",
        "explanation",
        "first_name",
        "last_name",
        "phone_number",
        "address",
        "custom_title",
        "document",
        "photo",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
    }
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
# A bot command at the start of a message, optionally addressed: /ask@lecture_test_bot
_LEADING_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")
# @username mentions; CJK characters are not username characters, so "问@bot" still mentions.
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z][A-Za-z0-9_]{4,31}(?![A-Za-z0-9_])")

# wait_for polls the record this often. A poll is a bisection plus a slice, so a short step
# costs nothing and keeps a benchmark's push -> wait -> push loop from idling.
_POLL_STEP = 0.001

_dumps = functools.partial(json.dumps, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request the server answered, e.g. ``Call("sendMessage", ...)``."""

    method: str  # as the client spelled it, e.g. "sendMessage"
    token: str  # the bot token from the URL; any token is accepted
    params: JSON  # decoded parameters (see _decode_value)
    time: float  # time.monotonic() when the request arrived
    response: JSON = field(default_factory=dict)  # the JSON body the server answered
    seq: int = 0  # position in the server's record; see FakeBotApi.mark()
    answered: float = 0.0  # time.monotonic() when the answer was ready (getUpdates: delivery)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful call (e.g. the Message dict of sendMessage)."""
        return self.response.get("result")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request, e.g. ``send_document(document=b"...")``."""

    filename: str | None
    content_type: str
    data: bytes = field(repr=False)


class Hold:
    """A response the server keeps back (see :meth:`FakeBotApi.hold_next`): the request has
    been carried out (a message is stored) but the client gets no answer until
    :meth:`release` (or the server stops)."""

    def __init__(self) -> None:
        self._arrived = threading.Event()
        self._released = threading.Event()

    def wait_arrived(self, timeout: float = 10.0) -> None:
        """Blocks until the held request has arrived and been carried out."""
        if not self._arrived.wait(timeout):
            raise AssertionError(f"no held request arrived within {timeout:g}s")

    @property
    def arrived(self) -> bool:
        return self._arrived.is_set()

    def release(self) -> None:
        self._released.set()


@dataclass(slots=True)
class _Lag:
    """A planned slow answer: ``seconds`` late, or held by ``hold``; for requests whose
    params match ``when``."""

    seconds: float
    hold: Hold | None
    when: Callable[[JSON], bool] | None


class ApiError(Exception):
    """An error answer in Telegram's shape; raised by method implementations."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True, slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)


# --------------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


def _utf16_len(text: str) -> int:
    """Telegram measures text and entity offsets in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def _decode_value(name: str, value: Any) -> Any:
    """Recover the JSON type of a form value (see _VERBATIM_PARAMS for why not all of them)."""
    if not isinstance(value, str) or name in _VERBATIM_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channelname"
    return value if decoded is None or isinstance(decoded, str) else decoded


async def _read_params(request: web.Request) -> JSON:
    """Parameters from the query string plus a JSON, urlencoded or multipart body."""
    raw: JSON = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad_request("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise _bad_request("the request body must be a JSON object")
            raw.update(body)
        else:
            # request.post() handles both application/x-www-form-urlencoded (what PTB sends
            # when there is no file) and multipart/form-data (when there is one).
            for name, value in (await request.post()).items():
                raw[name] = _uploaded(value) if isinstance(value, web.FileField) else value
    return {name: _decode_value(name, value) for name, value in raw.items()}


def _uploaded(part: web.FileField) -> UploadedFile:
    return UploadedFile(part.filename, part.content_type, part.file.read())


def _number_param(params: JSON, name: str, default: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_request(f"wrong parameter {name} in request")
    return value


def _int_param(params: JSON, name: str, default: int) -> int:
    return int(_number_param(params, name, default))


_update_id = itemgetter("update_id")


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _without_reply(message: JSON) -> JSON:
    """A message as nested in reply_to_message: Telegram nests replies only one level deep."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}


def _detect_entities(text: str) -> list[JSON]:
    """The entities Telegram's client-side parser adds to a typed message: a leading
    bot_command and @username mentions."""
    entities: list[JSON] = []
    search_from = 0
    command = _LEADING_COMMAND_RE.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command[0])})
        search_from = command.end()
    for mention in _MENTION_RE.finditer(text, search_from):
        offset = _utf16_len(text[: mention.start()])
        entities.append({"type": "mention", "offset": offset, "length": _utf16_len(mention[0])})
    return entities


def _check_inline_keyboard(keyboard: Any) -> None:
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in itertools.chain.from_iterable(keyboard):
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad_request('can\'t find field "text"')
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")


def _same_content(old: JSON, new: JSON) -> bool:
    keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
    return all(old.get(key) == new.get(key) for key in keys)


def _chat_member(user: JSON, status: str) -> JSON:
    """A ChatMember object with the fields PTB requires for each status."""
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        )
        member: JSON = {"status": status, "user": user, "can_be_edited": False}
        member.update({"is_anonymous": False, "can_promote_members": False})
        member.update(dict.fromkeys(rights, True))
        return member
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    if status in ("member", "left"):
        return {"status": status, "user": user}
    raise ValueError(f"unsupported chat member status {status!r}")


def _describe_call(call: Call) -> str:
    params = _dumps(call.params, default=repr)
    if len(params) > 160:
        params = params[:157] + "..."
    outcome = "ok" if call.ok else f"{call.response.get('error_code')} {call.response}"
    return f"  #{call.seq} {call.method} {params} -> {outcome}"


# --------------------------------------------------------------------------------------------
# parse_mode=HTML
# --------------------------------------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    """Plain text and entities of an HTML-formatted text, as Telegram computes them."""
    parser = _TelegramHtmlParser(source)
    parser.feed(source)
    parser.close()
    return parser.result()


class _TelegramHtmlParser(HTMLParser):
    """Telegram's HTML dialect: only a few tags, properly nested. Anything else is answered
    with Telegram's "can't parse entities" error, which a bot must never trigger."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self._source = source
        self._parts: list[str] = []
        self._length = 0  # UTF-16 length of the plain text so far
        self._open: list[tuple[str, int, JSON | None]] = []  # (tag, start offset, entity)
        self._entities: list[JSON] = []

    def result(self) -> tuple[str, list[JSON]]:
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._parts), entities

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += _utf16_len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append((tag, self._length, self._entity_for(tag, dict(attrs))))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            expected = f'expected "</{self._open[-1][0]}>", ' if self._open else ""
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, {expected}"
                f'found "</{tag}>"'
            )
        _, start, entity = self._open.pop()
        if entity is not None and self._length > start:  # Telegram drops empty entities
            self._entities.append({**entity, "offset": start, "length": self._length - start})

    def close(self) -> None:
        super().close()
        if self._open:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self._open[-1][0]}"')

    def _entity_for(self, tag: str, attrs: dict[str, str | None]) -> JSON | None:
        if tag == "a":
            href = attrs.get("href")
            return {"type": "text_link", "url": href} if href else None
        if tag == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        if tag == "span" and attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        if tag == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id") or ""}
        if tag == "code" and self._open and self._open[-1][0] == "pre":
            # <pre><code class="language-python"> is one pre entity with a language.
            language = (attrs.get("class") or "").removeprefix("language-")
            pre_entity = self._open[-1][2]
            if language and pre_entity is not None:
                pre_entity["language"] = language
            return None
        if tag not in _HTML_ENTITY_TYPES:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        return {"type": _HTML_ENTITY_TYPES[tag]}

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        lines = self._source.split("\n")[: line - 1]
        char_index = sum(len(text) + 1 for text in lines) + column
        return len(self._source[:char_index].encode())

    @staticmethod
    def _fail(detail: str) -> NoReturn:
        raise _bad_request(f"can't parse entities: {detail}")


# --------------------------------------------------------------------------------------------
# Recorded calls
# --------------------------------------------------------------------------------------------


class _CallLog:
    """Thread-safe record of answered calls, indexed by method so waiting stays cheap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: list[Call] = []
        self._by_method: defaultdict[str, list[Call]] = defaultdict(list)
        self._seq = 0  # never reset, so marks stay valid across clear()

    def record(self, method: str, token: str, params: JSON, arrived: float, body: JSON) -> Call:
        with self._lock:
            self._seq += 1
            call = Call(method, token, params, arrived, body, self._seq, time.monotonic())
            self._all.append(call)
            self._by_method[method.lower()].append(call)
        return call

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return list(self._all if method is None else self._by_method.get(method.lower(), []))

    def mark(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        with self._lock:
            self._all = []
            self._by_method = defaultdict(list)

    def calls_after(self, method: str, seq: int) -> list[Call]:
        """Calls of ``method`` recorded after ``seq``: a bisection plus a slice of new calls."""
        with self._lock:
            calls = self._by_method.get(method.lower())
            if not calls:
                return []
            return calls[bisect.bisect_right(calls, seq, key=attrgetter("seq")) :]

    def recent(self, count: int, skip_method: str | None = None) -> list[Call]:
        skip = skip_method.lower() if skip_method else None
        with self._lock:
            picked = []
            for call in reversed(self._all):
                if call.method.lower() != skip:
                    picked.append(call)
                    if len(picked) == count:
                        break
        return picked[::-1]


class _Waiter:
    """State of one wait_for: each poll examines only the calls recorded since the last poll."""

    def __init__(
        self,
        log: _CallLog,
        method: str,
        predicate: Callable[[Call], bool] | None,
        count: int,
        since: int,
    ):
        self._log = log
        self._method = method
        self._predicate = predicate
        self._count = count
        self._cursor = since
        self._matches: list[Call] = []

    def poll(self) -> list[Call] | None:
        fresh = self._log.calls_after(self._method, self._cursor)
        if fresh:
            self._cursor = fresh[-1].seq
            predicate = self._predicate
            self._matches.extend(c for c in fresh if predicate is None or predicate(c))
        return list(self._matches) if len(self._matches) >= self._count else None

    def timeout_error(self, timeout: float) -> AssertionError:
        # getUpdates polls would drown everything else in the dump.
        skip = None if self._method.lower() == "getupdates" else "getUpdates"
        recent = self._log.recent(20, skip_method=skip)
        lines = "\n".join(map(_describe_call, recent)) or "  (none)"
        what = self._method + ("" if self._predicate is None else " matching the predicate")
        return AssertionError(
            f"timed out after {timeout:g}s waiting for {self._count} {what} call(s); "
            f"found {len(self._matches)}. Recent calls"
            f"{'' if skip is None else ' (getUpdates omitted)'}:\n{lines}"
        )


# --------------------------------------------------------------------------------------------
# Pending updates
# --------------------------------------------------------------------------------------------


class _UpdateQueue:
    """Updates the bot has not confirmed yet, with Telegram's getUpdates semantics. Thread-safe.

    An update stays queued (and is delivered again) until a getUpdates call confirms it with an
    ``offset`` greater than its id, exactly like Telegram; so a restarted bot sees only what its
    predecessor did not confirm.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[JSON] = deque()  # sorted by update_id
        self._next_id = 1
        self._allowed: frozenset[str] | None = None  # None: Telegram's default selection

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def push(self, update: JSON) -> JSON:
        with self._lock:
            update_id = update.setdefault("update_id", self._next_id)
            self._next_id = max(self._next_id, update_id + 1)
            if not self._pending or self._pending[-1]["update_id"] < update_id:
                self._pending.append(update)  # the usual case, O(1)
            else:  # explicit ids pushed out of order: keep the queue sorted
                index = bisect.bisect_right(self._pending, update_id, key=_update_id)
                self._pending.insert(index, update)
        return update

    def take(self, offset: int, limit: int, allowed_updates: list[str] | None) -> list[JSON]:
        """Confirm updates below ``offset``, then return up to ``limit`` deliverable ones."""
        with self._lock:
            self._confirm(offset)
            if allowed_updates is not None:
                # Telegram remembers the setting for later calls; an empty list resets it.
                self._allowed = frozenset(allowed_updates) or None
            deliverable = (u for u in self._pending if self._is_allowed(u))
            return list(itertools.islice(deliverable, limit))

    def drop_all(self) -> None:
        with self._lock:
            self._pending.clear()

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:  # "-N": keep only the last N updates
            while len(pending) > -offset:
                pending.popleft()
        else:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()

    def _is_allowed(self, update: JSON) -> bool:
        kind = _update_type(update)
        if self._allowed is None:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in self._allowed


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeBotApi:
    """A local Telegram Bot API server for tests. See the module docstring.

    Public state a test may set: ``chat_admins[chat_id] = [user_id, ...]`` (answers
    getChatAdministrators and getChatMember), ``usernames[user_id] = "name"`` (the @username
    of the users the update builders make), ``group_titles[chat_id]`` (a new group's title),
    ``member_counts[chat_id]`` (answers getChatMemberCount; by default the bot plus every
    user seen in the chat), ``outsiders[chat_id] = {user_id, ...}`` (getChatMember says
    "left": not in that group; everyone else is a member) and ``long_poll_cap`` (seconds).
    """

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_FIRST_NAME,
        long_poll_cap: float = 1.0,
    ):
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        # getUpdates waits at most this long, whatever timeout the bot asks for: fast tests.
        self.long_poll_cap = long_poll_cap
        self.chat_admins: dict[int, list[int]] = {}
        self.usernames: dict[int, str] = {}
        self.group_titles: dict[int, str] = {}
        self.member_counts: dict[int, int] = {}
        self.outsiders: dict[int, set[int]] = {}
        self._chat_users: defaultdict[int, set[int]] = defaultdict(set)

        self._log = _CallLog()
        self._updates = _UpdateQueue()
        # Guards everything below; method implementations run under it.
        self._lock = threading.RLock()
        self._messages: dict[tuple[int, int], JSON] = {}  # (chat_id, message_id) -> Message
        self._last_message_id: defaultdict[int, int] = defaultdict(int)  # per chat
        self._sent: list[JSON] = []
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, bytes] = {}
        self._open_queries: set[str] = set()  # callback and inline query ids not yet answered
        self._polls: dict[str, JSON] = {}  # poll id -> the Poll as last sent
        self._migrated: dict[int, int] = {}  # a basic group's id -> its supergroup's
        self._votes: defaultdict[str, dict[int, list[int]]] = defaultdict(dict)  # poll -> user
        self._failures: defaultdict[
            str, deque[tuple[ApiError, Callable[[JSON], bool] | None]]
        ] = defaultdict(deque)
        self._lags: defaultdict[str, deque[_Lag]] = defaultdict(deque)
        self._settings: dict[str, Any] = {}  # commands, descriptions
        self._ids = itertools.count(1)

        self._methods: dict[str, Callable[[JSON], Any]] = {
            name.lower(): implementation for name, implementation in self._method_table()
        }

        # Server thread state; _loop and the events belong to the server thread.
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._updates_changed: asyncio.Event | None = None
        self._closing = False
        self._port: int | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; only while running."""
        if self._port is None:
            raise RuntimeError("FakeBotApi is not running; call start() first")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeBotApi:
        """Start serving in a background thread; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("FakeBotApi is already running")
        # Binding here, not in the thread, gives us the port without racing the thread.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        started = threading.Event()
        errors: list[BaseException] = []
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, args=(sock, started, errors), name=f"FakeBotApi-{port}", daemon=True
        )
        self._thread.start()
        started.wait()
        if errors:
            self._thread.join()
            self._thread = None
            raise RuntimeError("FakeBotApi failed to start") from errors[0]
        self._port = port
        return self

    def stop(self) -> None:
        """Stop the server and join its thread. Recorded calls and state are kept."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended on its own
                loop.call_soon_threadsafe(self._begin_shutdown)
        thread.join(timeout=10)
        if thread.is_alive():
            raise RuntimeError("FakeBotApi thread did not stop within 10 s")
        self._thread = self._loop = None
        self._port = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, sock: socket.socket, started: threading.Event, errors: list) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(sock, started))
        except BaseException as exc:  # surface startup failures in start()
            errors.append(exc)
        finally:
            started.set()
            sock.close()
            loop.close()

    async def _serve(self, sock: socket.socket, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._updates_changed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            started.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def _begin_shutdown(self) -> None:
        """Runs on the server loop: release long polls at once, then stop serving."""
        self._closing = True
        assert self._updates_changed is not None and self._stopping is not None
        self._updates_changed.set()
        self._stopping.set()

    # ---------------------------------------------------------------- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method, token = request.match_info["method"], request.match_info["token"]
        try:
            params = await _read_params(request)
        except ApiError as error:
            params, body = {}, error.body()
        except ValueError as exc:  # e.g. a malformed multipart body
            params, body = {}, _bad_request(f"can't parse the request: {exc}").body()
        else:
            body = await self._answer(method, params)
        # Recorded only once answered, so a test that sees the call also sees its effects
        # (sent_messages, the stored message, ...).
        self._log.record(method, token, params, arrived, body)
        status = 200 if body["ok"] else body["error_code"]
        return web.json_response(body, status=status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        with self._lock:
            data = self._file_paths.get(request.match_info["file_path"])
        if data is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _answer(self, method: str, params: JSON) -> JSON:
        try:
            self._raise_injected_failure(method, params)
            self._refuse_migrated_chat(params)
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self._call_method(method, params)
                await self._lag(method, params)
        except ApiError as error:
            return error.body()
        except Exception as exc:  # a bug in this fake: show it in the test, not as a hang
            return ApiError(500, f"Internal Server Error: FakeBotApi failed: {exc!r}").body()
        return {"ok": True, "result": result}

    def _call_method(self, method: str, params: JSON) -> Any:
        implementation = self._methods.get(method.lower())
        if implementation is None:
            raise ApiError(404, "Not Found: method not found")
        with self._lock:
            return implementation(params)

    def _raise_injected_failure(self, method: str, params: JSON) -> None:
        with self._lock:
            queue = self._failures.get(method.lower())
            for planned in queue or ():
                error, when = planned
                if when is None or when(params):
                    queue.remove(planned)
                    raise error

    def _refuse_migrated_chat(self, params: JSON) -> None:
        """A basic group that became a supergroup exists no more: Telegram names the new id."""
        chat_id = params.get("chat_id")
        with self._lock:
            new_chat_id = self._migrated.get(chat_id) if isinstance(chat_id, int) else None
        if new_chat_id is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": new_chat_id})

    async def _lag(self, method: str, params: JSON) -> None:
        """Delays or holds the answer of a request that was already carried out."""
        with self._lock:
            queue = self._lags.get(method.lower())
            lag = next((lag for lag in queue or () if lag.when is None or lag.when(params)),
                       None)
            if lag is None:
                return
            queue.remove(lag)
        if lag.hold is None:
            await asyncio.sleep(lag.seconds)
            return
        lag.hold._arrived.set()
        while not lag.hold._released.is_set() and not self._closing:
            await asyncio.sleep(_POLL_STEP * 10)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        assert self._loop is not None and self._updates_changed is not None
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", MAX_UPDATES_PER_CALL), 1), MAX_UPDATES_PER_CALL)
        timeout = min(max(_number_param(params, "timeout", 0), 0), self.long_poll_cap)
        allowed = params.get("allowed_updates")
        deadline = self._loop.time() + timeout
        while True:
            # Clear before looking: a push after this point sets the event again (on this
            # loop, via call_soon_threadsafe), so no wake-up can be lost.
            self._updates_changed.clear()
            batch = self._updates.take(offset, limit, allowed)
            remaining = deadline - self._loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_changed.wait(), remaining)

    def _wake_pollers(self) -> None:
        loop, event = self._loop, self._updates_changed
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed concurrently (stop)
                loop.call_soon_threadsafe(event.set)

    # ---------------------------------------------------------------- test API: inspection

    def calls(self, method: str | None = None) -> list[Call]:
        """Answered calls in order, optionally of one method (case-insensitive)."""
        return self._log.calls(method)

    def mark(self) -> int:
        """A position in the record; pass it as ``since`` to wait only for later calls."""
        return self._log.mark()

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> list[Call]:
        """Wait until ``count`` calls of ``method`` (after ``since``) match ``predicate``;
        return all matching calls. Raises AssertionError listing recent calls on timeout."""
        waiter = _Waiter(self._log, method, predicate, count, since)
        deadline = time.monotonic() + timeout
        while (found := waiter.poll()) is None:
            if time.monotonic() >= deadline:
                raise waiter.timeout_error(timeout)
            await asyncio.sleep(_POLL_STEP)
        return found

    def wait_for_sync(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> list[Call]:
        """Blocking :meth:`wait_for`, for sync code (never call it on a running event loop)."""
        waiter = _Waiter(self._log, method, predicate, count, since)
        deadline = time.monotonic() + timeout
        while (found := waiter.poll()) is None:
            if time.monotonic() >= deadline:
                raise waiter.timeout_error(timeout)
            time.sleep(_POLL_STEP)
        return found

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages the server returned for sendMessage (and sendDocument/sendPhoto), as sent."""
        with self._lock:
            sent = [m for m in self._sent if chat_id is None or m["chat"]["id"] == chat_id]
            return copy.deepcopy(sent)

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The current version of a message (after edits), or None if unknown or deleted."""
        with self._lock:
            return copy.deepcopy(self._messages.get((chat_id, message_id)))

    def pending_updates(self) -> int:
        """How many pushed updates the bot has not confirmed yet."""
        return len(self._updates)

    def clear(self) -> None:
        """Forget recorded calls and sent messages (chats, messages and queues are kept)."""
        self._log.clear()
        with self._lock:
            self._sent = []

    # ---------------------------------------------------------------- test API: setup

    def push_update(self, update: JSON) -> JSON:
        """Queue an update for getUpdates; assigns ``update_id`` if missing. Returns it."""
        with self._lock:
            self._learn_update(update)
        self._updates.push(update)
        self._wake_pollers()
        return update

    def webhook_update(self, update: JSON) -> JSON:
        """An update Telegram posts to a webhook instead: learned like a queued one (its
        message can be replied to), not queued for getUpdates. Returns it."""
        with self._lock:
            self._learn_update(update)
        return update

    def add_file(self, file_id: str, data: bytes, file_path: str | None = None) -> str:
        """Make ``file_id`` downloadable via getFile + file URL. Returns its file_path."""
        with self._lock:
            path = file_path or f"documents/file_{next(self._ids)}"
            stored = _StoredFile(file_id, f"fu{next(self._ids)}", path, bytes(data))
            self._files[file_id] = stored
            self._file_paths[path] = stored.data
            return path

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        *,
        migrate_to_chat_id: int | None = None,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (whose params match ``when``, if
        given) fail with a Telegram error."""
        if error_code == 429 and retry_after is None:
            retry_after = 1  # Telegram always says how long to wait; PTB relies on it
        parameters: JSON = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        description = description or _default_error_description(error_code, parameters)
        error = ApiError(error_code, description, parameters or None)
        with self._lock:
            self._failures[method.lower()].extend([(error, when)] * times)

    def clear_failures(self) -> None:
        """Forget the failures fail_next planned that have not happened yet."""
        with self._lock:
            self._failures.clear()

    def delay_next(
        self,
        method: str,
        seconds: float,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Answer the next call of ``method`` (whose params match ``when``) ``seconds`` late.

        The call is carried out at once (a sent message is stored, as Telegram delivers it),
        only its answer is late: longer than the client's read timeout, it is the "timed out
        although delivered" case."""
        with self._lock:
            self._lags[method.lower()].append(_Lag(seconds, None, when))

    def hold_next(self, method: str, when: Callable[[JSON], bool] | None = None) -> Hold:
        """Carry out the next call of ``method`` (matching ``when``) but hold its answer
        until the returned :class:`Hold` is released: a request in flight, e.g. while the
        client process is killed."""
        hold = Hold()
        with self._lock:
            self._lags[method.lower()].append(_Lag(0.0, hold, when))
        return hold

    # ---------------------------------------------------------------- test API: update builders
    # Builders return update dicts without update_id (push_update assigns it, so updates are
    # numbered in the order they are pushed); message ids are allocated per chat, shared with
    # the messages the bot sends, as in Telegram.

    def text_message(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Tester",
        reply_to: JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A ``message`` update. ``entities=None`` detects a leading /command and @mentions."""
        content: JSON = {}
        if reply_to is not None:
            content["reply_to_message"] = _without_reply(reply_to)
        content["text"] = text
        found = _detect_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        return {"message": self._user_message(chat_id, user_id, chat_type, first_name, content)}

    def sticker_message(
        self,
        chat_id: int,
        user_id: int | None = None,
        emoji: str = "👍",
        chat_type: str | None = None,
        first_name: str = "Tester",
    ) -> JSON:
        sticker = {
            "file_id": f"sticker-{next(self._ids)}",
            "file_unique_id": f"su{next(self._ids)}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "TestStickers",
            "file_size": 20480,
        }
        content = {"sticker": sticker}
        return {"message": self._user_message(chat_id, user_id, chat_type, first_name, content)}

    def photo_message(
        self,
        chat_id: int,
        user_id: int | None = None,
        caption: str | None = None,
        file_id: str | None = None,
        data: bytes | None = None,
        chat_type: str | None = None,
        first_name: str = "Tester",
    ) -> JSON:
        """A photo (two sizes, like Telegram). With ``data``, the largest size downloads it."""
        file_id = file_id or f"photo-{next(self._ids)}"
        if data is not None:
            self.add_file(file_id, data, f"photos/{file_id}.jpg")
        unique = f"pu{next(self._ids)}"
        sizes = [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": f"{unique}s",
                "width": 90,
                "height": 67,
                "file_size": 1200,
            },
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": 1280,
                "height": 960,
                "file_size": len(data) if data is not None else 98304,
            },
        ]
        content: JSON = {"photo": sizes}
        self._add_caption(content, caption)
        return {"message": self._user_message(chat_id, user_id, chat_type, first_name, content)}

    def document_message(
        self,
        chat_id: int,
        user_id: int | None = None,
        file_id: str | None = None,
        file_name: str = "lecture.txt",
        mime_type: str = "text/plain",
        file_size: int | None = None,
        caption: str | None = None,
        data: bytes | None = None,
        chat_type: str | None = None,
        first_name: str = "Tester",
    ) -> JSON:
        """A document. With ``data`` the file is registered (see add_file) for download."""
        file_id = file_id or f"document-{next(self._ids)}"
        if data is not None:
            self.add_file(file_id, data, f"documents/{file_name}")
            file_size = len(data) if file_size is None else file_size
        document = {
            "file_id": file_id,
            "file_unique_id": f"du{next(self._ids)}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 1024 if file_size is None else file_size,
        }
        content: JSON = {"document": document}
        self._add_caption(content, caption)
        return {"message": self._user_message(chat_id, user_id, chat_type, first_name, content)}

    def callback_query(
        self,
        chat_id: int,
        user_id: int,
        message: JSON | int,
        data: str,
        first_name: str = "Tester",
    ) -> JSON:
        """A button press on ``message`` (a message dict, e.g. from sent_messages(), or a
        message id in ``chat_id``); carries the message's current version, like Telegram."""
        with self._lock:
            current = self._resolve_message(chat_id, message)
            query = {
                "id": str(4_000_000_000_000_000 + next(self._ids)),
                "from": self._user(user_id, first_name),
                "message": current,
                "chat_instance": str(-8_000_000_000_000 - abs(chat_id)),
                "data": data,
            }
        return {"callback_query": query}

    def inline_query(
        self,
        user_id: int,
        query: str,
        offset: str = "",
        chat_type: str = "sender",
        first_name: str = "Tester",
    ) -> JSON:
        inline = {
            "id": str(5_000_000_000_000_000 + next(self._ids)),
            "from": self._user(user_id, first_name),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        return {"inline_query": inline}

    def edited_message(self, chat_id: int, message: JSON | int, text: str) -> JSON:
        """An ``edited_message`` update: the user changed ``message``'s text to ``text``."""
        with self._lock:
            original = self._resolve_message(chat_id, message)
        edited = {k: v for k, v in original.items() if k not in ("text", "entities")}
        edited["edit_date"] = max(_now(), original["date"])
        edited["text"] = text
        entities = _detect_entities(text)
        if entities:
            edited["entities"] = entities
        return {"edited_message": edited}

    def my_chat_member(
        self,
        chat_id: int,
        user_id: int,
        new_status: str = "member",
        old_status: str = "left",
        chat_type: str | None = None,
        first_name: str = "Tester",
    ) -> JSON:
        """The bot's own membership changed (added to a group, blocked, promoted, ...)."""
        with self._lock:
            user = self._user(user_id, first_name)
            chat = self._chat_for(chat_id, chat_type, user)
        bot = self._bot_user()
        change = {
            "chat": chat,
            "from": user,
            "date": _now(),
            "old_chat_member": _chat_member(bot, old_status),
            "new_chat_member": _chat_member(bot, new_status),
        }
        return {"my_chat_member": change}

    def migration_message(
        self,
        chat_id: int,
        new_chat_id: int,
        user_id: int | None = None,
        first_name: str = "Tester",
    ) -> JSON:
        """The service message a basic group gets when it becomes supergroup ``new_chat_id``."""
        content = {"migrate_to_chat_id": new_chat_id}
        return {"message": self._user_message(chat_id, user_id, "group", first_name, content)}

    def migrated_from_message(
        self,
        chat_id: int,
        old_chat_id: int,
        user_id: int | None = None,
        first_name: str = "Tester",
    ) -> JSON:
        """The service message supergroup ``chat_id`` gets when basic group ``old_chat_id``
        becomes it; Telegram sends it besides the old group's :meth:`migration_message`."""
        content = {"migrate_from_chat_id": old_chat_id}
        return {"message": self._user_message(chat_id, user_id, "supergroup", first_name,
                                              content)}

    def poll_answer(
        self,
        poll_id: str,
        user_id: int,
        option_ids: list[int],
        first_name: str = "Tester",
    ) -> JSON:
        """A member's answer to a poll the bot sent (``[]`` takes a vote back). Like Telegram,
        only non-anonymous polls report answers, and the update carries no chat."""
        with self._lock:
            poll = self._polls.get(poll_id)
            if poll is None:
                raise ValueError(f"no poll {poll_id} was sent")
            if poll["is_anonymous"]:
                raise ValueError("Telegram sends no poll_answer for an anonymous poll")
            user = self._user(user_id, first_name)
            persistent = [poll["options"][i]["persistent_id"] for i in option_ids]
        answer = {
            "poll_id": poll_id,
            "user": user,
            "option_ids": option_ids,
            "option_persistent_ids": persistent,
        }
        return {"poll_answer": answer}

    def poll_state(self, poll_id: str) -> JSON:
        """The ``poll`` update Telegram sends the bot when a poll it sent changes (a vote, a
        stop): the poll as it stands, counting the answers pushed so far. It carries no chat."""
        with self._lock:
            poll = self._polls.get(poll_id)
            if poll is None:
                raise ValueError(f"no poll {poll_id} was sent")
            return {"poll": copy.deepcopy(poll)}

    # ---------------------------------------------------------------- builder helpers

    def _user_message(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str | None,
        first_name: str,
        content: JSON,
    ) -> JSON:
        if user_id is None:  # in a private chat the sender is the chat
            user_id = chat_id if chat_id > 0 else DEFAULT_USER_ID
        with self._lock:
            user = self._user(user_id, first_name)
            return {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": self._chat_for(chat_id, chat_type, user),
                "date": _now(),
                **content,
            }

    @staticmethod
    def _add_caption(content: JSON, caption: str | None) -> None:
        if caption is None:
            return
        content["caption"] = caption
        entities = _detect_entities(caption)
        if entities:
            content["caption_entities"] = entities

    def _user(self, user_id: int, first_name: str) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if user_id in self.usernames:
            user["username"] = self.usernames[user_id]
        return user

    def _chat_for(self, chat_id: int, chat_type: str | None, user: JSON) -> JSON:
        known = self._chats.get(chat_id)
        if chat_type is None and known is not None:
            return dict(known)
        chat_type = chat_type or ("supergroup" if chat_id < 0 else "private")
        if chat_type == "private":
            return {"id": chat_id, "type": chat_type, "first_name": user["first_name"]}
        title = known.get("title", DEFAULT_GROUP_TITLE) if known \
            else self.group_titles.get(chat_id, DEFAULT_GROUP_TITLE)
        return {"id": chat_id, "type": chat_type, "title": title}

    def _resolve_message(self, chat_id: int, message: JSON | int) -> JSON:
        if isinstance(message, int):
            stored = self._messages.get((chat_id, message))
            if stored is None:
                raise ValueError(f"no message {message} in chat {chat_id}")
            return copy.deepcopy(stored)
        stored = self._messages.get((message["chat"]["id"], message["message_id"]))
        return copy.deepcopy(stored if stored is not None else message)

    # ---------------------------------------------------------------- server-side state

    def _learn_update(self, update: JSON) -> None:
        """Remember what an update tells Telegram: messages, chats, users, open query ids."""
        for key in _MESSAGE_UPDATE_KEYS:
            if key in update:
                self._learn_message(update[key], overwrite=True)
                self._learn_migration(update[key])
        for key in ("callback_query", "inline_query"):
            query = update.get(key)
            if query:
                self._open_queries.add(str(query["id"]))
                self._users.setdefault(query["from"]["id"], query["from"])
        answer = update.get("poll_answer")
        if answer and answer.get("user"):
            self._users.setdefault(answer["user"]["id"], answer["user"])
            self._count_vote(answer["poll_id"], answer["user"]["id"], answer["option_ids"])
        for key in ("my_chat_member", "chat_member"):
            if key in update:
                chat = update[key]["chat"]
                self._chats[chat["id"]] = dict(chat)
        # A callback's message may be a stale copy; it must not undo the bot's later edits.
        callback_message = update.get("callback_query", {}).get("message")
        if callback_message:
            self._learn_message(callback_message, overwrite=False)

    def _count_vote(self, poll_id: str, user_id: int, option_ids: list[int]) -> None:
        """A member's vote (``[]`` takes it back) changes the poll's counts, as in Telegram."""
        poll = self._polls.get(poll_id)
        if poll is None:
            return
        votes = self._votes[poll_id]
        votes[user_id] = option_ids
        chosen = [ids for ids in votes.values() if ids]
        options = [{**option, "voter_count": sum(index in ids for ids in chosen)}
                   for index, option in enumerate(poll["options"])]
        # A new object: the sent message and the call log keep the poll as it was sent.
        self._polls[poll_id] = {**poll, "options": options, "total_voter_count": len(chosen)}

    def _learn_message(self, message: JSON, overwrite: bool) -> None:
        chat = message["chat"]
        key = (chat["id"], message["message_id"])
        if overwrite or key not in self._messages:
            self._messages[key] = copy.deepcopy(message)
        self._chats[chat["id"]] = dict(chat)
        if "from" in message:
            self._users[message["from"]["id"]] = dict(message["from"])
            self._chat_users[chat["id"]].add(message["from"]["id"])
        self._last_message_id[chat["id"]] = max(
            self._last_message_id[chat["id"]], message["message_id"]
        )

    def _learn_migration(self, message: JSON) -> None:
        chat_id = message["chat"]["id"]
        if "migrate_to_chat_id" in message:
            self._migrated[chat_id] = message["migrate_to_chat_id"]
        if "migrate_from_chat_id" in message:
            self._migrated[message["migrate_from_chat_id"]] = chat_id

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] += 1
        return self._last_message_id[chat_id]

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _chat(self, chat_id: int) -> JSON:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        user = self._users.get(chat_id) or {"first_name": "User"}
        return self._chat_for(chat_id, None, user)

    def _member(self, chat_id: int, user_id: int) -> JSON:
        user = self._users.get(user_id)
        if user is None:
            user = self._bot_user() if user_id == self.bot_id else self._user(user_id, "User")
        admins = self.chat_admins.get(chat_id, ())
        if user_id in self.outsiders.get(chat_id, ()):
            return _chat_member(user, "left")
        return _chat_member(user, "administrator" if user_id in admins else "member")

    # ---------------------------------------------------------------- Bot API methods
    # Each takes the decoded params and returns the "result"; errors raise ApiError. They run
    # under self._lock on the server thread.

    def _method_table(self) -> Iterable[tuple[str, Callable[[JSON], Any]]]:
        always_true = self._api_true
        return [
            ("getMe", self._api_get_me),
            ("logOut", always_true),
            ("close", always_true),
            ("setWebhook", self._api_set_webhook),
            ("deleteWebhook", self._api_set_webhook),
            ("sendMessage", self._api_send_message),
            ("sendDocument", functools.partial(self._api_send_media, "document")),
            ("sendPhoto", functools.partial(self._api_send_media, "photo")),
            ("sendPoll", self._api_send_poll),
            ("stopPoll", self._api_stop_poll),
            ("editMessageText", self._api_edit_message_text),
            ("editMessageReplyMarkup", self._api_edit_message_reply_markup),
            ("deleteMessage", self._api_delete_message),
            ("deleteMessages", self._api_delete_messages),
            ("answerCallbackQuery", self._api_answer_callback_query),
            ("answerInlineQuery", self._api_answer_inline_query),
            ("sendChatAction", self._api_send_chat_action),
            ("setMessageReaction", always_true),
            ("setMyCommands", self._api_set_my_commands),
            ("getMyCommands", self._api_get_my_commands),
            ("deleteMyCommands", self._api_delete_my_commands),
            ("setMyDescription", functools.partial(self._api_set_text, "description", 512)),
            ("getMyDescription", functools.partial(self._api_get_text, "description")),
            (
                "setMyShortDescription",
                functools.partial(self._api_set_text, "short_description", 120),
            ),
            ("getMyShortDescription", functools.partial(self._api_get_text, "short_description")),
            ("getChat", self._api_get_chat),
            ("getChatAdministrators", self._api_get_chat_administrators),
            ("getChatMember", self._api_get_chat_member),
            ("getChatMemberCount", self._api_get_chat_member_count),
            ("leaveChat", always_true),
            ("getFile", self._api_get_file),
        ]

    def _api_true(self, params: JSON) -> bool:
        return True

    def _api_get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_set_webhook(self, params: JSON) -> bool:
        # Like Telegram: start_polling(drop_pending_updates=True) discards what was queued,
        # including updates a test pushed before starting the bot.
        if params.get("drop_pending_updates"):
            self._updates.drop_all()
        return True

    def _api_send_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        message = self._new_bot_message(chat_id, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        self._attach_reply_markup(message, params)
        return self._remember_sent(message)

    def _api_send_media(self, kind: str, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        media = self._media_object(kind, params.get(kind))
        message = self._new_bot_message(chat_id, params)
        message[kind] = media
        if params.get("caption") is not None:
            caption, entities = self._formatted(
                params, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
            )
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        self._attach_reply_markup(message, params)
        return self._remember_sent(message)

    def _api_send_poll(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        poll = self._new_poll(params)
        message = self._new_bot_message(chat_id, params)
        message["poll"] = poll
        self._attach_reply_markup(message, params)
        self._polls[poll["id"]] = poll
        return self._remember_sent(message)

    def _new_poll(self, params: JSON) -> JSON:
        """The Poll object of a sendPoll, after Telegram's checks."""
        question = str(params.get("question") or "")
        if not 1 <= _utf16_len(question) <= MAX_POLL_QUESTION_LENGTH:
            raise _bad_request("POLL_QUESTION_INVALID")
        options = params.get("options")
        if not isinstance(options, list) or not (
            MIN_POLL_OPTIONS <= len(options) <= MAX_POLL_OPTIONS
        ):
            raise _bad_request("POLL_OPTIONS_INVALID" if options else "poll must have options")
        texts = [str(o.get("text", "")) if isinstance(o, dict) else str(o) for o in options]
        if any(not 1 <= _utf16_len(t) <= MAX_POLL_OPTION_LENGTH for t in texts):
            raise _bad_request("POLL_OPTION_INVALID")
        if len(set(texts)) != len(texts):
            raise _bad_request("POLL_OPTION_DUPLICATE")
        kind = params.get("type") or "regular"
        if kind not in ("regular", "quiz"):
            raise _bad_request("wrong poll type specified")
        poll: JSON = {
            "id": str(6_000_000_000_000_000 + next(self._ids)),
            "question": question,
            # Bot API 9.6: every option has an id that stays when options are added.
            "options": [
                {"text": t, "voter_count": 0, "persistent_id": str(i)} for i, t in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": bool(params.get("is_closed", False)),
            "is_anonymous": bool(params.get("is_anonymous", True)),
            "type": kind,
            "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
            # Bot API 9.6: a quiz's answer cannot be changed unless the bot allows it.
            "allows_revoting": bool(params.get("allows_revoting", kind != "quiz")),
            "members_only": bool(params.get("members_only", False)),
        }
        if kind == "quiz":
            poll["correct_option_ids"] = self._correct_options(params, len(texts))
            explanation = params.get("explanation")
            if explanation is not None:
                if _utf16_len(str(explanation)) > MAX_POLL_EXPLANATION_LENGTH:
                    raise _bad_request("message is too long")
                poll["explanation"] = str(explanation)
        return poll

    @staticmethod
    def _correct_options(params: JSON, count: int) -> list[int]:
        """Bot API 9.6's correct_option_ids, or the single correct_option_id before it."""
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [params["correct_option_id"]]
        if (
            not isinstance(correct, list)
            or not correct
            or len(set(correct)) != len(correct)
            or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < count
                   for i in correct)
        ):
            raise _bad_request("wrong correct option ID specified")
        return sorted(correct)

    def _api_stop_poll(self, params: JSON) -> JSON:
        message = self._editable_message(params)
        poll = message.get("poll")
        if poll is None:
            raise _bad_request("message with poll to stop not found")
        if poll["is_closed"]:
            raise _bad_request("poll has already been closed")
        closed = {**poll, "is_closed": True}
        self._messages[(message["chat"]["id"], message["message_id"])] = {**message, "poll": closed}
        self._polls[poll["id"]] = closed
        return closed

    def _api_edit_message_text(self, params: JSON) -> JSON | bool:
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        if params.get("inline_message_id"):
            return True  # messages sent via inline mode are not tracked
        old = self._editable_message(params)
        edited = {k: v for k, v in old.items() if k not in ("text", "entities", "reply_markup")}
        edited["text"] = text
        if entities:
            edited["entities"] = entities
        return self._store_edit(old, edited, params)

    def _api_edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        old = self._editable_message(params)
        edited = {k: v for k, v in old.items() if k != "reply_markup"}
        return self._store_edit(old, edited, params)

    def _api_delete_message(self, params: JSON) -> bool:
        key = (self._chat_id(params), _int_param(params, "message_id", 0))
        if self._messages.pop(key, None) is None:
            raise _bad_request("message to delete not found")
        return True

    def _api_delete_messages(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        for message_id in params.get("message_ids") or []:
            self._messages.pop((chat_id, message_id), None)
        return True

    def _api_answer_callback_query(self, params: JSON) -> bool:
        self._close_query(params.get("callback_query_id"))
        return True

    def _api_answer_inline_query(self, params: JSON) -> bool:
        self._close_query(params.get("inline_query_id"))
        results = params.get("results") or []
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad_request("RESULTS_TOO_MUCH")
        ids = [result.get("id") for result in results]
        if len(set(ids)) != len(ids):
            raise _bad_request("RESULT_ID_DUPLICATE")
        return True

    def _api_send_chat_action(self, params: JSON) -> bool:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _api_set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH" if commands else "commands is empty")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._settings[self._commands_key(params)] = commands
        return True

    def _api_get_my_commands(self, params: JSON) -> list[JSON]:
        return self._settings.get(self._commands_key(params), [])

    def _api_delete_my_commands(self, params: JSON) -> bool:
        self._settings.pop(self._commands_key(params), None)
        return True

    def _api_set_text(self, name: str, max_length: int, params: JSON) -> bool:
        value = params.get(name) or ""
        if len(value) > max_length:
            raise _bad_request(f"{name.upper()}_INVALID")
        self._settings[f"{name}|{params.get('language_code', '')}"] = value
        return True

    def _api_get_text(self, name: str, params: JSON) -> JSON:
        return {name: self._settings.get(f"{name}|{params.get('language_code', '')}", "")}

    def _api_get_chat(self, params: JSON) -> JSON:
        chat = self._chat(self._chat_id(params))
        gift_types = (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        )
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gift_types, True),
        }

    def _api_get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat_id = self._chat_id(params)
        if self._chat(chat_id)["type"] == "private":
            raise _bad_request("there are no administrators in the private chat")
        return [self._member(chat_id, user_id) for user_id in self.chat_admins.get(chat_id, [])]

    def _api_get_chat_member(self, params: JSON) -> JSON:
        return self._member(self._chat_id(params), _int_param(params, "user_id", 0))

    def _api_get_chat_member_count(self, params: JSON) -> int:
        chat_id = self._chat_id(params)
        if self._chat(chat_id)["type"] == "private":
            return 2  # the user and the bot, as Telegram answers
        seen = self._chat_users[chat_id] - {self.bot_id}
        return self.member_counts.get(chat_id, len(seen) + 1)

    def _api_get_file(self, params: JSON) -> JSON:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ---------------------------------------------------------------- method helpers

    @staticmethod
    def _chat_id(params: JSON) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("chat not found")  # e.g. "@username": not modelled
        return chat_id

    @staticmethod
    def _formatted(
        params: JSON, name: str, entities_name: str, max_length: int, required: bool = True
    ) -> tuple[str, list[JSON]]:
        """Text and entities after parse_mode, checked like Telegram checks them."""
        text = params.get(name)
        text = "" if text is None else str(text)
        if (params.get("parse_mode") or "").lower() == "html":
            text, entities = _parse_html(text)
        else:  # MarkdownV2 is not parsed: the text is kept verbatim
            entities = params.get(entities_name) or []
        if required and not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(text) > max_length:
            raise _bad_request(
                "message is too long" if name == "text" else "message caption is too long"
            )
        return text, entities

    def _new_bot_message(self, chat_id: int, params: JSON) -> JSON:
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": _now(),
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        replied = self._reply_target(chat_id, params)
        if replied is not None:
            message["reply_to_message"] = replied
        return message

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not reply:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise _bad_request("can't parse reply parameters JSON object")
        original = self._messages.get((reply.get("chat_id", chat_id), reply["message_id"]))
        if original is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        return _without_reply(original)

    @staticmethod
    def _attach_reply_markup(message: JSON, params: JSON) -> None:
        markup = params.get("reply_markup")
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        # Only inline keyboards belong to the message; reply keyboards, ForceReply and
        # ReplyKeyboardRemove do not appear in the returned Message (and PTB would fail to
        # parse them as InlineKeyboardMarkup).
        if "inline_keyboard" in markup:
            _check_inline_keyboard(markup["inline_keyboard"])
            message["reply_markup"] = markup

    def _media_object(self, kind: str, media: Any) -> JSON | list[JSON]:
        """The Document/PhotoSize list for an upload (registered for download) or a file_id."""
        if isinstance(media, UploadedFile):
            number = next(self._ids)
            name = media.filename or ""
            suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
            file_id = f"{kind}-{number}"
            self.add_file(file_id, media.data, f"{kind}s/file_{number}{suffix}")
            stored = self._files[file_id]
        elif isinstance(media, str) and media in self._files:
            stored = self._files[media]
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        common = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if kind == "photo":
            return [{**common, "width": 1280, "height": 960}]
        if isinstance(media, UploadedFile):
            return {**common, "file_name": media.filename, "mime_type": media.content_type}
        return {**common, "file_name": stored.file_path.rsplit("/", 1)[-1]}

    def _remember_sent(self, message: JSON) -> JSON:
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        self._sent.append(message)
        return message

    def _editable_message(self, params: JSON) -> JSON:
        key = (self._chat_id(params), _int_param(params, "message_id", 0))
        message = self._messages.get(key)
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return message

    def _store_edit(self, old: JSON, edited: JSON, params: JSON) -> JSON:
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        self._attach_reply_markup(edited, params)
        if _same_content(old, edited):
            raise _bad_request(NOT_MODIFIED)
        edited["edit_date"] = _now()
        # Stored messages are replaced, never mutated: sent_messages() keeps the sent version.
        self._messages[(edited["chat"]["id"], edited["message_id"])] = edited
        return edited

    def _close_query(self, query_id: Any) -> None:
        if str(query_id) not in self._open_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_queries.discard(str(query_id))

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return f"commands|{_dumps(scope, sort_keys=True)}|{params.get('language_code', '')}"


def _default_error_description(error_code: int, parameters: JSON) -> str:
    if "migrate_to_chat_id" in parameters:
        return "Bad Request: group chat was upgraded to a supergroup chat"
    if "retry_after" in parameters:
        return f"Too Many Requests: retry after {parameters['retry_after']}"
    return {
        400: "Bad Request: error injected by the test",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",
        429: "Too Many Requests: retry after 1",
        502: "Bad Gateway",
    }.get(error_code, f"Error {error_code} injected by the test")
