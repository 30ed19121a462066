"""DingTalk Stream mode: the server opens a WebSocket to DingTalk's gateway with DingTalk's official SDK
(dingtalk-stream), so the robot needs no public callback URL (a city intranet has none). Messages arrive as the
HTTP callback's JSON, over a connection the AppKey and AppSecret opened, so there is no sign to check; each is
acknowledged to the gateway and answered through its sessionWebhook. The SDK reconnects by itself; it runs in a
daemon thread with its own event loop and ends with the process. Its gateway address comes from the
DINGTALK_OPENAPI_ENDPOINT environment variable (default https://api.dingtalk.com)."""
from __future__ import annotations

import asyncio
import logging
import threading

import dingtalk_stream
from dingtalk_stream import AckMessage, ChatbotMessage

from kbase.channels.dingtalk.callback import DingTalkChannel, incoming
from kbase.channels.dingtalk.client import MESSAGE_BYTES
from kbase.channels.staffchat.markdown import split_utf8

log = logging.getLogger("policybot.dingtalk")


class _RobotMessages(dingtalk_stream.ChatbotHandler):
    def __init__(self, channel: DingTalkChannel):
        super().__init__()
        self.channel = channel

    async def process(self, callback: dingtalk_stream.CallbackMessage):
        body = callback.data if isinstance(callback.data, dict) else {}
        try:
            message = incoming(body, self.channel.settings.dingtalk_staff_ids)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("dingtalk stream message refused: %s", type(exc).__name__)
            return AckMessage.STATUS_BAD_REQUEST, "bad message"
        if not self.channel.seen.first_time(str(body.get("msgId") or callback.headers.message_id)):
            log.warning("dingtalk stream message seen before: not answered again")
            return AckMessage.STATUS_OK, "OK"
        log.info("dingtalk stream message sender=%s private=%s", message.sender, message.private)
        try:
            replies = await self.channel.core.reply(message)
        except Exception:
            log.exception("dingtalk stream reply failed")
            replies = ["抱歉，处理出错了，请稍后再试。"]
        parts = [part for reply in replies for part in split_utf8(reply, MESSAGE_BYTES)]
        webhook = body.get("sessionWebhook")
        if isinstance(webhook, str) and webhook.startswith(("https://", "http://")):
            await asyncio.to_thread(self.channel.client.reply, webhook, parts)
        return AckMessage.STATUS_OK, "OK"


def start_stream(channel: DingTalkChannel) -> threading.Thread:
    """Connects to the gateway and serves robot messages in a daemon thread (reconnecting, until the process ends)."""
    settings = channel.settings
    credential = dingtalk_stream.Credential(settings.dingtalk_app_key, settings.dingtalk_app_secret.get_secret_value())
    client = dingtalk_stream.DingTalkStreamClient(credential, logger=logging.getLogger("dingtalk_stream"))
    client.register_callback_handler(ChatbotMessage.TOPIC, _RobotMessages(channel))
    thread = threading.Thread(target=client.start_forever, name="dingtalk-stream", daemon=True)
    thread.start()
    log.info("dingtalk stream mode started")
    return thread
