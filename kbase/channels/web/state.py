"""What every request handler shares: settings, the one Service, follow-up sessions and the limits."""
from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from kbase.channels.conversations import Conversations
from kbase.channels.limits import QuestionLimiter
from kbase.service import Service
from kbase.settings import Settings

LOGIN_ATTEMPTS_PER_MINUTE = 10  # per client: tokens are long, but guessing should still be slow


@dataclass
class WebState:
    settings: Settings
    service: Service
    conversations: Conversations = field(init=False)
    limiter: QuestionLimiter = field(init=False)
    login_limiter: QuestionLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.conversations = Conversations(self.settings.session_ttl_seconds, self.settings.web_max_sessions)
        self.limiter = QuestionLimiter(self.settings.public_questions_per_minute)
        self.login_limiter = QuestionLimiter(LOGIN_ATTEMPTS_PER_MINUTE)


def web_state(request: Request) -> WebState:
    return request.app.state.web
