"""What every request handler shares: settings, the one Service, follow-up sessions and the limits."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from kbase.channels.conversations import Conversations
from kbase.channels.limits import QuestionLimiter
from kbase.channels.shared_state import SharedConversations, SharedLimiter, SharedStore
from kbase.service import Service
from kbase.settings import Settings

SHARED_STATE_FILE = "web-state.sqlite3"
LOGIN_ATTEMPTS_PER_MINUTE = 10  # per client: tokens are long, but guessing should still be slow


@dataclass
class WebState:
    settings: Settings
    service: Service
    conversations: Conversations | SharedConversations = field(init=False)
    limiter: QuestionLimiter | SharedLimiter = field(init=False)
    login_limiter: QuestionLimiter | SharedLimiter = field(init=False)

    def __post_init__(self) -> None:
        ttl, most = self.settings.session_ttl_seconds, self.settings.web_max_sessions
        if self.settings.web_workers > 1:  # every worker process sees the same limits and sessions
            store = SharedStore(Path(self.settings.data_dir) / SHARED_STATE_FILE)
            self.conversations = SharedConversations(store, ttl, most)
            self.limiter = SharedLimiter(store, self.settings.public_questions_per_minute, "questions")
            self.login_limiter = SharedLimiter(store, LOGIN_ATTEMPTS_PER_MINUTE, "logins")
            return
        self.conversations = Conversations(ttl, most)
        self.limiter = QuestionLimiter(self.settings.public_questions_per_minute)
        self.login_limiter = QuestionLimiter(LOGIN_ATTEMPTS_PER_MINUTE)


def web_state(request: Request) -> WebState:
    return request.app.state.web
