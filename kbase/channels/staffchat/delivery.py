"""The reminders' deliveries: each configured channel's sending client, by channel name, for a pass that has no
message to answer (`bot.py remind` from cron, the server's schedule)."""
from __future__ import annotations

import logging

from kbase.channels.staffchat.markdown import render_lines
from kbase.reminders.reminders import Deliver
from kbase.settings import Settings

log = logging.getLogger("policybot.reminders")


def deliverers(settings: Settings) -> dict[str, Deliver]:
    deliver: dict[str, Deliver] = {}
    if settings.wecom_enabled and settings.wecom_secret:
        from kbase.channels.wecom.client import WeComClient
        wecom = WeComClient(settings)
        deliver["wecom"] = lambda subscription, lines: wecom.send_markdown_parts(subscription.target, render_lines(lines))
    if settings.dingtalk_enabled and settings.dingtalk_app_key:
        from kbase.channels.dingtalk.client import DingTalkClient
        dingtalk = DingTalkClient(settings)
        deliver["dingtalk"] = lambda subscription, lines: dingtalk.send(subscription.target, render_lines(lines))
    if settings.telegram_bot_token:
        deliver["telegram"] = lambda subscription, lines: _telegram(settings, subscription.target, lines)
    return deliver


def _telegram(settings: Settings, chat_id: str, lines: list[str]) -> bool:
    """A digest through the Bot API's sendMessage (the bot process need not be running)."""
    import httpx

    from kbase.channels.telegram.reminders import digest_messages
    url = f"{settings.telegram_api_base_url}{settings.telegram_bot_token}/sendMessage"
    try:
        for text in digest_messages(lines):
            httpx.post(url, json={"chat_id": int(chat_id), "text": text, "parse_mode": "HTML"}, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        log.error("telegram reminder failed chat=%s: %s", chat_id, type(exc).__name__)
        return False
    return True
