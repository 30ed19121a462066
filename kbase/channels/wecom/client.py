"""Sending to WeCom users through the application's message/send API, with wechatpy's client: it fetches the
access token, caches it until shortly before it expires and, when WeCom calls a token invalid, fetches a new one
and retries once. The API base is a setting (a proxy, or a fake server in tests)."""
from __future__ import annotations

import logging

from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from kbase.channels.staffchat.markdown import split_utf8
from kbase.settings import Settings

log = logging.getLogger("policybot.wecom")
MESSAGE_BYTES = 2048  # markdown.content and text.content are each limited to 2048 UTF-8 bytes
TIMEOUT_SECONDS = 10


class WeComClient(WeChatClient):
    def __init__(self, settings: Settings):
        self.API_BASE_URL = settings.wecom_api_base_url.rstrip("/") + "/cgi-bin/"
        super().__init__(settings.wecom_corp_id, settings.wecom_secret.get_secret_value() if settings.wecom_secret
                         else "", timeout=TIMEOUT_SECONDS)
        self.agent_id = settings.wecom_agent_id

    def fetch_access_token(self):
        """wechatpy's own method, at the configured base instead of its fixed qyapi.weixin.qq.com."""
        return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})

    def send_markdown_parts(self, user_id: str, text: str) -> bool:
        """Sends `text` as Markdown messages under WeCom's limit, in order; False (logged) when WeCom refused one."""
        try:
            for part in split_utf8(text, MESSAGE_BYTES):
                self.message.send_markdown(self.agent_id, [user_id], part)
        except (WeChatClientException, OSError) as exc:  # requests' connection errors are OSErrors
            log.error("wecom send failed user=%s: %s", user_id, getattr(exc, "errmsg", None) or type(exc).__name__)
            return False
        return True
