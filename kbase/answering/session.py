"""A conversation: the previous turn's clauses, so follow-ups ("那配合单位呢？") resolve against them."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from kbase.model import Answer


@dataclass
class Session:
    ttl_seconds: float = 1800.0
    clause_keys: list[str] = field(default_factory=list)
    kind: str | None = None
    updated_at: float = 0.0
    clock: callable = time.monotonic

    def context(self) -> list[str]:
        """The previous answer's clause keys, or [] once the context has expired."""
        if not self.clause_keys or self.clock() - self.updated_at > self.ttl_seconds:
            return []
        return self.clause_keys

    def remember(self, answer: Answer) -> None:
        if answer.status != "answered":
            return
        self.clause_keys = [f"{c.doc}::{c.ref}" for c in answer.citations]
        self.kind = answer.kind
        self.updated_at = self.clock()
