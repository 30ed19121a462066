"""What both chat platforms' receivers need around the chat core: a memory of message ids already handled (replays,
and the platforms' own retries, are not answered twice) and replies sent in the background, referenced until done."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Coroutine

REMEMBERED_MESSAGES = 10_000


class SeenMessages:
    """The last REMEMBERED_MESSAGES message ids, oldest forgotten first."""

    def __init__(self, size: int = REMEMBERED_MESSAGES):
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, message_id: str) -> bool:
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


class Background:
    """Replies that run after the platform got its 200: the event loop keeps only weak references to tasks, so they
    are held here until done, or one could be collected mid-way."""

    def __init__(self):
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, work: Coroutine) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
