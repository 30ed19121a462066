"""The one facade the CLI and the Telegram bot call: open the index, answer, list tasks, show clauses."""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time

from ingest.lexicon import resolve_department
from ingest.model import Clause, DocMeta, Task
from ingest.text import fold
from kbase.answering.answerer import Answerer
from kbase.answering.retrieve import visible_docs
from kbase.answering.session import Session
from kbase.model import Answer, Audience
from kbase.settings import Settings

log = logging.getLogger(__name__)
HEAL_RETRY_SECONDS = (5, 30, 120)  # between attempts of a background rebuild that failed (a full disk, say)
FOLLOW_BUILDS_SECONDS = 2.0  # how often a long-running process reads which build serves


class Service:
    """Answers questions over the knowledge base for one audience at a time."""

    def __init__(self, settings: Settings | None = None, progress=None, long_running: bool = False):
        self.settings = settings or Settings()
        self._progress = progress
        self._long_running = long_running
        self._lock = threading.Lock()
        self.problem: str | None = None  # why answers do not come from a proper build now (Chinese); None when they do
        self._healing = False
        self._looked_at = time.monotonic()  # when the serving build's name was last read (long-running processes)
        self._open(rebuild=False)

    def _open(self, rebuild: bool, wait_for_build: bool = False) -> None:
        from kbase.store.build import ensure_index
        from kbase.store.healing import discard, serving_or_standin, standin_index
        try:
            if self._long_running and not (rebuild or wait_for_build):
                index, problem = serving_or_standin(self.settings, self._progress)
            else:
                index, problem = ensure_index(self.settings, progress=self._progress, rebuild=rebuild), None
        except OSError as exc:  # a data dir that cannot be written (read-only, full disk): the sources still answer
            if wait_for_build:
                raise
            problem = f"索引无法建立（{exc}）：暂时从源文件检索（仅关键词）"
            index = standin_index(self.settings)
        if problem:
            log.warning(problem)
        answerer = Answerer(index, self.settings)
        answerer.warm_up(vectors=self._long_running)
        with self._lock:  # readers keep the old index until the new one is complete
            previous = getattr(self, "index", None)
            self.index, self.answerer, self.problem = index, answerer, problem
        if previous is not None and previous is not index:
            previous.close()
            discard(previous)
        if problem and self._long_running:
            self._heal_in_background()

    def _take_up_new_builds(self) -> None:
        """A long-running process takes up, within seconds, a build made elsewhere (`ingest add`, another worker's
        rebuild): each worker of `serve --workers N` follows CURRENT."""
        if time.monotonic() - self._looked_at < FOLLOW_BUILDS_SECONDS or self._healing or self.problem:
            return
        from kbase.store.builds import current_name, index_root
        self._looked_at = time.monotonic()
        if current_name(index_root(self.settings)) not in (None, self.index.path.name):
            self._heal_in_background()

    def _heal_in_background(self) -> None:
        """Open the serving build in a thread, building it first when damaged or stale (retrying while the disk stays
        full or read-only); answers go on from the current index meanwhile."""
        with self._lock:
            if self._healing:
                return
            self._healing = True

        def heal() -> None:
            for delay in itertools.chain(HEAL_RETRY_SECONDS, itertools.repeat(HEAL_RETRY_SECONDS[-1])):
                try:
                    degraded = bool(self.problem)
                    self._open(rebuild=False, wait_for_build=True)
                    if degraded:
                        log.warning("索引已修复：%s", self.index.path.name)
                    else:
                        log.info("已换用新索引：%s", self.index.path.name)
                    break
                except Exception as exc:  # noqa: BLE001  a thread's failure reaches no one else: say it and retry
                    log.warning("后台重建索引失败（%s），%d 秒后再试", exc, delay)
                    time.sleep(delay)
            with self._lock:
                self._healing = False

        threading.Thread(target=heal, name="policybot-heal", daemon=True).start()

    def today(self) -> dt.date:
        return self.settings.current_date()

    def answer(self, question: str, audience: Audience = "staff", session: Session | None = None,
               today: dt.date | None = None) -> Answer:
        """Answer one question; `session` carries the previous turn for follow-ups."""
        if self._long_running:
            self._take_up_new_builds()
        answer = self.answerer.answer(question, audience, session, today or self.today())
        if self.index.damage and self._long_running and not self._healing:  # the vector store failed in use
            self.problem = f"{self.index.damage}；正在后台重建"
            self._heal_in_background()
        # not_found stays extractive (a fluent answer from loosely related clauses is the failure to avoid),
        # and ledger aggregates are already complete lists
        if self.settings.llm_enabled and answer.status == "answered" and answer.kind != "aggregate":
            answer = self._llm(answer, audience)
        return answer

    def _llm(self, extractive: Answer, audience: Audience) -> Answer:
        from kbase.llm.client import llm_answer
        keys = list(dict.fromkeys(f"{c.doc}::{c.ref}" for c in extractive.citations))
        docs = visible_docs(self.index, audience)
        clauses = [self.index.clauses[k] for k in keys if k in self.index.clauses and self.index.clauses[k].doc in docs]
        if not clauses:
            return extractive
        tasks = {c.key: self.answerer.tasks_by_key[c.key] for c in clauses if c.key in self.answerer.tasks_by_key}
        return llm_answer(extractive.question, clauses, tasks, extractive, self.settings)

    def tasks(self, dept: str | None = None, year: int | None = None, doc: str | None = None,
              audience: Audience = "staff") -> list[Task]:
        docs = visible_docs(self.index, audience, self.today(), history=doc is not None)
        unit = (resolve_department(dept) or dept) if dept else None
        return [t for t in self.index.tasks if t.doc in docs and (doc is None or t.doc == doc)
                and (unit is None or any(unit in u or u in unit for u in t.units))
                and (year is None or any(d.date.year == year for d in t.deadlines))]

    def overdue(self, today: dt.date | None = None, audience: Audience = "staff") -> list[Task]:
        today = today or self.today()
        return [t for t in self.tasks(audience=audience)
                if any(d.kind == "deadline" and d.date < today for d in t.deadlines)]

    def due(self, year: int, audience: Audience = "staff") -> list[Task]:
        return [t for t in self.tasks(audience=audience)
                if any(d.kind == "deadline" and d.date.year == year for d in t.deadlines)]

    def show(self, doc: str | None, ref: str, audience: Audience = "staff") -> Clause | None:
        """A clause by ref; doc None means the first visible document that has the ref (plans first)."""
        ref = fold(ref).replace(" ", "")
        docs = visible_docs(self.index, audience)
        matches = [c for c in self.index.clauses.values() if c.ref == ref and c.doc in docs and (doc is None or c.doc == doc)]
        matches.sort(key=lambda c: c.meta.is_statute)
        return matches[0] if matches else None

    def sources(self, audience: Audience = "staff") -> list[DocMeta]:
        docs = visible_docs(self.index, audience)
        return [d for d in self.index.docs.values() if d.id in docs]

    def reload(self) -> None:
        """Re-ingest the sources and swap the new index in."""
        self._open(rebuild=True)
