"""Per-user question limits, shared by the public channels."""
from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable


class QuestionLimiter:
    """At most `per_minute` questions per user in any sliding minute (0 or less: no limit)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._asked: dict[Hashable, deque[float]] = defaultdict(deque)

    def allow(self, user_id: Hashable) -> bool:
        if self.per_minute <= 0:
            return True
        now, asked = self._clock(), self._asked[user_id]
        while asked and now - asked[0] >= 60:
            asked.popleft()
        if len(asked) >= self.per_minute:
            return False
        asked.append(now)
        return True
