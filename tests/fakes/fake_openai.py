"""A fake OpenAI-compatible server (POST /v1/chat/completions) on 127.0.0.1 that plays scripted replies.

    with FakeOpenAI() as server:
        server.script(tool_call({"answer": "…[1]", "citations": [...], "found": True}))
        settings = Settings(llm_base_url=server.base_url, llm_model="fake", …)

A reply is a function of the request body returning (HTTP status, JSON body, extra headers), or HANG.
Every request body is kept in `server.requests`; an unscripted request gets HTTP 500.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Reply = Callable[[dict], tuple[int, dict, dict]]
HANG = object()
HANG_LIMIT_SECONDS = 30


def _completion(message: dict, finish_reason: str) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def tool_call(arguments: dict | Callable[[dict], dict]) -> Reply:
    """The model calls the tool it was offered with these arguments (or arguments built from the request)."""
    def reply(request: dict) -> tuple[int, dict, dict]:
        args = arguments(request) if callable(arguments) else arguments
        name = request["tools"][0]["function"]["name"] if request.get("tools") else "PolicyAnswer"
        call = {"id": "call_1", "type": "function",
                "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
        return 200, _completion({"content": None, "tool_calls": [call]}, "tool_calls"), {}
    return reply


def text(content: str | Callable[[dict], str]) -> Reply:
    """The model answers in plain text (as a server without tool calling does)."""
    def reply(request: dict) -> tuple[int, dict, dict]:
        body = content(request) if callable(content) else content
        return 200, _completion({"content": body}, "stop"), {}
    return reply


def status(code: int, message: str = "fake failure", headers: dict | None = None) -> Reply:
    def reply(request: dict) -> tuple[int, dict, dict]:
        return code, {"error": {"message": message, "type": "fake", "code": code}}, headers or {}
    return reply


def system_prompt_of(request: dict) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "system")


def user_prompt_of(request: dict) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


class FakeOpenAI:
    def __init__(self):
        self.requests: list[dict] = []
        self._replies: list = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def script(self, *replies) -> None:
        """Replace the queue: each request takes the next reply; the last one repeats."""
        with self._lock:
            self._replies = list(replies)
            self.requests.clear()

    def _next(self):
        with self._lock:
            if not self._replies:
                return status(500, "no scripted reply")
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}}, {})
                reply = fake._next()
                if reply is HANG:
                    fake._stopping.wait(HANG_LIMIT_SECONDS)
                    return
                self._send(*reply(body))

            def _send(self, code: int, payload: dict, headers: dict):
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, as it should

        return Handler

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
