"""A fake DingTalk Stream gateway on 127.0.0.1: the WebSocket end that the dingtalk-stream SDK connects to with the
ticket the fake DingTalk's /v1.0/gateway/connections/open hands out. It pushes robot messages as CALLBACK frames
and records the SDK's acknowledgements."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Self

from websockets.asyncio.server import ServerConnection, serve

ROBOT_TOPIC = "/v1.0/im/bot/messages/get"


class FakeStreamGateway:
    def __init__(self, ticket: str):
        self.ticket = ticket
        self.acks: list[dict] = []
        self.refused_tickets = 0
        self._connections: list[ServerConnection] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/connect"

    async def _handle(self, connection: ServerConnection) -> None:
        if f"ticket={self.ticket}" not in (connection.request.path if connection.request else ""):
            self.refused_tickets += 1
            await connection.close(code=4001, reason="invalid ticket")
            return
        self._connections.append(connection)
        async for raw in connection:
            self.acks.append(json.loads(raw))

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def close():
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def connected(self) -> bool:
        return bool(self._connections)

    def push(self, message: dict) -> str:
        """Sends a robot message to the connected client as DingTalk does; the frame's messageId."""
        message_id = uuid.uuid4().hex
        frame = {"specVersion": "1.0", "type": "CALLBACK",
                 "headers": {"appId": "app", "connectionId": "conn", "contentType": "application/json",
                             "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": ROBOT_TOPIC},
                 "data": json.dumps(message, ensure_ascii=False)}
        asyncio.run_coroutine_threadsafe(self._connections[-1].send(json.dumps(frame, ensure_ascii=False)),
                                         self._loop).result(10)
        return message_id

    def ack(self, message_id: str) -> dict | None:
        return next((a for a in self.acks if a.get("headers", {}).get("messageId") == message_id), None)
