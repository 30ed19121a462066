"""policybot on Telegram: thin handlers over kbase.service.Service, wired in build_application().

Public users get public documents only; staff (settings.staff_ids, checked by the sender's user id)
also get internal documents, in private chats, and the task commands. Every Service call runs in a
worker thread and updates are processed concurrently, so a slow question never blocks other chats.
Logs carry user ids, chat ids, statuses and timings, never the text people send.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from dataclasses import dataclass

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from ingest.model import DocMeta, Task
from kbase.channels.conversations import Conversations
from kbase.channels.limits import QuestionLimiter
from kbase.channels.staffchat.core import ChatCore
from kbase.channels.telegram import render as tg_render
from kbase.channels.telegram.reminders import add_reminders
from kbase.model import Answer, Audience
from kbase.reminders.reminders import STORE_FILE, Reminders
from kbase.reminders.store import ReminderStore
from kbase.service import Service
from kbase.settings import Settings

log = logging.getLogger("policybot.telegram")

BUTTONS_PER_ROW = 3
YEAR = re.compile(r"((?:19|20)\d\d)年?")
RUNTIME_KEY = "policybot"

EXAMPLES = ["开封市2025年PM2.5目标是多少？", "煤电结构优化升级由哪个部门牵头？", "大气污染防治法第九十九条说了什么？"]
WELCOME = ("您好！我是生态环境政策问答机器人，回答依据开封市生态环境三年行动方案、开封市的环保法规和国家环境保护法律，"
           "每个回答都附有原文出处。直接发送问题即可；在群里请 @我、回复我的消息，或使用 /ask 问题。")
HELP = "\n".join([
    "直接发送问题，例如：", *(f"• {q}" for q in EXAMPLES), "可以接着上一问追问，例如：那配合单位呢？", "",
    "/ask 问题 — 提问（群聊中使用）", "/sources — 可查询的文件", "/show 三(三)5 — 查看条款原文",
    "/show 大气污染防治法 第九十九条 — 指定文件查看条款"])
STAFF_HELP = "\n".join([
    "", "工作人员命令：", "/tasks [部门] [年份] — 任务清单", "/overdue — 截止日期已过的任务",
    "/due 2025 — 某年到期的任务", "/reload — 重新加载文件",
    "/subscribe 市生态环境局 — 在本会话订阅期限提醒（/unsubscribe 取消，/subscriptions 查看）",
    "/done 三(三)5 — 标记任务期限已完成"])
ERROR_REPLY = "抱歉，处理出错了，请稍后再试。"
SLOW_DOWN = "请稍后再问：每位用户每分钟最多提问 {n} 次。"
STAFF_ONLY = "抱歉，该命令仅限工作人员使用。"
NON_TEXT = "我只能阅读文字问题，请直接用文字提问，例如：" + EXAMPLES[0]
ASK_USAGE = "请在 /ask 后面写上问题，例如：/ask " + EXAMPLES[0]
SHOW_USAGE = "用法：/show 三(三)5，或 /show 大气污染防治法 第九十九条"
DUE_USAGE = "用法：/due 2025"
CLAUSE_MISSING = "未找到该条款，或您无权查看。"

PUBLIC_COMMANDS = [BotCommand("ask", "提问"), BotCommand("help", "使用说明和示例问题"),
                   BotCommand("sources", "可查询的文件"), BotCommand("show", "查看条款原文，如 /show 三(三)5"),
                   BotCommand("start", "开始")]


@dataclass
class Runtime:
    """What every handler needs: settings, the core, follow-up state and the incoming-question limit."""

    settings: Settings
    service: Service
    conversations: Conversations
    limiter: QuestionLimiter

    def is_staff(self, update: Update) -> bool:
        return bool(update.effective_user) and update.effective_user.id in self.settings.staff_ids

    def audience(self, update: Update) -> Audience:
        """Internal documents only for staff in a private chat: group answers are read by everyone."""
        private = update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
        return "staff" if private and self.is_staff(update) else "public"

    def doc_ids(self) -> list[str]:
        """Every document id in a stable order; citation buttons carry an index into it."""
        return [doc.id for doc in self.service.sources("staff")]


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.bot_data[RUNTIME_KEY]


def _ids(update: Update) -> str:
    user = update.effective_user.id if update.effective_user else None
    chat = update.effective_chat.id if update.effective_chat else None
    return f"user={user} chat={chat}"


async def reply_html(update: Update, messages: list[str], buttons: list[tuple[str, str]] = ()) -> None:
    """Send HTML messages in order; the citation buttons go under the last one."""
    keys = [InlineKeyboardButton(label, callback_data=data) for label, data in buttons]
    keyboard = InlineKeyboardMarkup([keys[i:i + BUTTONS_PER_ROW] for i in range(0, len(keys), BUTTONS_PER_ROW)])
    for number, text in enumerate(messages, 1):
        await update.effective_message.reply_text(text, reply_markup=keyboard if keys and number == len(messages) else None)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Answer one question for the sender's audience in a worker thread, with sources and buttons."""
    rt, user_id, chat_id = runtime(context), update.effective_user.id, update.effective_chat.id
    audience = rt.audience(update)
    if audience == "public" and not rt.limiter.allow(user_id):
        log.info("question limited %s", _ids(update))
        await update.effective_message.reply_text(SLOW_DOWN.format(n=rt.limiter.per_minute))
        return
    started = time.monotonic()
    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    async with rt.conversations.turn(chat_id, user_id) as session:
        answer: Answer = await asyncio.to_thread(rt.service.answer, question, audience, session)
    log.info("question %s audience=%s status=%s citations=%d ms=%d", _ids(update), audience, answer.status,
             len(answer.citations), (time.monotonic() - started) * 1000)
    buttons = tg_render.citation_buttons(answer.citations or answer.related, rt.doc_ids())
    await reply_html(update, tg_render.render_answer(answer), buttons)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message in a private chat is a question."""
    await answer_question(update, context, update.effective_message.text)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group message is a question only when it mentions the bot or replies to it."""
    question = addressed_question(update.effective_message, context.bot.username, context.bot.id)
    if question is not None:
        await answer_question(update, context, question)


