"""Follow-up context per conversation for the chat channels: one Session per key, one turn at a time."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field

from kbase.answering.session import Session


@dataclass
class _Conversation:
    session: Session
    last_used: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Conversations:
    """A Session per key, taken one turn at a time; idle ones are dropped after `ttl` seconds, and beyond
    `max_open` the least recently used idle one goes, so clients cannot fill the memory with sessions.

    Telegram keys by (chat, user) so that in a group one person's follow-up never continues another's
    question (whose clauses may come from documents the second person may not see); the web keys by
    (session id, audience). The Session itself lets its context expire after the same ttl.
    """

    def __init__(self, ttl: float, max_open: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_open = max_open
        self._clock = clock
        self._open: dict[tuple[Hashable, ...], _Conversation] = {}  # least recently used first

    def __len__(self) -> int:
        return len(self._open)

    @contextlib.asynccontextmanager
    async def turn(self, *key: Hashable) -> AsyncIterator[Session]:
        now = self._clock()
        for stale in [k for k, c in self._open.items() if now - c.last_used > self.ttl and not c.lock.locked()]:
            del self._open[stale]
        conversation = self._open.pop(key, None)
        if conversation is None:
            excess = len(self._open) + 1 - self.max_open
            for oldest in [k for k, c in self._open.items() if not c.lock.locked()][:max(excess, 0)]:
                del self._open[oldest]
            conversation = _Conversation(Session(ttl_seconds=self.ttl, clock=self._clock), now)
        self._open[key] = conversation
        async with conversation.lock:
            yield conversation.session
            conversation.last_used = self._clock()
