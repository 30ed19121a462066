"""The outermost layer of every request: a request id and one log line, security headers, the body limit,
and a JSON 500 instead of whatever an unexpected exception would have shown."""
from __future__ import annotations

import logging
import secrets
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kbase.channels.web.errors import WebError, error_response
from kbase.settings import Settings

log = logging.getLogger("policybot.web")
UNCACHED_PREFIXES = ("/api/", "/staff", "/healthz")  # answers and staff data never sit in a shared cache


def security_headers(settings: Settings) -> dict[str, str]:
    """No inline script or style anywhere; frame-ancestors says which sites may embed the pages."""
    policy = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
              f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {settings.web_frame_ancestors}")
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "Cross-Origin-Resource-Policy": "same-origin"}


class BodyTooLarge(WebError):
    def __init__(self, limit: int):
        super().__init__(413, f"请求内容过大：上限 {limit // 1024} KB。")


class Guard:
    """Pure ASGI middleware; logs ids, methods, paths, statuses and timings, never bodies or query strings."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.limit = settings.web_body_limit_bytes
        self.headers = security_headers(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(6)
        scope.setdefault("state", {})["request_id"] = request_id
        started, status = time.monotonic(), 0

        async def send_guarded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                headers["X-Request-ID"] = request_id
                if scope["path"].startswith(UNCACHED_PREFIXES):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        try:
            declared = Headers(scope=scope).get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
                # refused before a byte of the body is read; a length that is not a number is a bad request
                too_large = declared.isdigit()
                refusal = error_response(413, BodyTooLarge(self.limit).detail) if too_large else error_response(400)
                await refusal(scope, receive, send_guarded)
            else:
                await self.app(scope, receive_limited, send_guarded)
        except Exception as exc:  # the one place an unexpected failure becomes a plain message
            if isinstance(exc, BodyTooLarge) and not status:
                await error_response(413, exc.detail)(scope, receive, send_guarded)
            else:
                log.error("request id=%s failed: %s", request_id, type(exc).__name__, exc_info=exc)
                if not status:
                    await error_response(500)(scope, receive, send_guarded)
        finally:
            log.info("request id=%s %s %s status=%d ms=%d", request_id, scope["method"], scope["path"], status,
                     (time.monotonic() - started) * 1000)
