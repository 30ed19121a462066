"""The one facade the CLI and the Telegram bot call: open the index, answer, list tasks, show clauses."""
from __future__ import annotations

import datetime as dt

from ingest.model import Clause, DocMeta, Task
from kbase.model import Answer, Audience
from kbase.settings import Settings


class Service:
    """Answers questions over the knowledge base for one audience at a time."""

    def __init__(self, settings: Settings | None = None, progress=None):
        raise NotImplementedError  # being written: opens (building if needed) the index under settings.data_dir

    def answer(self, question: str, audience: Audience = "staff", session=None) -> Answer:
        """Answer one question; `session` (kbase.session.Session) carries the previous turn for follow-ups."""
        raise NotImplementedError

    def tasks(self, dept: str | None = None, year: int | None = None, doc: str | None = None,
              audience: Audience = "staff") -> list[Task]:
        raise NotImplementedError

    def overdue(self, today: dt.date | None = None, audience: Audience = "staff") -> list[Task]:
        raise NotImplementedError

    def due(self, year: int, audience: Audience = "staff") -> list[Task]:
        raise NotImplementedError

    def show(self, doc: str | None, ref: str, audience: Audience = "staff") -> Clause | None:
        """A clause by ref; doc None means the main plan (or the only document that has the ref)."""
        raise NotImplementedError

    def sources(self, audience: Audience = "staff") -> list[DocMeta]:
        raise NotImplementedError

    def reload(self) -> None:
        """Re-ingest the sources and swap the new index in."""
        raise NotImplementedError
