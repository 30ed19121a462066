"""A fake DingTalk on 127.0.0.1: the sessionWebhook a message carries, the OpenAPI's app access token, and the
robot's one-to-one and group send APIs; and the DingTalk side of the callback (headers signed as DingTalk signs)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from tests.fakes.recording_server import RecordingServer, Request

APP_KEY = "dingtestappkey0001"
APP_SECRET = "dingtalk-app-secret-for-tests-0123456789"
ROBOT_CODE = APP_KEY


def sign(timestamp: str, secret: str = APP_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()).decode()


class FakeDingTalk(RecordingServer):
    def __init__(self):
        super().__init__()
        self._ids = itertools.count(1)
        self.token: str | None = None
        self.gateway_url: str | None = None  # a FakeStreamGateway's WebSocket address, for Stream mode
        self.gateway_ticket = "stream-ticket-0001"

    def message(self, text: str, staff_id: str = "manager1234", private: bool = True, conversation: str = "cid-1",
                msg_id: str | None = None) -> dict:
        """The JSON DingTalk POSTs to the robot's callback for one text message."""
        number = next(self._ids)
        return {"conversationId": conversation, "chatbotCorpId": "dingcorp", "chatbotUserId": "$:LWCP_v1:$bot",
                "msgId": msg_id or f"msg{number:06d}", "senderNick": "张三", "isAdmin": False,
                "senderStaffId": staff_id, "sessionWebhookExpiredTime": int(time.time() * 1000) + 5_400_000,
                "createAt": int(time.time() * 1000), "senderCorpId": "dingcorp",
                "conversationType": "1" if private else "2", "senderId": f"$:LWCP_v1:${staff_id}",
                "conversationTitle": "" if private else "机器人测试群", "isInAtList": True,
                "sessionWebhook": f"{self.url}/robot/sendBySession?session=s{number}",
                "text": {"content": text}, "msgtype": "text"}

    @staticmethod
    def headers(timestamp_ms: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        return {"timestamp": stamp, "sign": sign(stamp, secret), "Content-Type": "application/json; charset=utf-8"}

    def webhook_texts(self, session: str | None = None) -> list[str]:
        return [r.json()["markdown"]["text"] for r in self.calls("/robot/sendBySession")
                if session is None or r.query.get("session") == session]

    def robot_sends(self) -> list[dict]:
        return [{**r.json(), "msgParam": json.loads(r.json()["msgParam"])} for r in self.calls()
                if r.path.startswith("/v1.0/robot/") and r.status == 200]

    def route(self, request: Request) -> tuple[int, Any]:
        if request.path == "/robot/sendBySession":
            body = request.json()
            if body.get("msgtype") not in ("text", "markdown") or not body.get(body["msgtype"]):
                return 200, {"errcode": 40035, "errmsg": "缺少参数 msgtype"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        if request.path == "/v1.0/gateway/connections/open":
            body = request.json()
            if (body.get("clientId"), body.get("clientSecret")) != (APP_KEY, APP_SECRET) or not self.gateway_url:
                return 401, {"code": "InvalidAuthentication", "message": "clientId or clientSecret"}
            return 200, {"endpoint": self.gateway_url, "ticket": self.gateway_ticket}
        if request.path == "/v1.0/oauth2/accessToken":
            body = request.json()
            if (body.get("appKey"), body.get("appSecret")) != (APP_KEY, APP_SECRET):
                return 400, {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"}
            self.token = f"dt-token-{next(self._ids)}"
            return 200, {"accessToken": self.token, "expireIn": 7200}
        if request.path in ("/v1.0/robot/oToMessages/batchSend", "/v1.0/robot/groupMessages/send"):
            if not self.token or request.headers.get("x-acs-dingtalk-access-token") != self.token:
                return 401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}
            body = request.json()
            if body.get("robotCode") != ROBOT_CODE or body.get("msgKey") != "sampleMarkdown":
                return 400, {"code": "invalidParameter", "message": "robotCode or msgKey"}
            if len(body["msgParam"].encode()) > 15000:
                return 400, {"code": "invalidParameter", "message": "msgParam too long"}
            return 200, {"processQueryKey": f"q{next(self._ids)}"}
        return 404, {"code": "notFound"}
