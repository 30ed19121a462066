"""DingTalk Stream mode end to end: the real `bot.py serve` connects through the dingtalk-stream SDK to a fake
gateway on 127.0.0.1 (DINGTALK_OPENAPI_ENDPOINT), receives robot messages over the WebSocket, acknowledges them and
answers through each message's sessionWebhook at the fake DingTalk."""
from __future__ import annotations

import pytest

from kbase.bench.webserver import ServeProcess
from tests.fakes import fake_dingtalk
from tests.fakes.fake_dingtalk import FakeDingTalk
from tests.fakes.fake_dingtalk_gateway import FakeStreamGateway

STAFF_ID = "manager1234"


@pytest.fixture(scope="module")
def fake():
    with FakeDingTalk() as api, FakeStreamGateway(api.gateway_ticket) as gateway:
        api.gateway_url = gateway.url
        yield api, gateway


@pytest.fixture(scope="module")
def server(web_env, fake, own_data_dir):
    api, gateway = fake
    env = web_env(public_questions_per_minute="1000", dingtalk_app_secret=fake_dingtalk.APP_SECRET,
                  dingtalk_app_key=fake_dingtalk.APP_KEY, dingtalk_api_base_url=api.url, dingtalk_staff_ids=STAFF_ID,
                  dingtalk_stream="true")
    with ServeProcess({**env, "POLICYBOT_DATA_DIR": str(own_data_dir), "DINGTALK_OPENAPI_ENDPOINT": api.url}) as running:
        api.wait_until(lambda: gateway.connected)
        yield running


def exchange(fake, text: str, **message) -> tuple[dict, list[str]]:
    """Pushes one robot message; the gateway's ack and the replies posted to the message's sessionWebhook."""
    api, gateway = fake
    body = api.message(text, **message)
    message_id = gateway.push(body)
    ack = api.wait_until(lambda: gateway.ack(message_id))
    session = body["sessionWebhook"].rsplit("=", 1)[1]
    return ack, api.wait_until(lambda: api.webhook_texts(session))


def test_messages_over_the_stream_are_acknowledged_and_answered_with_follow_ups(server, fake):
    ack, [first] = exchange(fake, "煤电结构优化升级由哪个部门牵头？")
    assert ack["code"] == 200 and "市发展改革委" in first and "三(一)1" in first
    _, [follow_up] = exchange(fake, "那配合单位呢？")
    assert "市工业和信息化局" in follow_up


def test_staff_rights_hold_over_the_stream(server, fake):
    _, [staff] = exchange(fake, "青松化工园区夜间突击督查什么时候完成？")
    _, [group] = exchange(fake, "青松化工园区夜间突击督查什么时候完成？", private=False, conversation="cid-g")
    assert "2024年9月底前" in staff and "涉气企业" not in group


def test_a_message_without_a_sender_is_refused_in_the_ack_and_the_connection_lives_on(server, fake):
    api, gateway = fake
    bad = gateway.push({"msgtype": "text", "text": {"content": "你好"}})
    assert api.wait_until(lambda: gateway.ack(bad))["code"] == 400
    ack, [answer] = exchange(fake, "开封市2025年细颗粒物浓度目标是多少？")
    assert ack["code"] == 200 and "40微克/立方米" in answer
