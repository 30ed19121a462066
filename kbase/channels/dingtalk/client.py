"""Sending as the DingTalk robot where no message is there to answer (reminder digests): the OpenAPI's app access
token (fetched with the AppKey and AppSecret, cached until shortly before it expires, fetched again when refused)
and the robot's one-to-one and group message APIs. Replies to a message go to its sessionWebhook instead."""
from __future__ import annotations

import json
import logging
import threading
import time

import httpx

from kbase.channels.staffchat.markdown import split_utf8
from kbase.settings import Settings

log = logging.getLogger("policybot.dingtalk")
MESSAGE_BYTES = 6000  # well under the robot APIs' 15,000-byte msgParam, and readable on a phone
TITLE = "政策问答"
TIMEOUT_SECONDS = 10
GROUP_PREFIX = "group:"  # a subscription's target in a group chat: group:<openConversationId>


def markdown_message(text: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": TITLE, "text": text}}


class DingTalkClient:
    def __init__(self, settings: Settings):
        self.base = settings.dingtalk_api_base_url.rstrip("/")
        self.app_key = settings.dingtalk_app_key
        self.app_secret = settings.dingtalk_app_secret.get_secret_value() if settings.dingtalk_app_secret else ""
        self.robot_code = settings.dingtalk_robot_code or settings.dingtalk_app_key
        self.http = httpx.Client(timeout=TIMEOUT_SECONDS)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def can_send(self) -> bool:
        return bool(self.app_key and self.app_secret)

    def _access_token(self, fresh: bool = False) -> str:
        with self._lock:
            if fresh or self._token is None or self._token[1] - time.monotonic() < 60:
                response = self.http.post(f"{self.base}/v1.0/oauth2/accessToken",
                                          json={"appKey": self.app_key, "appSecret": self.app_secret})
                response.raise_for_status()
                data = response.json()
                self._token = (data["accessToken"], time.monotonic() + int(data.get("expireIn", 7200)))
            return self._token[0]

    def _post(self, path: str, body: dict) -> None:
        for attempt in (1, 2):
            headers = {"x-acs-dingtalk-access-token": self._access_token(fresh=attempt == 2)}
            response = self.http.post(f"{self.base}{path}", json=body, headers=headers)
            if response.status_code == 401 and attempt == 1:  # the token was revoked or expired early
                continue
            response.raise_for_status()
            return

    def send(self, target: str, text: str) -> bool:
        """Markdown to a user id, or to a group (group:<openConversationId>), in parts; False (logged) on failure."""
        try:
            for part in split_utf8(text, MESSAGE_BYTES):
                param = json.dumps({"title": TITLE, "text": part}, ensure_ascii=False)
                common = {"robotCode": self.robot_code, "msgKey": "sampleMarkdown", "msgParam": param}
                if target.startswith(GROUP_PREFIX):
                    self._post("/v1.0/robot/groupMessages/send",
                               {**common, "openConversationId": target.removeprefix(GROUP_PREFIX)})
                else:
                    self._post("/v1.0/robot/oToMessages/batchSend", {**common, "userIds": [target]})
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.error("dingtalk send failed target=%s: %s", target, type(exc).__name__)
            return False
        return True

    def reply(self, session_webhook: str, texts: list[str]) -> bool:
        """Replies through a message's sessionWebhook (valid for about 90 minutes; no token needed)."""
        try:
            for text in texts:
                for part in split_utf8(text, MESSAGE_BYTES):
                    response = self.http.post(session_webhook, json=markdown_message(part))
                    response.raise_for_status()
                    if response.json().get("errcode", 0) != 0:
                        raise ValueError(f"errcode {response.json().get('errcode')}")
        except (httpx.HTTPError, ValueError) as exc:
            log.error("dingtalk sessionWebhook reply failed: %s", type(exc).__name__)
            return False
        return True
