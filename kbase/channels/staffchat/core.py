"""What the WeCom and DingTalk channels share: a message in, Markdown replies out.

A message is a question for the Service, answered with the same follow-up memory (one Session per conversation
and sender), the same rights (staff only for the channel's configured staff ids, in a one-to-one chat) and the same
public flood limit as Telegram; or a staff command for the reminders (订阅提醒, 取消订阅, 我的订阅, 完成).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass

from kbase.channels.conversations import Conversations
from kbase.channels.limits import QuestionLimiter
from kbase.channels.staffchat import markdown
from kbase.channels.text import safe_answer
from kbase.model import Audience
from kbase.reminders.reminders import ReminderError, Reminders
from kbase.service import Service
from kbase.settings import Settings

log = logging.getLogger("policybot.staffchat")

# command words, first word of a message (a leading / is allowed)
SUBSCRIBE = ("订阅提醒", "订阅")
UNSUBSCRIBE = ("取消订阅", "退订")
LIST = ("我的订阅", "订阅列表")
DONE = ("完成", "标记完成")
HELP = ("帮助", "help", "?", "？")
SHOW = ("原文", "条款")
HELP_TEXT = ["直接发送问题即可，例如：开封市2025年PM2.5目标是多少？", "可以接着上一问追问，例如：那配合单位呢？",
             "原文 三(三)5 — 查看条款原文"]
STAFF_HELP = ["工作人员命令：", "订阅提醒 市生态环境局 — 期限到前30天、7天和逾期时提醒",
              "取消订阅 [部门] — 不写部门即取消全部", "我的订阅 — 查看本会话的订阅",
              "完成 三(三)5 [2025-06-30] — 标记任务期限已完成（不再提醒）"]
STAFF_ONLY = "抱歉，该命令仅限工作人员使用。"
CLAUSE_MISSING = "未找到该条款，或您无权查看。"
SLOW_DOWN = "请稍后再问：每位用户每分钟最多提问 {n} 次。"
EMPTY = "请直接用文字提问，例如：开封市2025年PM2.5目标是多少？"


@dataclass(frozen=True)
class Incoming:
    """A text message from a chat platform, as the channel read it."""

    channel: str  # wecom | dingtalk
    sender: str  # the platform's user id
    conversation: str  # one-to-one chats: the sender again; groups: the group's id
    text: str
    private: bool
    staff_ids: frozenset[str]

    @property
    def staff(self) -> bool:
        return self.sender in self.staff_ids

    @property
    def audience(self) -> Audience:
        """Internal documents only for staff in a one-to-one chat: group answers are read by everyone."""
        return "staff" if self.private and self.staff else "public"


class ChatCore:
    def __init__(self, settings: Settings, service: Service, reminders: Reminders):
        self.settings = settings
        self.service = service
        self.reminders = reminders
        self.conversations = Conversations(settings.session_ttl_seconds, settings.web_max_sessions)
        self.limiter = QuestionLimiter(settings.public_questions_per_minute)

    async def reply(self, message: Incoming) -> list[str]:
        """The Markdown replies to one message (unsplit: each channel splits under its own limit)."""
        text = message.text.strip()
        word, _, rest = text.lstrip("/").partition(" ")
        if not text:
            return [EMPTY]
        if word.lower() in HELP:
            return [markdown.render_lines(HELP_TEXT + (STAFF_HELP if message.staff else []), "使用说明")]
        if word in SHOW and rest.strip():
            clause = await asyncio.to_thread(self.service.show, None, rest.strip(), message.audience)
            if clause is None:
                return [CLAUSE_MISSING]
            return [markdown.render_lines(clause.text.splitlines(), f"《{clause.meta.title}》{clause.ref}")]
        if word in SUBSCRIBE + UNSUBSCRIBE + LIST + DONE:
            if not message.staff:
                log.info("staff command refused channel=%s sender=%s", message.channel, message.sender)
                return [STAFF_ONLY]
            try:
                return [await asyncio.to_thread(self.command, message, word, rest.strip())]
            except ReminderError as exc:
                return [str(exc)]
        return [await self._answer(message, text)]

    async def _answer(self, message: Incoming, question: str) -> str:
        audience = message.audience
        if audience == "public" and not self.limiter.allow((message.channel, message.sender)):
            log.info("question limited channel=%s sender=%s", message.channel, message.sender)
            return SLOW_DOWN.format(n=self.limiter.per_minute)
        started = time.monotonic()
        async with self.conversations.turn(message.channel, message.conversation, message.sender, audience) as session:
            answer = await asyncio.to_thread(safe_answer, self.service, question, audience, session)
        log.info("question channel=%s sender=%s audience=%s status=%s citations=%d ms=%d", message.channel,
                 message.sender, audience, answer.status, len(answer.citations), (time.monotonic() - started) * 1000)
        return markdown.render_answer(answer)

    def command(self, message: Incoming, word: str, argument: str) -> str:
        """A reminder command (staff only); runs in a worker thread: it writes SQLite."""
        channel, target, by = message.channel, message.conversation, message.sender
        if word in SUBSCRIBE:
            if not argument:
                raise ReminderError("请写上部门，例如：订阅提醒 市生态环境局")
            unit, new = self.reminders.subscribe(channel, target, argument, by)
            log.info("subscribed channel=%s target=%s department=%s new=%s", channel, target, unit, new)
            return (f"已订阅「{unit}」的期限提醒：到期前30天、7天和逾期时各提醒一次。" if new
                    else f"本会话已订阅「{unit}」的期限提醒。")
        if word in UNSUBSCRIBE:
            ended = self.reminders.unsubscribe(channel, target, argument or None)
            log.info("unsubscribed channel=%s target=%s count=%d", channel, target, len(ended))
            return f"已取消订阅：{'、'.join(ended)}。" if ended else "本会话没有这项订阅。"
        if word in LIST:
            units = [s.department for s in self.reminders.store.subscriptions(channel, target)]
            return f"本会话订阅了：{'、'.join(units)}。" if units else "本会话还没有订阅。发送「订阅提醒 部门」即可订阅。"
        ref, _, day = argument.partition(" ")
        if not ref:
            raise ReminderError("请写上条款号，例如：完成 三(三)5")
        date = _date(day.strip()) if day.strip() else None
        task, marked = self.reminders.mark_done(ref, by, channel, date=date)
        log.info("marked done channel=%s sender=%s doc=%s ref=%s dates=%d", channel, by, task.doc, task.ref, len(marked))
        if not marked:
            return f"任务 {task.ref} 的期限此前已标记完成。"
        return f"已标记完成：{task.ref} {markdown.plain(task.title)}（{'、'.join(d.isoformat() for d in marked)}），不再提醒。"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ReminderError("日期请写成 2025-06-30 的格式。") from exc
