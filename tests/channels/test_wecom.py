"""The WeCom channel end to end: the real `bot.py serve` in a child process, WeCom's callbacks encrypted and signed
as WeCom's published scheme says, and its replies sent to a fake WeCom API on 127.0.0.1."""
from __future__ import annotations

import itertools
import time

import httpx
import pytest

from kbase.bench.webserver import ServeProcess
from tests.channels.conftest import STAFF_TOKEN, remind
from tests.fakes import fake_wecom
from tests.fakes.fake_wecom import FakeWeComApi, callback, text_message_xml

STAFF_USER, PUBLIC_USER = "zhang.san", "li.si"
INTERNAL_QUESTION = "青松化工园区夜间突击督查什么时候完成？"
message_ids = itertools.count(7_000_000_000_000_000_000)


@pytest.fixture(scope="module")
def fake_api():
    with FakeWeComApi() as api:
        yield api


@pytest.fixture(scope="module")
def wecom_env(web_env, fake_api, own_data_dir):
    env = web_env(public_questions_per_minute="1000", wecom_corp_id=fake_wecom.CORP_ID,
                  wecom_agent_id=str(fake_wecom.AGENT_ID), wecom_secret=fake_wecom.SECRET, wecom_token=fake_wecom.TOKEN,
                  wecom_aes_key=fake_wecom.AES_KEY, wecom_api_base_url=fake_api.url, wecom_staff_ids=STAFF_USER)
    return {**env, "POLICYBOT_DATA_DIR": str(own_data_dir)}


@pytest.fixture(scope="module")
def server(wecom_env):
    with ServeProcess(wecom_env) as running:
        yield running


def post(server, user: str, text: str, **callback_options) -> httpx.Response:
    query, body = callback(text_message_xml(user, text, next(message_ids)), **callback_options)
    return httpx.post(f"{server.url}/wecom/callback", params=query, content=body, timeout=30)


def ask(server, fake_api, user: str, text: str, complete=lambda replies: replies) -> list[str]:
    """Sends a message and waits (bounded) until the replies sent to `user` after it are `complete`."""
    before = len(fake_api.texts(user))
    assert post(server, user, text).status_code == 200
    return fake_api.wait_until(lambda: complete(fake_api.texts(user)[before:]))


def test_the_callback_url_is_verified_with_the_decrypted_echostr_and_a_bad_signature_is_403(server):
    echo = "1616140317555161061"
    encrypted = fake_wecom.encrypt(echo)
    stamp, nonce = str(int(time.time())), "263014780"
    good = {"msg_signature": fake_wecom.signature(fake_wecom.TOKEN, stamp, nonce, encrypted), "timestamp": stamp,
            "nonce": nonce, "echostr": encrypted}
    response = httpx.get(f"{server.url}/wecom/callback", params=good)
    assert response.status_code == 200 and response.text == echo
    forged = {**good, "msg_signature": "0" * 40}
    assert httpx.get(f"{server.url}/wecom/callback", params=forged).status_code == 403


def test_a_question_is_answered_through_message_send_with_its_citation_and_a_follow_up(server, fake_api):
    [answer] = ask(server, fake_api, STAFF_USER, "煤电结构优化升级由哪个部门牵头？")
    assert "市发展改革委" in answer and "三(一)1" in answer and "开封市环境质量提升行动方案" in answer
    [follow_up] = ask(server, fake_api, STAFF_USER, "那配合单位呢？")
    assert "市工业和信息化局" in follow_up
    message = fake_api.sent(STAFF_USER)[-1]
    assert message["msgtype"] == "markdown" and message["agentid"] == fake_wecom.AGENT_ID
    token_fetches = fake_api.calls("/cgi-bin/gettoken")
    assert len(token_fetches) == 1  # cached between messages


def test_internal_documents_reach_configured_staff_only(server, fake_api):
    [staff] = ask(server, fake_api, STAFF_USER, INTERNAL_QUESTION)
    [public] = ask(server, fake_api, PUBLIC_USER, INTERNAL_QUESTION)
    assert "2024年9月底前" in staff
    assert "涉气企业" not in public and "内部督办" not in public


