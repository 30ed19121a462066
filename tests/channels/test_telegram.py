"""The real PTB Application against a fake Bot API on 127.0.0.1, over a real Service on a small temp corpus."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kbase.channels.telegram.bot import ERROR_REPLY, NON_TEXT, STAFF_ONLY, build_application
from kbase.service import Service
from kbase.settings import Settings
from tests.deciding import LENIENT_THRESHOLD
from tests.fakes.fake_bot_api import BOT_ID, BOT_USERNAME, TOKEN, FakeBotApi, parse_telegram_html
from tests.waiting import holds, holds_async

REPO = Path(__file__).resolve().parents[2]
STAFF, CITIZEN, NEIGHBOUR = 1001, 2002, 3003
GROUP = -100777

@pytest.fixture(scope="module")
def base_settings(corpus, tmp_path_factory) -> Settings:
    return Settings(corpus_dir=corpus, data_dir=tmp_path_factory.mktemp("data"), embeddings="e5-small",
                    today="2025-03-01", telegram_bot_token=TOKEN, staff_ids=frozenset({STAFF}),
                    public_questions_per_minute=20, answer_threshold=LENIENT_THRESHOLD)


@pytest.fixture(scope="module")
def service(base_settings) -> Service:
    return Service(base_settings)


@pytest.fixture
def api():
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def anyio_backend():
    return "asyncio"


@contextlib.asynccontextmanager
async def running(settings: Settings, service: Service):
    """The bot as run_polling runs it (post_init, start, polling), in this test's event loop."""
    application = build_application(settings, service)
    async with application:
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


def at(settings: Settings, api: FakeBotApi, **changes) -> Settings:
    return settings.model_copy(update={"telegram_api_base_url": api.base_url, **changes})


async def replies(api: FakeBotApi, chat_id: int, count: int = 1) -> list:
    """The bot's first `count` messages to a chat, once they have all been sent."""
    return (await api.until(lambda: (sent := api.calls("sendMessage", chat_id)) and len(sent) >= count and sent))[:count]


def shown(call) -> str:
    return parse_telegram_html(call.text)


