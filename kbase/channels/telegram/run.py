"""Starting the Telegram bot: token checks before the index is opened, then polling or a webhook until a signal."""
from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sys
import time
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from kbase.channels.logs import configure_logging
from kbase.channels.telegram.bot import build_application, file_base_url
from kbase.service import Service
from kbase.settings import Settings

log = logging.getLogger("policybot.telegram")
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")


def token_problem(token: str | None) -> str | None:
    """A bilingual message when the token is missing or malformed (never echoing it), else None."""
    if not token:
        return ("未设置 Telegram 机器人令牌：请设置环境变量 TELEGRAM_BOT_TOKEN（向 @BotFather 申请）。\n"
                "Telegram bot token missing: set TELEGRAM_BOT_TOKEN (get one from @BotFather).")
    if not TOKEN_PATTERN.fullmatch(token.strip()):
        return ("TELEGRAM_BOT_TOKEN 格式不正确，应形如 123456789:AAH…（数字、冒号、字母数字串）。\n"
                "TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:AAH… (digits, colon, letters).")
    return None


def startup_problem(error: TelegramError, settings: Settings) -> str:
    """A bilingual message for a token Telegram rejects or a Bot API that cannot be reached."""
    if isinstance(error, InvalidToken):
        return "Telegram 拒绝了该令牌，请检查 TELEGRAM_BOT_TOKEN。\nTelegram rejected the token: check TELEGRAM_BOT_TOKEN."
    return (f"无法连接 Telegram Bot API（{settings.telegram_api_base_url}）：{type(error).__name__}\n"
            f"Cannot reach the Telegram Bot API at {settings.telegram_api_base_url}.")


def _check_token_with_telegram(settings: Settings) -> str | None:
    """getMe before the (possibly minutes-long) index build, so a bad token fails at once."""
    async def get_me() -> None:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url,
                       base_file_url=file_base_url(settings.telegram_api_base_url)):
            pass
    try:
        asyncio.run(get_me())
    except (InvalidToken, NetworkError) as error:
        return startup_problem(error, settings)
    return None


def run_telegram(settings: Settings, webhook_url: str | None = None, listen: str = "127.0.0.1",
                 port: int = 8443) -> int:
    """Run the bot (long polling, or a webhook when webhook_url is given) until SIGINT/SIGTERM; the exit code."""
    configure_logging(settings.log_level)  # POLICYBOT_LOG_LEVEL=INFO shows the bot's and python-telegram-bot's lines
    if problem := token_problem(settings.telegram_bot_token):
        print(problem, file=sys.stderr)
        return 1
    settings = settings.model_copy(update={"telegram_bot_token": settings.telegram_bot_token.strip()})
    if problem := _check_token_with_telegram(settings):
        print(problem, file=sys.stderr)
        return 1
    started = time.monotonic()
    service = Service(settings, long_running=True)
    log.info("knowledge base ready in %.1fs", time.monotonic() - started)
    application = build_application(settings, service)
    allowed = [Update.MESSAGE, Update.CALLBACK_QUERY]
    try:
        if webhook_url:
            application.run_webhook(listen=listen, port=port, url_path=urlsplit(webhook_url).path.lstrip("/"),
                                    webhook_url=webhook_url, secret_token=secrets.token_urlsafe(32),
                                    allowed_updates=allowed, bootstrap_retries=3)
        else:
            application.run_polling(allowed_updates=allowed, bootstrap_retries=3)
    except (InvalidToken, NetworkError) as error:
        print(startup_problem(error, settings), file=sys.stderr)
        return 1
    log.info("stopped")
    return 0