def test_a_long_answer_is_split_within_wecom_limits(server, fake_api):
    parts = ask(server, fake_api, STAFF_USER, "原文 三(一)2",  # the whole clause: about 9,000 bytes
                complete=lambda replies: replies and "第180批" in replies[-1] and replies)
    assert len(parts) > 1 and all(len(p.encode()) <= fake_wecom.CONTENT_BYTES for p in parts)
    assert "".join(parts).count("深度治理") == 180
    assert not [r for r in fake_api.calls("/cgi-bin/message/send") if r.reply["errcode"] == 45002]


def test_an_expired_access_token_is_fetched_again_and_the_answer_still_sent(server, fake_api):
    fetches = len(fake_api.calls("/cgi-bin/gettoken"))
    fake_api.expire_token()
    [answer] = ask(server, fake_api, STAFF_USER, "开封市2025年细颗粒物浓度目标是多少？")
    assert "40微克/立方米" in answer and len(fake_api.calls("/cgi-bin/gettoken")) == fetches + 1


def test_bad_signatures_stale_replayed_and_malformed_messages_get_no_answer(server, fake_api):
    user = "mallory"
    before = len(fake_api.calls("/cgi-bin/message/send"))
    forged = post(server, user, "PM2.5目标是多少？", token="not-the-token")
    stale = post(server, user, "PM2.5目标是多少？", timestamp=int(time.time()) - 7200)
    other_key = post(server, user, "PM2.5目标是多少？", aes_key="A" * 43)
    query, body = callback(text_message_xml(user, "PM2.5目标是多少？", next(message_ids)))
    first = httpx.post(f"{server.url}/wecom/callback", params=query, content=body)
    replayed = httpx.post(f"{server.url}/wecom/callback", params=query, content=body)
    garbage = httpx.post(f"{server.url}/wecom/callback", params=query, content=b"<xml><not-closed>")
    assert (forged.status_code, stale.status_code, other_key.status_code) == (403, 403, 400)
    assert first.status_code == 200 and replayed.status_code == 200 and garbage.status_code == 400
    # the one genuine message is answered once; then a sentinel's answer shows that nothing else was queued
    fake_api.wait_until(lambda: fake_api.texts(user))
    ask(server, fake_api, user, "那配合单位呢？")
    to_mallory = [m for m in fake_api.sent(user)]
    assert len(to_mallory) == 2 and len(fake_api.calls("/cgi-bin/message/send")) >= before + 2
    log = server.stderr()
    assert "bad signature" in log and "stale timestamp" in log and "seen before" in log and "Traceback" not in log
    assert "PM2.5" not in log  # message texts are never logged


def test_staff_subscribe_remind_sends_each_reminder_once_and_the_public_cannot_subscribe(server, fake_api, wecom_env):
    [refused] = ask(server, fake_api, PUBLIC_USER, "订阅提醒 市生态环境局")
    assert "仅限工作人员" in refused
    [confirmed] = ask(server, fake_api, STAFF_USER, "订阅提醒 环保局")
    assert "已订阅「市生态环境局」" in confirmed
    [listed] = ask(server, fake_api, STAFF_USER, "我的订阅")
    assert "市生态环境局" in listed
    before = len(fake_api.texts(STAFF_USER))
    dry = remind(wecom_env, "--dry-run")
    assert [(r["ref"], r["threshold"]) for r in dry] == [("一(一)1", "overdue")]  # the internal task, due 2024-09-30
    assert len(fake_api.texts(STAFF_USER)) == before  # a dry run sends nothing
    sent = remind(wecom_env)
    assert sent == dry
    digest = fake_api.wait_until(lambda: fake_api.texts(STAFF_USER)[before:])
    assert "一(一)1" in digest[0] and "已逾期" in digest[0] and "青松化工园区涉气企业" in digest[0]
    assert remind(wecom_env) == []  # already sent: nothing twice
    [done] = ask(server, fake_api, STAFF_USER, "完成 一(一)1")
    assert "已标记完成" in done and "2024-09-30" in done
    calendar = httpx.get(f"{server.url}/calendar/市生态环境局.ics", params={"token": STAFF_TOKEN})
    assert calendar.status_code == 200 and "【已完成】一(一)1" in calendar.text.replace("\r\n ", "")
    [ended] = ask(server, fake_api, STAFF_USER, "取消订阅")
    assert "已取消订阅：市生态环境局" in ended

