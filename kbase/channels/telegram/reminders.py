"""Deadline reminders on Telegram: the staff commands /subscribe, /unsubscribe, /subscriptions and /done (the same
commands as WeCom and DingTalk, through the same chat core), and the digests, sent by PTB's JobQueue on
settings.reminder_schedule and once as the bot starts."""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from kbase.channels.staffchat.core import DONE, LIST, SUBSCRIBE, UNSUBSCRIBE, ChatCore, Incoming
from kbase.channels.staffchat.markdown import split_utf8
from kbase.reminders.reminders import ReminderError
from kbase.reminders.store import Subscription

log = logging.getLogger("policybot.telegram")
CHAT_CORE_KEY = "policybot.reminders"
MESSAGE_BYTES = 4000  # Telegram counts 4096 UTF-16 units; UTF-8 bytes are never fewer
STAFF_ONLY = "抱歉，该命令仅限工作人员使用。"
COMMANDS = {"subscribe": SUBSCRIBE[0], "unsubscribe": UNSUBSCRIBE[0], "subscriptions": LIST[0], "done": DONE[0]}


def digest_messages(lines: list[str]) -> list[str]:
    """A digest as plain text for HTML parse mode (every character escaped), split under Telegram's limit."""
    return [html.escape(part, quote=False) for part in split_utf8("\n".join(lines), MESSAGE_BYTES)]


async def reminder_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe 部门 · /unsubscribe [部门] · /subscriptions · /done 三(三)5 [2025-06-30]: staff only; the chat they
    are sent in (private or group) is the one the digests go to."""
    core: ChatCore = context.bot_data[CHAT_CORE_KEY]
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.id not in core.settings.staff_ids:
        log.info("staff command refused user=%s", user.id if user else None)
        await update.effective_message.reply_text(STAFF_ONLY)
        return
    word = COMMANDS[update.effective_message.text.split()[0].lstrip("/").split("@")[0]]
    message = Incoming("telegram", str(user.id), str(chat.id), "", chat.type == ChatType.PRIVATE,
                       frozenset(str(i) for i in core.settings.staff_ids))
    try:
        reply = await asyncio.to_thread(core.command, message, word, " ".join(context.args))
    except ReminderError as exc:
        reply = str(exc)
    await update.effective_message.reply_text(html.escape(reply, quote=False))


async def _reminder_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    core: ChatCore = context.bot_data[CHAT_CORE_KEY]
    loop = asyncio.get_running_loop()

    def deliver(subscription: Subscription, lines: list[str]) -> bool:  # runs in the pass's worker thread
        async def send() -> None:
            for text in digest_messages(lines):
                await context.bot.send_message(int(subscription.target), text)
        try:
            asyncio.run_coroutine_threadsafe(send(), loop).result(timeout=60)
        except Exception as exc:  # Telegram refused or is unreachable: the claim is released, tried next pass
            log.error("telegram reminder failed chat=%s: %s", subscription.target, type(exc).__name__)
            return False
        return True

    deliveries = await asyncio.to_thread(core.reminders.run_pass, {"telegram": deliver})
    log.info("reminder pass: %d digests, %d delivered", len(deliveries), sum(d.delivered for d in deliveries))


def add_reminders(application: Application, core: ChatCore) -> None:
    application.bot_data[CHAT_CORE_KEY] = core
    for name in COMMANDS:
        application.add_handler(CommandHandler(name, reminder_command, filters=filters.UpdateType.MESSAGE))
    settings = core.settings
    zone = ZoneInfo(settings.reminder_timezone)
    trigger = CronTrigger.from_crontab(settings.reminder_schedule, timezone=zone)
    application.job_queue.run_custom(_reminder_pass, job_kwargs={"trigger": trigger, "coalesce": True})
    application.job_queue.run_once(_reminder_pass, when=dt.timedelta(seconds=0))
