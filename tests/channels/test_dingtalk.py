"""The DingTalk robot channel end to end: the real `bot.py serve` in a child process, callbacks signed as DingTalk
signs them, replies in the response body or through the sessionWebhook of a fake DingTalk on 127.0.0.1."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from kbase.bench.webserver import ServeProcess
from kbase.channels.dingtalk.client import MESSAGE_BYTES
from tests.channels.conftest import remind
from tests.fakes import fake_dingtalk
from tests.fakes.fake_dingtalk import FakeDingTalk

STAFF_ID, OTHER_ID = "manager1234", "clerk5678"
INTERNAL_QUESTION = "青松化工园区夜间突击督查什么时候完成？"


@pytest.fixture(scope="module")
def fake():
    with FakeDingTalk() as api:
        yield api


@pytest.fixture(scope="module")
def dingtalk_env(web_env, fake, own_data_dir):
    env = web_env(public_questions_per_minute="1000", dingtalk_app_secret=fake_dingtalk.APP_SECRET,
                  dingtalk_app_key=fake_dingtalk.APP_KEY, dingtalk_api_base_url=fake.url, dingtalk_staff_ids=STAFF_ID)
    return {**env, "POLICYBOT_DATA_DIR": str(own_data_dir)}


@pytest.fixture(scope="module")
def server(dingtalk_env):
    with ServeProcess(dingtalk_env) as running:
        yield running


def send(server, body: dict, headers: dict | None = None) -> httpx.Response:
    return httpx.post(f"{server.url}/dingtalk/callback", content=json.dumps(body, ensure_ascii=False).encode(),
                      headers=FakeDingTalk.headers() if headers is None else headers, timeout=30)


def answer(server, fake, text: str, **message) -> str:
    response = send(server, fake.message(text, **message))
    assert response.status_code == 200 and response.json()["msgtype"] == "markdown", response.text
    return response.json()["markdown"]["text"]


def test_a_question_is_answered_in_the_response_with_its_citation_and_a_follow_up(server, fake):
    first = answer(server, fake, "煤电结构优化升级由哪个部门牵头？")
    assert "市发展改革委" in first and "三(一)1" in first and "开封市环境质量提升行动方案" in first
    assert "市工业和信息化局" in answer(server, fake, "那配合单位呢？")
    other = answer(server, fake, "那配合单位呢？", staff_id=OTHER_ID)  # someone else's conversation
    assert "市工业和信息化局" not in other.split("**")[0]  # the answer itself, before the nearby clauses offered


def test_staff_get_internal_documents_in_a_one_to_one_chat_only(server, fake):
    assert "2024年9月底前" in answer(server, fake, INTERNAL_QUESTION)
    in_group = answer(server, fake, INTERNAL_QUESTION, private=False, conversation="cid-group")
    from_other = answer(server, fake, INTERNAL_QUESTION, staff_id=OTHER_ID)
    assert "涉气企业" not in in_group and "涉气企业" not in from_other


def test_a_long_reply_goes_to_the_session_webhook_in_parts(server, fake):
    message = fake.message("原文 三(一)2")
    response = send(server, message)
    assert response.status_code == 200 and response.json() == {}
    session = message["sessionWebhook"].rsplit("=", 1)[1]
    parts = fake.wait_until(lambda: (texts := fake.webhook_texts(session)) and "第180批" in texts[-1] and texts)
    assert len(parts) > 1 and all(len(p.encode()) <= MESSAGE_BYTES for p in parts)
    assert "".join(parts).count("深度治理") == 180


def test_a_bad_sign_or_a_stale_timestamp_is_403_and_nothing_is_sent(server, fake):
    hour_and_a_minute_ago = int(time.time() * 1000) - 3_660_000
    webhook_calls = len(fake.calls("/robot/sendBySession"))
    for headers in (FakeDingTalk.headers(secret="wrong-secret"), FakeDingTalk.headers(hour_and_a_minute_ago),
                    {"timestamp": "123", "sign": "x"}, {}):
        response = send(server, fake.message("原文 三(一)2"), headers)
        assert response.status_code == 403 and "markdown" not in response.text
    assert send(server, fake.message("原文 三(一)2"), FakeDingTalk.headers(int(time.time() * 1000) - 60_000)).json() == {}
    fake.wait_until(lambda: len(fake.calls("/robot/sendBySession")) > webhook_calls)  # the genuine one only
    log = server.stderr()
    assert "bad sign" in log and "stale timestamp" in log and "Traceback" not in log


def test_a_replayed_or_malformed_callback_gets_no_answer(server, fake):
    message = fake.message("开封市2025年细颗粒物浓度目标是多少？")
    assert "40微克/立方米" in send(server, message).json()["markdown"]["text"]
    assert send(server, message).json() == {}
    malformed = httpx.post(f"{server.url}/dingtalk/callback", content=b"{not json", headers=FakeDingTalk.headers())
    no_sender = send(server, {"msgtype": "text", "text": {"content": "你好"}})
    assert malformed.status_code == 400 and no_sender.status_code == 400
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_subscriptions_are_staff_only_and_reminders_go_out_through_the_robot_api(server, fake, dingtalk_env):
    assert "仅限工作人员" in answer(server, fake, "订阅提醒 市生态环境局", staff_id=OTHER_ID)
    assert "已订阅「市生态环境局」" in answer(server, fake, "订阅提醒 市生态环境局")
    assert "已订阅「市水利局」" in answer(server, fake, "订阅提醒 市水利局", private=False, conversation="cid-group")
    sent = remind(dingtalk_env)
    assert [(r["department"], r["ref"], r["threshold"]) for r in sent] == [("市生态环境局", "一(一)1", "overdue")]
    [reminder] = fake.robot_sends()
    assert reminder["userIds"] == [STAFF_ID] and "一(一)1" in reminder["msgParam"]["text"]
    assert remind(dingtalk_env) == [] and len(fake.robot_sends()) == 1
    june = remind({**dingtalk_env, "POLICYBOT_TODAY": "2025-06-25"})  # 水源地 due 2025-06-30
    assert sorted((r["department"], r["ref"], r["threshold"]) for r in june) == [
        ("市水利局", "三(二)1", "7d"), ("市生态环境局", "三(二)1", "7d")]
    to_group = [s for s in fake.robot_sends() if s.get("openConversationId") == "cid-group"]
    assert len(to_group) == 1 and "市水利局" in to_group[0]["msgParam"]["text"]

