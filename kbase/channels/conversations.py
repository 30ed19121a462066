"""Follow-up context per conversation for the chat channels: one Session per (chat, user), one turn at a time."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from kbase.answering.session import Session


@dataclass
class _Conversation:
    session: Session
    last_used: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Conversations:
    """A Session per (chat, user), taken one turn at a time; idle ones are dropped after `ttl` seconds.

    Keyed by user as well as chat so that in a group one person's follow-up never continues another's
    question (whose clauses may come from documents the second person may not see). The Session
    itself lets its context expire after the same ttl.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._open: dict[tuple[int, int], _Conversation] = {}

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int, user_id: int) -> AsyncIterator[Session]:
        now = self._clock()
        for key in [k for k, c in self._open.items() if now - c.last_used > self.ttl and not c.lock.locked()]:
            del self._open[key]
        conversation = self._open.setdefault(
            (chat_id, user_id), _Conversation(Session(ttl_seconds=self.ttl, clock=self._clock), now))
        async with conversation.lock:
            yield conversation.session
            conversation.last_used = self._clock()
