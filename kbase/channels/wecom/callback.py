"""The WeCom (企业微信) application's callback routes of `bot.py serve`.

GET verifies the URL (the signed, encrypted echostr comes back decrypted); POST takes an encrypted message, answers
200 at once and sends the reply through message/send. wechatpy checks the signature and decrypts (AES-256-CBC, the
corp id inside must match). A bad signature is 403, a message that does not decrypt or parse is 400, a timestamp
further than callback_max_age_seconds from now or a MsgId seen before is refused without an answer; each one a
log line, never a crash. Logs carry user ids, never message texts.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from kbase.channels.staffchat.core import ChatCore, Incoming
from kbase.channels.staffchat.inbox import Background, SeenMessages
from kbase.channels.wecom.client import WeComClient
from kbase.settings import Settings

log = logging.getLogger("policybot.wecom")
Signed = Annotated[str, Query(max_length=128)]


class WeComChannel:
    def __init__(self, settings: Settings, core: ChatCore):
        self.settings = settings
        self.core = core
        if not (settings.wecom_secret and settings.wecom_agent_id):
            raise ValueError("企业微信回复需要 POLICYBOT_WECOM_SECRET 和 POLICYBOT_WECOM_AGENT_ID")
        aes_key = settings.wecom_aes_key.get_secret_value()
        if len(aes_key) != 43:  # wechatpy would stop on an assert
            raise ValueError("POLICYBOT_WECOM_AES_KEY 应为企业微信生成的 43 个字符的 EncodingAESKey")
        self.crypto = WeChatCrypto(settings.wecom_token.get_secret_value(), aes_key, settings.wecom_corp_id)
        self.client = WeComClient(settings)
        self.seen = SeenMessages()  # MsgIds: replays and WeCom's own retries are not answered twice
        self.background = Background()

    def fresh(self, timestamp: str) -> bool:
        return timestamp.isdigit() and abs(time.time() - int(timestamp)) <= self.settings.callback_max_age_seconds

    async def answer(self, message: Incoming) -> None:
        try:
            replies = await self.core.reply(message)
            for reply in replies:
                await asyncio.to_thread(self.client.send_markdown_parts, message.sender, reply)
        except Exception:  # a reply that fails must not take the server with it
            log.exception("wecom reply failed user=%s", message.sender)



def refused(status: int, reason: str, request: Request) -> PlainTextResponse:
    log.warning("wecom callback refused id=%s status=%d: %s", request.state.request_id, status, reason)
    return PlainTextResponse("", status_code=status)


def build_router(channel: WeComChannel) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/wecom/callback")
    async def verify_url(request: Request, msg_signature: Signed, timestamp: Signed, nonce: Signed,
                         echostr: Annotated[str, Query(max_length=1024)]) -> PlainTextResponse:
        try:
            echo = channel.crypto.check_signature(msg_signature, timestamp, nonce, echostr)
        except InvalidSignatureException:
            return refused(403, "bad signature", request)
        except Exception as exc:  # signed but not decryptable: a wrong EncodingAESKey or corp id
            return refused(400, f"echostr does not decrypt ({type(exc).__name__})", request)
        log.info("wecom callback URL verified id=%s", request.state.request_id)
        return PlainTextResponse(echo)

    @router.post("/wecom/callback")
    async def receive(request: Request, msg_signature: Signed, timestamp: Signed, nonce: Signed) -> PlainTextResponse:
        body = await request.body()
        try:
            xml = channel.crypto.decrypt_message(body, msg_signature, timestamp, nonce)
        except InvalidSignatureException:
            return refused(403, "bad signature", request)
        except Exception as exc:  # not XML, no Encrypt element, not base64, bad padding, another corp's message
            return refused(400, f"message does not decrypt ({type(exc).__name__})", request)
        if not channel.fresh(timestamp):
            return refused(403, "stale timestamp", request)
        try:
            message = parse_message(xml)
        except Exception as exc:
            return refused(400, f"message does not parse ({type(exc).__name__})", request)
        message_id = str(getattr(message, "id", None) or f"{msg_signature}:{nonce}")
        if not channel.seen.first_time(message_id):  # 200, so WeCom stops retrying; nothing is answered twice
            return refused(200, "message seen before (a replay or WeCom's retry)", request)
        sender = str(message.source or "")
        if message.type == "event" or not sender:
            return PlainTextResponse("")
        log.info("wecom message id=%s user=%s type=%s", request.state.request_id, sender, message.type)
        text = message.content if message.type == "text" else ""  # an image or voice gets "please type"
        channel.background.spawn(channel.answer(Incoming("wecom", sender, sender, text, True,
                                                          channel.settings.wecom_staff_ids)))
        return PlainTextResponse("")

    return router