@pytest.mark.anyio
async def test_start_greets_and_publishes_the_command_menu(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("/start", CITIZEN)
        [reply] = await replies(api, CITIZEN)
    assert "您好" in shown(reply) and "/ask" in shown(reply) and "开封市2025年PM2.5目标是多少？" in shown(reply)
    commands = [c["command"] for c in api.calls("setMyCommands")[0].json("commands")]
    assert {"ask", "help", "show", "sources"} <= set(commands) and "reload" not in commands


@pytest.mark.anyio
async def test_a_question_is_answered_with_a_citation_and_a_button_that_opens_the_clause(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("开封市2025年细颗粒物浓度目标是多少？", CITIZEN)
        answer = (await replies(api, CITIZEN))[-1]
        assert "40微克/立方米" in shown(answer)
        assert "c:0:二" in answer.callback_data
        api.press_button(CITIZEN, api.sent_message(answer), "c:0:二")
        clause = (await replies(api, CITIZEN, 2))[1]
        await api.until(lambda: api.calls("answerCallbackQuery"))
    assert "二、主要目标" in shown(clause) and "优良天数比例达到70%" in shown(clause)


@pytest.mark.anyio
async def test_in_a_group_the_bot_answers_mentions_replies_and_ask_only(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("大家好，今天开会。", NEIGHBOUR, GROUP, "supergroup")
        api.send_text(f"@{BOT_USERNAME} 煤电结构优化升级由哪个部门牵头？", CITIZEN, GROUP, "supergroup")
        first = (await replies(api, GROUP))[0]
        bot_message = api.sent_message(first)
        api.send_text("饮用水水源地保护由哪个部门牵头？", NEIGHBOUR, GROUP, "supergroup", reply_to=bot_message)
        api.send_text("/ask 2025年优良天数比例目标是多少？", NEIGHBOUR, GROUP, "supergroup")
        answers = [shown(c) for c in await replies(api, GROUP, 3)]
        assert await holds_async(lambda: len(api.calls("sendMessage", GROUP)) == 3)  # the plain message got no answer
    assert "市发展改革委" in answers[0]
    assert any("市水利局" in a for a in answers[1:]) and any("70%" in a for a in answers[1:])


@pytest.mark.anyio
async def test_a_long_clause_is_split_into_valid_html_messages_under_the_limit(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("/show 三（一）2", CITIZEN)
        # the fake rejects broken markup with 400, and parse raises
        whole = lambda: "".join(shown(p) for p in api.calls("sendMessage", CITIZEN))  # noqa: E731
        text = await api.until(lambda: "".join(whole().split()).count("稳定达标。") >= 180 and whole())
    parts = api.calls("sendMessage", CITIZEN)
    assert len(parts) >= 2 and all(len(p.text) < 4096 for p in parts)
    assert "<10毫克/立方米&稳定达标" in text and "&lt;" in parts[0].text
    assert "".join(text.split()).count("稳定达标。") == 180


@pytest.mark.anyio
async def test_internal_documents_reach_staff_in_private_and_never_the_public(api, base_settings, service):
    question = "青松化工园区夜间突击督查什么时候完成？"
    async with running(at(base_settings, api), service):
        api.send_text(question, STAFF)
        api.send_text(question, CITIZEN)
        staff_answer, public_answer = (await replies(api, STAFF))[0], (await replies(api, CITIZEN))[0]
        api.send_text("/sources", CITIZEN)
        api.send_text("/sources", STAFF)
        public_sources, staff_sources = (await replies(api, CITIZEN, 2))[1], (await replies(api, STAFF, 2))[1]
    assert "2024年9月底前" in shown(staff_answer) and "内部督办" in shown(staff_answer)
    assert "青松化工园区涉气企业" not in shown(public_answer) and "内部督办" not in shown(public_answer)
    assert "c:1:" in "".join(staff_answer.callback_data) and not any(d.startswith("c:1:") for d in public_answer.callback_data)
    assert "内部督办" in shown(staff_sources) and "内部督办" not in shown(public_sources)


@pytest.mark.anyio
async def test_a_public_user_cannot_open_an_internal_clause_by_forged_button(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("/help", CITIZEN)
        help_message = api.sent_message((await replies(api, CITIZEN))[0])
        api.press_button(CITIZEN, help_message, "c:1:一(一)1")
        reply = (await replies(api, CITIZEN, 2))[1]
    assert "未找到该条款" in shown(reply) and "青松" not in shown(reply)


@pytest.mark.anyio
async def test_show_names_a_document_by_part_of_its_title_and_respects_the_audience(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("/show 内部督办 一（一）1", STAFF)
        api.send_text("/show 内部督办 一（一）1", CITIZEN)
        [staff], [citizen] = await replies(api, STAFF), await replies(api, CITIZEN)
    assert "《开封市生态环境局内部督办工作安排》一(一)1" in shown(staff) and "涉气企业" in shown(staff)
    assert "未找到该条款" in shown(citizen)


@pytest.mark.anyio
async def test_staff_commands_are_refused_to_the_public_and_work_for_staff(api, base_settings, service):
    async with running(at(base_settings, api), service):
        for command in ("/tasks", "/overdue", "/due 2025", "/reload"):
            api.send_text(command, CITIZEN)
        api.send_text("/tasks 市水利局", STAFF)
        refusals = await replies(api, CITIZEN, 4)
        [tasks] = await replies(api, STAFF)
        api.send_text("/due 2024年", STAFF)
        due = (await replies(api, STAFF, 2))[1]
    assert all(shown(r) == STAFF_ONLY for r in refusals)
    assert "三(二)1" in shown(tasks) and "三(一)1" not in shown(tasks)
    assert "三(一)1" in shown(due) and "2024年年底前" in shown(due)


@pytest.mark.anyio
async def test_public_questions_are_limited_per_user_and_staff_are_not(api, base_settings, service):
    async with running(at(base_settings, api, public_questions_per_minute=2), service):
        for _ in range(3):
            api.send_text("开封市2025年优良天数比例目标是多少？", CITIZEN)
            api.send_text("开封市2025年优良天数比例目标是多少？", STAFF)
        citizen, staff = await replies(api, CITIZEN, 3), await replies(api, STAFF, 3)
    assert sum("请稍后再问" in shown(c) for c in citizen) == 1
    assert not any("请稍后再问" in shown(c) for c in staff)


class BrokenIndexService(Service):
    """The real Service whose answering hits a fault, as a corrupt index would cause."""

    def answer(self, question, audience="staff", session=None):
        raise OSError("index file unreadable")


@pytest.mark.anyio
async def test_a_failure_while_answering_reaches_the_one_error_handler(api, base_settings, caplog):
    caplog.set_level(logging.INFO, logger="policybot.telegram")
    question = "开封市2025年优良天数比例目标是多少？"
    async with running(at(base_settings, api), BrokenIndexService(base_settings)):
        api.send_text(question, CITIZEN)
        [reply] = await replies(api, CITIZEN)
        api.send_text("/start", CITIZEN)
        await replies(api, CITIZEN, 2)
    assert shown(reply) == ERROR_REPLY
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failures and f"user={CITIZEN}" in failures[0].getMessage() and failures[0].exc_info[0] is OSError
    assert not any(question in r.getMessage() for r in caplog.records)  # citizens' texts stay out of logs


class SlowService(Service):
    """The real Service; one question takes as long as the test wants, as a slow LLM call would."""

    release = threading.Event()

    def answer(self, question, audience="staff", session=None):
        if "慢" in question:
            self.release.wait(10)
        return super().answer(question, audience, session)


@pytest.mark.anyio
async def test_a_slow_question_does_not_hold_up_other_chats(api, base_settings):
    async with running(at(base_settings, api), SlowService(base_settings)):
        api.send_text("慢慢说：开封市2025年优良天数比例目标是多少？", NEIGHBOUR)
        await api.until(lambda: api.calls("sendChatAction", NEIGHBOUR))
        api.send_text("开封市2025年细颗粒物浓度目标是多少？", CITIZEN)
        [fast] = await replies(api, CITIZEN)
        assert not api.calls("sendMessage", NEIGHBOUR)
        SlowService.release.set()
        [slow] = await replies(api, NEIGHBOUR)
    assert "40微克/立方米" in shown(fast) and "70%" in shown(slow)


@pytest.mark.anyio
async def test_outgoing_messages_wait_out_telegrams_retry_after(api, base_settings, service):
    api.fail_next("sendMessage", retry_after=1)
    async with running(at(base_settings, api), service):
        api.send_text("/help", CITIZEN)
        [reply] = await replies(api, CITIZEN)
    refused = api.failed("sendMessage")
    assert refused and reply.at - refused[0].at >= 1.0 and "/show" in shown(reply)


@pytest.mark.anyio
async def test_stickers_and_photos_get_a_hint(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_sticker(CITIZEN)
        [reply] = await replies(api, CITIZEN)
    assert shown(reply) == NON_TEXT


@pytest.mark.anyio
async def test_a_follow_up_resolves_against_the_previous_answer_until_it_expires(api, base_settings, service):
    async with running(at(base_settings, api), service):
        api.send_text("煤电结构优化升级由哪个部门牵头？", CITIZEN)
        await replies(api, CITIZEN)
        api.send_text("那配合单位呢？", CITIZEN)
        follow_up = (await replies(api, CITIZEN, 2))[1]
    assert "市工业和信息化局" in shown(follow_up) and "市生态环境局配合" not in shown(follow_up)
    async with running(at(base_settings, api, session_ttl_seconds=0), service):
        api.send_text("煤电结构优化升级由哪个部门牵头？", NEIGHBOUR)
        await replies(api, NEIGHBOUR)
        await asyncio.sleep(0.05)
        api.send_text("那配合单位呢？", NEIGHBOUR)
        expired = (await replies(api, NEIGHBOUR, 2))[1]
    assert shown(expired) != shown(follow_up)


# ---- the real process: python bot.py telegram ------------------------------------------------------

def _env(settings: Settings, api: FakeBotApi, token: str | None = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "TELEGRAM_"))}
    env.update({"POLICYBOT_DATA_DIR": str(settings.data_dir), "POLICYBOT_CORPUS_DIR": str(settings.corpus_dir),
                "POLICYBOT_EMBEDDINGS": settings.embeddings, "POLICYBOT_STAFF_IDS": str(STAFF),
                "POLICYBOT_ANSWER_THRESHOLD": str(settings.answer_threshold),
                "TELEGRAM_API_BASE_URL": api.base_url})
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    return env


def _bot(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "bot.py", "telegram", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_bot_process_answers_and_stops_cleanly_on_sigterm(api, base_settings, service):
    process = _bot(_env(base_settings, api))
    try:
        api.send_text("/start", CITIZEN)
        api.wait_until(lambda: api.calls("sendMessage", CITIZEN), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_log_level_info_shows_the_bots_own_lines_but_never_the_token(api, base_settings, service):
    process = _bot({**_env(base_settings, api), "POLICYBOT_LOG_LEVEL": "info"})
    try:
        api.send_text("/start", CITIZEN)
        api.wait_until(lambda: api.calls("sendMessage", CITIZEN), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert " INFO telegram.ext" in stderr and " INFO policybot.telegram" in stderr, stderr
    assert TOKEN not in stderr


def test_webhook_mode_checks_telegrams_secret_token(api, base_settings, service):
    port = _free_port()
    process = _bot(_env(base_settings, api), "--webhook-url", f"http://127.0.0.1:{port}/tg-hook",
                   "--listen", "127.0.0.1", "--port", str(port))
    try:
        [hook] = api.wait_until(lambda: api.calls("setWebhook"), timeout=60)
        assert len(hook.params["secret_token"]) >= 32
        api.send_text("/start", CITIZEN)  # delivered by POST with the secret header, as Telegram does
        api.wait_until(lambda: api.calls("sendMessage", CITIZEN))
        forged = {"update_id": 999, "message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                                                 "chat": {"id": NEIGHBOUR, "type": "private"},
                                                 "from": {"id": NEIGHBOUR, "is_bot": False, "first_name": "x"},
                                                 "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        wrong = httpx.post(f"http://127.0.0.1:{port}/tg-hook", json=forged,
                           headers={"X-Telegram-Bot-Api-Secret-Token": "guessed"})
        missing = httpx.post(f"http://127.0.0.1:{port}/tg-hook", json=forged)
        assert holds(lambda: not api.calls("sendMessage", NEIGHBOUR))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert api.webhook_statuses == [200] and wrong.status_code == 403 and missing.status_code == 403
    assert not api.calls("sendMessage", NEIGHBOUR)
    assert process.returncode == 0, stderr


@pytest.mark.parametrize("token, says", [(None, "未设置"), ("12345", "格式不正确"), ("123456:short", "格式不正确")])
def test_a_missing_or_malformed_token_is_a_clear_error_and_exit_1(api, base_settings, token, says):
    result = subprocess.run([sys.executable, "bot.py", "telegram"], cwd=REPO, env=_env(base_settings, api, token),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert says in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert not api.calls() and not api.failed()  # rejected before any network call


def test_a_token_telegram_rejects_is_a_clear_error_and_exit_1(api, base_settings, service):
    rejected = f"{BOT_ID}:{'x' * 35}"
    result = subprocess.run([sys.executable, "bot.py", "telegram"], cwd=REPO,
                            env=_env(base_settings, api, rejected), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "拒绝" in result.stderr and "Traceback" not in result.stderr and rejected not in result.stderr
    assert [c.method for c in api.failed()] == ["getMe"] and not api.calls()


@pytest.mark.anyio
async def test_staff_subscribe_in_a_chat_and_its_digest_is_sent_once(api, base_settings, service, tmp_path):
    settings = at(base_settings, api, data_dir=tmp_path)  # reminders of its own; the index stays the module's
    async with running(settings, service):
        api.send_text("/subscribe 环保局", CITIZEN)
        api.send_text("/subscribe 环保局", STAFF)
        [refused] = await replies(api, CITIZEN)
        [confirmed] = await replies(api, STAFF)
    assert STAFF_ONLY in shown(refused) and "已订阅「市生态环境局」" in shown(confirmed)
    # the subscription lives in tmp_path: a second bot on it sends the digest as it starts, and only once
    async with running(settings, service):
        [_, digest] = await replies(api, STAFF, 2)
        assert "【期限提醒】" in shown(digest) and "一(一)1" in shown(digest) and "已逾期" in shown(digest)
        api.send_text("/done 一(一)1", STAFF)
        [*_, done] = await replies(api, STAFF, 3)
    assert "已标记完成" in shown(done)
    async with running(settings, service):
        api.send_text("/subscriptions", STAFF)
        [*_, listed] = await replies(api, STAFF, 4)
    assert "市生态环境局" in shown(listed)
    assert len([c for c in api.calls("sendMessage", STAFF) if "【期限提醒】" in shown(c)]) == 1


def test_bot_py_remind_delivers_to_telegram_through_the_bot_api(api, base_settings):
    from kbase.channels.staffchat.delivery import deliverers
    from kbase.reminders.store import Subscription
    deliver = deliverers(at(base_settings, api))["telegram"]
    subscription = Subscription(1, "telegram", str(GROUP), "市生态环境局", str(STAFF), "2025-03-01T00:00:00+00:00")
    assert deliver(subscription, ["【期限提醒】市生态环境局", "• 一(一)1 督查 <夜间> & 突击"])
    [sent] = api.calls("sendMessage", GROUP)
    assert shown(sent) == "【期限提醒】市生态环境局\n• 一(一)1 督查 <夜间> & 突击"  # escaped for HTML mode
    assert not deliverers(at(base_settings, api, telegram_bot_token="123:wrong"))["telegram"](subscription, ["x"])
