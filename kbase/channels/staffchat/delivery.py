"""The reminders' deliveries for a process that runs no callback server (`bot.py remind` from cron): each configured
channel's sending client, by channel name."""
from __future__ import annotations

from kbase.channels.staffchat.markdown import render_lines
from kbase.reminders.reminders import Deliver
from kbase.settings import Settings


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
    return deliver
