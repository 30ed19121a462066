"""A fake Telegram Bot API server on 127.0.0.1 for tests: serves queued updates and records every call.

It runs aiohttp in its own thread, so the bot under test may live in the test's event loop or in a
subprocess. Like Telegram it checks what it is sent: the token in the URL, message length, HTML markup
(only Telegram's tags, balanced, with <, > and & escaped), callback_data size, and it can answer 429
(RetryAfter). Once a webhook is set, pushed updates are POSTed to it with the secret-token header.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from tests import waiting

TOKEN = "123456789:TEST-token_abcdefghijklmnopqrstuvwxyz0123"
BOT_ID = 123456789
BOT_USERNAME = "policy_test_bot"
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
                 "pre", "blockquote", "tg-emoji"}
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)((?:\s+[a-zA-Z-]+(?:=\"[^\"]*\")?)*)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")
T = TypeVar("T")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_telegram_html(text: str) -> str:
    """The plain text Telegram would show for `text` in HTML parse mode; ValueError where Telegram says 400."""
    plain, stack, pos = [], [], 0
    for match in itertools.chain(_TAG.finditer(text), [None]):
        chunk = text[pos:match.start() if match else len(text)]
        if re.search(r"[<>]", chunk) or re.search(r"&", _ENTITY.sub("", chunk)):
            raise ValueError(f"can't parse entities: unescaped character in {chunk[:40]!r}")
        plain.append(html.unescape(chunk))
        if match is None:
            break
        closing, name = match.group(1), match.group(2).lower()
        if name not in TELEGRAM_TAGS:
            raise ValueError(f"can't parse entities: unsupported start tag {name!r}")
        if closing:
            if not stack or stack.pop() != name:
                raise ValueError(f"can't parse entities: unexpected end tag {name!r}")
        else:
            stack.append(name)
        pos = match.end()
    if stack:
        raise ValueError(f"can't parse entities: unclosed tags {stack}")
    return "".join(plain)


@dataclass
class Call:
    """One request the bot made: method name and parameters as sent (non-strings JSON-encoded)."""

    method: str
    params: dict[str, str]
    at: float
    status: int = 200

    def json(self, name: str) -> Any:
        return json.loads(self.params[name]) if name in self.params else None

    @property
    def chat_id(self) -> int | None:
        return int(self.params["chat_id"]) if "chat_id" in self.params else None

    @property
    def text(self) -> str:
        return self.params.get("text", "")

    @property
    def callback_data(self) -> list[str]:
        markup = self.json("reply_markup") or {}
        return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row if "callback_data" in b]


class FakeBotApi:
    """Start with `with FakeBotApi() as api:`; point the bot at `api.base_url`."""

    def __init__(self, token: str = TOKEN):
        self.token = token
        self.bot = {"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot", "username": BOT_USERNAME,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        self._calls: list[Call] = []
        self._updates: list[dict] = []
        self._messages: dict[int, dict] = {}
        self._chats: dict[int, dict] = {}
        self._ids = itertools.count(1)
        self._failures: dict[str, list[int]] = {}
        self._webhook: dict[str, str] | None = None
        self.webhook_statuses: list[int] = []
        self._closing = False
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._new_updates = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, self._socket).start())
        self._ready.set()
        self._loop.run_forever()

    # ---- what tests do -------------------------------------------------------------------------

    def send_text(self, text: str, user_id: int, chat_id: int | None = None, chat_type: str = "private",
                  reply_to: dict | None = None) -> dict:
        """A user's text message (with the bot_command and mention entities Telegram would add); the message."""
        chat_id = user_id if chat_id is None else chat_id
        message = self._message(chat_id, chat_type, {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"},
                                text=text, entities=_entities(text))
        if reply_to:
            message["reply_to_message"] = reply_to
        self.push({"message": message})
        return message

    def send_sticker(self, user_id: int) -> None:
        sticker = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        self.push({"message": self._message(user_id, "private", {"id": user_id, "is_bot": False, "first_name": "u"},
                                            sticker=sticker)})

    def press_button(self, user_id: int, message: dict, data: str) -> None:
        """A user taps an inline button under one of the bot's messages."""
        self.push({"callback_query": {"id": str(next(self._ids)), "chat_instance": "ci", "data": data,
                                      "from": {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"},
                                      "message": message}})

    def push(self, update: dict) -> int:
        update = {"update_id": next(self._ids), **update}
        asyncio.run_coroutine_threadsafe(self._queue(update), self._loop).result(10)
        return update["update_id"]

    def fail_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 Too Many Requests."""
        with self._lock:
            self._failures.setdefault(method, []).extend([retry_after] * times)

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if (method is None or c.method == method)
                    and (chat_id is None or c.chat_id == chat_id) and c.status == 200]

    def failed(self, method: str | None = None) -> list[Call]:
        """Calls answered with an error (401, 404, 429, 400 …)."""
        with self._lock:
            return [c for c in self._calls if (method is None or c.method == method) and c.status != 200]

    def sent_message(self, call: Call) -> dict:
        """The message object the bot got back for a sendMessage call (to press its buttons)."""
        with self._lock:
            message = next(m for m in self._messages.values() if m.get("_call") is call)
        return {k: v for k, v in message.items() if k != "_call"}

    def wait_until(self, condition: Callable[[], T], timeout: float = 15) -> T:
        return waiting.until(condition, timeout, lambda: f"; calls: {self.summary()}")

    async def until(self, condition: Callable[[], T], timeout: float = 15) -> T:
        return await waiting.until_async(condition, timeout, lambda: f"; calls: {self.summary()}")

    def summary(self) -> list[tuple[str, int, str]]:
        with self._lock:
            return [(c.method, c.status, c.text[:60]) for c in self._calls if c.method != "getUpdates"]

    # ---- the server side -----------------------------------------------------------------------

    def _message(self, chat_id: int, chat_type: str, sender: dict, **content) -> dict:
        chat = {"id": chat_id, "type": chat_type}
        chat.update({"title": "测试群"} if chat_type != "private" else {"first_name": sender["first_name"]})
        with self._lock:
            self._chats[chat_id] = chat
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": chat, "from": sender, **content}

    async def _close(self) -> None:
        async with self._new_updates:  # end pending long polls now rather than at their timeout
            self._closing = True
            self._new_updates.notify_all()
        await self._runner.cleanup()

    async def _queue(self, update: dict) -> None:
        if self._webhook:
            # like Telegram, retry delivery while the bot's webhook server is not yet accepting connections
            for attempt in range(50):
                try:
                    async with aiohttp.ClientSession() as client:
                        response = await client.post(self._webhook["url"], json=update, headers={
                            "X-Telegram-Bot-Api-Secret-Token": self._webhook.get("secret_token", "")})
                        self.webhook_statuses.append(response.status)
                    return
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.2)
            raise ConnectionError(f"webhook {self._webhook['url']} never accepted a connection")
        async with self._new_updates:
            self._updates.append(update)
            self._new_updates.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        params = {**request.query, **{k: v for k, v in (await request.post()).items() if isinstance(v, str)}}
        if request.content_type == "application/json":
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (await request.json()).items()})
        call = Call(request.match_info["method"], params, time.monotonic())
        with self._lock:
            self._calls.append(call)
            failures = self._failures.get(call.method)
            retry_after = failures.pop(0) if failures else None
        if request.match_info["token"] != self.token:
            return self._error(call, 401, "Unauthorized")
        if retry_after is not None:
            return self._error(call, 429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        handler = getattr(self, f"_api_{call.method.lower()}", None)
        if handler is None:
            return self._error(call, 404, "Not Found: method not found")
        try:
            result = await handler(call)
        except ValueError as problem:
            return self._error(call, 400, f"Bad Request: {problem}")
        return web.json_response({"ok": True, "result": result})

    def _error(self, call: Call, code: int, description: str, **parameters) -> web.Response:
        call.status = code
        body = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    async def _api_getme(self, call: Call) -> dict:
        return self.bot

    async def _api_getupdates(self, call: Call) -> list[dict]:
        if self._webhook:
            raise ValueError("Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(call.params.get("offset", 0)), int(call.params.get("limit", 100))
        deadline = self._loop.time() + float(call.params.get("timeout", 0))
        async with self._new_updates:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing and (remaining := deadline - self._loop.time()) > 0:
                try:
                    await asyncio.wait_for(self._new_updates.wait(), remaining)
                except TimeoutError:
                    break
            return self._updates[:limit]

    async def _api_sendmessage(self, call: Call) -> dict:
        text = call.params.get("text", "")
        shown = parse_telegram_html(text) if call.params.get("parse_mode") == "HTML" else text
        if not shown.strip():
            raise ValueError("message text is empty")
        if utf16_len(shown) > 4096:
            raise ValueError("message is too long")
        if any(len(data.encode()) > 64 for data in call.callback_data):
            raise ValueError("BUTTON_DATA_INVALID")
        chat_id = call.chat_id
        with self._lock:
            chat = self._chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "u"})
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat, "from": self.bot,
                   "text": shown}
        if call.json("reply_markup"):
            message["reply_markup"] = call.json("reply_markup")
        with self._lock:
            self._messages[message["message_id"]] = {**message, "_call": call}
        return message

    async def _api_editmessagetext(self, call: Call) -> dict:
        with self._lock:
            message = self._messages.get(int(call.params.get("message_id", 0)))
        if message is None:
            raise ValueError("message to edit not found")
        message["text"] = parse_telegram_html(call.text) if call.params.get("parse_mode") == "HTML" else call.text
        return {k: v for k, v in message.items() if k != "_call"}

    async def _api_setwebhook(self, call: Call) -> bool:
        self._webhook = {"url": call.params["url"], "secret_token": call.params.get("secret_token", "")}
        return True

    async def _api_deletewebhook(self, call: Call) -> bool:
        self._webhook = None
        return True

    async def _api_answercallbackquery(self, call: Call) -> bool:
        return True

    async def _api_sendchataction(self, call: Call) -> bool:
        return True

    async def _api_setmycommands(self, call: Call) -> bool:
        return True


def _entities(text: str) -> list[dict]:
    """The bot_command and mention entities Telegram attaches (offsets in UTF-16 units)."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for mention in _MENTION.finditer(text):
        if not (command and mention.start() < command.end()):
            found.append({"type": "mention", "offset": utf16_len(text[:mention.start()]),
                          "length": utf16_len(mention.group())})
    return found
