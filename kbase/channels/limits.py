"""Per-user question limits, shared by the public channels."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

WINDOW_SECONDS = 60.0


class QuestionLimiter:
    """At most `per_minute` questions per user in any sliding minute (0 or less: no limit).

    Users idle for a minute are forgotten, so a channel open to the internet (one user per address)
    keeps only the last minute's users in memory.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._asked: dict[Hashable, deque[float]] = {}
        self._swept = clock()

    def allow(self, user_id: Hashable) -> bool:
        return self.take(user_id) == 0

    def take(self, user_id: Hashable) -> float:
        """0 when the question may go ahead (it is counted), else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        self._sweep(now)
        asked = self._asked.setdefault(user_id, deque())
        while asked and now - asked[0] >= WINDOW_SECONDS:
            asked.popleft()
        if len(asked) >= self.per_minute:
            return WINDOW_SECONDS - (now - asked[0])
        asked.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        if now - self._swept < WINDOW_SECONDS:
            return
        self._swept = now
        for user_id in [u for u, asked in self._asked.items() if not asked or now - asked[-1] >= WINDOW_SECONDS]:
            del self._asked[user_id]
