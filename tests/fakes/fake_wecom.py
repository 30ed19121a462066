"""A fake WeCom (企业微信) API on 127.0.0.1, and the WeCom side of the callback: messages encrypted and signed as
WeCom's published scheme says, written here with `cryptography` alone (not with wechatpy, which the bot uses), so
the test checks the bot against the scheme rather than against itself.

The API checks what WeCom checks: the corp id and secret on gettoken, a current access token on message/send
(42001 once the test expires it), the agent id, msgtype text or markdown, and content within 2048 bytes."""
from __future__ import annotations

import base64
import hashlib
import itertools
import os
import secrets
import struct
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.fakes.recording_server import RecordingServer, Request

CORP_ID = "ww0123456789abcdef"
AGENT_ID = 1000002
SECRET = "wecom-app-secret-for-tests"
TOKEN = "CallbackToken42"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 characters, as WeCom generates them
CONTENT_BYTES = 2048


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def _key(aes_key: str) -> bytes:
    return base64.b64decode(aes_key + "=")


def encrypt(plain: str, aes_key: str = AES_KEY, receiver: str = CORP_ID) -> str:
    """random(16) + len(4, network order) + msg + receiver id, PKCS#7 to 32 bytes, AES-256-CBC, IV = key[:16]."""
    body = plain.encode()
    data = os.urandom(16) + struct.pack(">I", len(body)) + body + receiver.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    key = _key(aes_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(encrypted: str, aes_key: str = AES_KEY) -> tuple[str, str]:
    """(message, receiver id)."""
    key = _key(aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    data = data[:-data[-1]]
    length = struct.unpack(">I", data[16:20])[0]
    return data[20:20 + length].decode(), data[20 + length:].decode()


def text_message_xml(user: str, content: str, msg_id: int, agent_id: int = AGENT_ID) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>")


def callback(plain_xml: str, timestamp: int | None = None, token: str = TOKEN, aes_key: str = AES_KEY,
             receiver: str = CORP_ID) -> tuple[dict[str, str], bytes]:
    """The query string and body of WeCom's POST to the callback URL."""
    encrypted = encrypt(plain_xml, aes_key, receiver)
    stamp, nonce = str(timestamp or int(time.time())), str(secrets.randbelow(10**9))
    query = {"msg_signature": signature(token, stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}
    body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>")
    return query, body.encode()


class FakeWeComApi(RecordingServer):
    def __init__(self):
        super().__init__()
        self._tokens = itertools.count(1)
        self.current_token: str | None = None

    def expire_token(self) -> None:
        """WeCom ends a token early (another process fetched one, or it was revoked): the next send gets 42001."""
        self.current_token = None

    def sent(self, user: str | None = None) -> list[dict]:
        return [r.json() for r in self.calls("/cgi-bin/message/send")
                if r.reply.get("errcode") == 0 and (user is None or r.json()["touser"] == user)]

    def texts(self, user: str | None = None) -> list[str]:
        return [m[m["msgtype"]]["content"] for m in self.sent(user)]

    def route(self, request: Request) -> tuple[int, Any]:
        if request.path == "/cgi-bin/gettoken":
            if request.query.get("corpid") != CORP_ID or request.query.get("corpsecret") != SECRET:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            self.current_token = f"access-token-{next(self._tokens)}"
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self.current_token, "expires_in": 7200}
        if request.path == "/cgi-bin/message/send" and request.method == "POST":
            if request.query.get("access_token") != self.current_token or self.current_token is None:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            message = request.json()
            kind = message.get("msgtype")
            if message.get("agentid") != AGENT_ID or not message.get("touser") or kind not in ("text", "markdown"):
                return 200, {"errcode": 40008, "errmsg": "invalid message"}
            if len(message[kind]["content"].encode()) > CONTENT_BYTES:
                return 200, {"errcode": 45002, "errmsg": "content size out of limit"}
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": secrets.token_hex(8)}
        return 404, {"errcode": 404, "errmsg": "not found"}
