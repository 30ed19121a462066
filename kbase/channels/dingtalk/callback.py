"""The DingTalk (钉钉) enterprise robot's HTTP callback route of `bot.py serve`.

DingTalk signs each callback: header `sign` = base64(HMAC-SHA256(AppSecret, timestamp + "\n" + AppSecret)), with the
timestamp (ms) in its own header. A wrong sign or a timestamp more than callback_max_age_seconds off is 403 and
nothing is sent; a body that is not DingTalk's JSON is 400; a msgId seen before is answered with nothing. A reply that
fits one message is the response body; a longer one goes to the message's sessionWebhook in parts, in order.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kbase.channels.dingtalk.client import GROUP_PREFIX, MESSAGE_BYTES, DingTalkClient, markdown_message
from kbase.channels.staffchat.core import ChatCore, Incoming
from kbase.channels.staffchat.inbox import Background, SeenMessages
from kbase.channels.staffchat.markdown import split_utf8
from kbase.settings import Settings

log = logging.getLogger("policybot.dingtalk")
PRIVATE_CHAT = "1"


def expected_sign(timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkChannel:
    def __init__(self, settings: Settings, core: ChatCore):
        self.settings = settings
        self.core = core
        self.secret = settings.dingtalk_app_secret.get_secret_value()
        self.client = DingTalkClient(settings)
        self.seen = SeenMessages()  # msgIds: replays and DingTalk's own retries are not answered twice
        self.background = Background()

    def signed(self, timestamp: str | None, sign: str | None) -> str | None:
        """Why the callback is refused, or None when DingTalk sent it."""
        if not timestamp or not sign or not timestamp.isdigit():
            return "no timestamp or sign"
        if not hmac.compare_digest(sign.encode(), expected_sign(timestamp, self.secret).encode()):
            return "bad sign"
        if abs(time.time() * 1000 - int(timestamp)) > self.settings.callback_max_age_seconds * 1000:
            return "stale timestamp"
        return None



def incoming(body: dict, staff_ids: frozenset[str]) -> Incoming:
    """The message as the chat core reads it; ValueError when the body is not DingTalk's message JSON."""
    sender = body.get("senderStaffId") or body.get("senderId")
    if not isinstance(sender, str) or not sender:
        raise ValueError("no sender")
    private = str(body.get("conversationType")) == PRIVATE_CHAT
    conversation = sender if private else GROUP_PREFIX + str(body.get("conversationId") or "")
    content = (body.get("text") or {}).get("content", "") if body.get("msgtype") == "text" else ""
    if not isinstance(content, str):
        raise ValueError("text.content is not a string")
    staff_id = body.get("senderStaffId") or ""
    return Incoming("dingtalk", staff_id or sender, conversation, content, private, staff_ids if staff_id else frozenset())


def build_router(channel: DingTalkChannel) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post("/dingtalk/callback")
    async def receive(request: Request) -> JSONResponse:
        request_id = request.state.request_id
        refusal = channel.signed(request.headers.get("timestamp"), request.headers.get("sign"))
        if refusal:
            log.warning("dingtalk callback refused id=%s status=403: %s", request_id, refusal)
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            body = json.loads(await request.body())
            message = incoming(body, channel.settings.dingtalk_staff_ids)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("dingtalk callback refused id=%s status=400: %s", request_id, type(exc).__name__)
            return JSONResponse({"error": "bad request"}, status_code=400)
        if not channel.seen.first_time(str(body.get("msgId") or f"{request.headers['timestamp']}:{message.sender}")):
            log.warning("dingtalk message seen before id=%s: not answered again", request_id)
            return JSONResponse({})
        log.info("dingtalk message id=%s sender=%s private=%s", request_id, message.sender, message.private)
        try:
            replies = await channel.core.reply(message)
        except Exception:  # answered as an apology, never a stack trace
            log.exception("dingtalk reply failed id=%s", request_id)
            replies = ["抱歉，处理出错了，请稍后再试。"]
        parts = [part for reply in replies for part in split_utf8(reply, MESSAGE_BYTES)]
        webhook = body.get("sessionWebhook")
        if len(parts) > 1 and isinstance(webhook, str) and webhook.startswith(("https://", "http://")):
            channel.background.spawn(asyncio.to_thread(channel.client.reply, webhook, parts))
            return JSONResponse({})
        return JSONResponse(markdown_message(parts[0]) if parts else {})

    return router