def addressed_question(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in a group message meant for the bot, without the @mention; None if not meant for it."""
    mention = f"@{bot_username}".lower()
    mentions = [text for text in message.parse_entities([MessageEntity.MENTION]).values() if text.lower() == mention]
    replied_to = message.reply_to_message.from_user if message.reply_to_message else None
    if not mentions and not (replied_to and replied_to.id == bot_id):
        return None
    text = message.text
    for text_of_mention in mentions:
        text = text.replace(text_of_mention, " ", 1)
    return text.strip()


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题 — the way to ask in a group without mentioning the bot."""
    parts = update.effective_message.text.split(maxsplit=1)
    if len(parts) < 2:
        await update.effective_message.reply_text(ASK_USAGE)
        return
    await answer_question(update, context, parts[1])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start — greeting and how to ask."""
    await update.effective_message.reply_text(WELCOME + "\n\n" + HELP)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help — example questions, and the staff commands for staff."""
    await update.effective_message.reply_text(HELP + (STAFF_HELP if runtime(context).is_staff(update) else ""))


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources — the documents this user's questions are answered from."""
    rt = runtime(context)
    docs = await asyncio.to_thread(rt.service.sources, rt.audience(update))
    await reply_html(update, tg_render.render_sources(docs))


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/show [文件] 三(三)5 — a whole clause; the document may be named by id or part of its title."""
    rt = runtime(context)
    if not context.args:
        await update.effective_message.reply_text(SHOW_USAGE)
        return
    *doc_words, ref = context.args
    docs = await asyncio.to_thread(rt.service.sources, rt.audience(update))
    doc = find_doc(docs, "".join(doc_words)) if doc_words else None
    if doc_words and doc is None:
        await update.effective_message.reply_text(CLAUSE_MISSING)
        return
    await send_clause(update, context, doc, ref)


def find_doc(docs: list[DocMeta], name: str) -> str | None:
    """The id of the document whose id is `name` or whose title contains it (《》 optional)."""
    name = name.strip("《》")
    return next((d.id for d in docs if name == d.id or name in d.title), None)


async def send_clause(update: Update, context: ContextTypes.DEFAULT_TYPE, doc: str | None, ref: str) -> None:
    """Send a whole clause the user may see, or say it is not there."""
    rt = runtime(context)
    clause = await asyncio.to_thread(rt.service.show, doc, tg_render.normalize_ref(ref), rt.audience(update))
    log.info("clause %s found=%s", _ids(update), clause is not None)
    if clause is None:
        await update.effective_message.reply_text(CLAUSE_MISSING)
        return
    await reply_html(update, tg_render.render_clause(clause))


async def open_citation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A "原文" button: answer the callback, then send the full clause it names."""
    query = update.callback_query
    await query.answer()
    parsed = tg_render.parse_clause_callback(query.data)
    doc_ids = runtime(context).doc_ids()
    if parsed is None or parsed[0] >= len(doc_ids):
        await context.bot.send_message(update.effective_chat.id, CLAUSE_MISSING)
        return
    await send_clause(update, context, doc_ids[parsed[0]], parsed[1])


def staff_only(handler):
    """Let staff (by sender's user id) through; refuse everyone else politely."""
    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not runtime(context).is_staff(update):
            log.info("staff command refused %s", _ids(update))
            await update.effective_message.reply_text(STAFF_ONLY)
            return
        await handler(update, context)
    return guarded


async def reply_tasks(update: Update, rt: Runtime, found: list[Task], title: str) -> None:
    """Send a task list, each document's tasks under its title."""
    titles = {doc.id: doc.title for doc in await asyncio.to_thread(rt.service.sources, rt.audience(update))}
    log.info("tasks %s count=%d", _ids(update), len(found))
    await reply_html(update, tg_render.render_tasks(found, title, titles))


@staff_only
async def tasks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tasks [部门] [年份] — numbered tasks, filtered by unit and/or deadline year."""
    rt = runtime(context)
    years = [int(m.group(1)) for m in map(YEAR.fullmatch, context.args) if m]
    dept = " ".join(a for a in context.args if not YEAR.fullmatch(a)) or None
    year = years[0] if years else None
    found = await asyncio.to_thread(rt.service.tasks, dept, year, None, rt.audience(update))
    await reply_tasks(update, rt, found, " · ".join(filter(None, ["任务清单", dept, year and f"{year}年"])))


@staff_only
async def overdue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/overdue — tasks whose deadline has passed."""
    rt = runtime(context)
    today = rt.settings.current_date()
    found = await asyncio.to_thread(rt.service.overdue, today, rt.audience(update))
    await reply_tasks(update, rt, found, f"截止日期已过的任务（截至 {today.isoformat()}）")


@staff_only
async def due(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/due 2025 — tasks with a deadline in that year."""
    rt = runtime(context)
    year = YEAR.fullmatch(context.args[0]) if len(context.args) == 1 else None
    if year is None:
        await update.effective_message.reply_text(DUE_USAGE)
        return
    found = await asyncio.to_thread(rt.service.due, int(year.group(1)), rt.audience(update))
    await reply_tasks(update, rt, found, f"{year.group(1)}年到期的任务")


@staff_only
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload — re-ingest the sources in a worker thread; questions keep being answered meanwhile."""
    await update.effective_message.reply_text("正在重新加载文件……")
    started = time.monotonic()
    await asyncio.to_thread(runtime(context).service.reload)
    log.info("reload %s ms=%d", _ids(update), (time.monotonic() - started) * 1000)
    await update.effective_message.reply_text("已重新加载。")


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice and the like: a hint to ask in words."""
    await update.effective_message.reply_text(NON_TEXT)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log the failure (ids only) and apologise to the user, never a traceback."""
    ids = _ids(update) if isinstance(update, Update) else "update=None"
    log.error("update failed %s: %s", ids, type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(ERROR_REPLY)


async def _publish_commands(application: Application) -> None:
    try:
        await application.bot.set_my_commands(PUBLIC_COMMANDS)
    except TelegramError as error:  # the menu is a convenience; the bot works without it
        log.warning("could not publish the command menu: %s", type(error).__name__)


def file_base_url(base_url: str) -> str:
    """https://api.telegram.org/bot -> https://api.telegram.org/file/bot (and likewise for a local server)."""
    head, slash, last = base_url.rstrip("/").rpartition("/")
    return f"{head}{slash}file/{last}"


def build_application(settings: Settings, service: Service) -> Application:
    """The whole bot: connection, limits, concurrency, every handler and the error handler."""
    base_url = settings.telegram_api_base_url
    application = (
        Application.builder()
        .token(settings.telegram_bot_token or "")
        .base_url(base_url)
        .base_file_url(file_base_url(base_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_publish_commands)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = Runtime(
        settings, service, Conversations(settings.session_ttl_seconds),
        QuestionLimiter(settings.public_questions_per_minute))
    new = filters.UpdateType.MESSAGE
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    for name, handler in [("start", start), ("help", help_command), ("ask", ask), ("sources", sources),
                          ("show", show), ("tasks", tasks), ("overdue", overdue), ("due", due), ("reload", reload)]:
        application.add_handler(CommandHandler(name, handler, filters=new))
    application.add_handler(MessageHandler(new & private & filters.TEXT & ~filters.COMMAND, private_text))
    application.add_handler(MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND, group_text))
    application.add_handler(MessageHandler(new & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, non_text))
    application.add_handler(CallbackQueryHandler(open_citation, pattern=f"^{tg_render.CLAUSE_CALLBACK_PREFIX}:"))
    store = ReminderStore(settings.data_dir / STORE_FILE)
    add_reminders(application, ChatCore(settings, service, Reminders(service, store)))
    application.add_error_handler(on_error)
    return application
