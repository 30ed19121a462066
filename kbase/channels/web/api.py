"""The JSON API: /api/ask, /api/sources, /api/clause, /api/tasks (staff) and /healthz; thin over Service."""
from __future__ import annotations

import contextlib
import logging
import math
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, BeforeValidator, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from kbase.channels.web.auth import audience, question_audience, require_staff
from kbase.channels.web.errors import CLAUSE_MISSING, WebError, documented
from kbase.channels.web.ledger import filtered_tasks, task_json
from kbase.channels.web.state import WebState, web_state
from kbase.model import Audience

log = logging.getLogger("policybot.web")
router = APIRouter()
Blank = BeforeValidator(lambda value: value or None)  # ?year=&dept= from an empty form field means no filter
ShortText = Annotated[str, StringConstraints(max_length=200)]
Year = Annotated[int, Field(ge=1949, le=2100)]


class AskRequest(BaseModel):
    question: str = Field(description="the question, in Chinese (or English)")
    session: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{8,64}$",
                                description="any random id the client keeps for follow-ups (那配合单位呢？)")


def client_address(request: Request) -> str:
    """The peer address; uvicorn replaces it with X-Forwarded-For only from POLICYBOT_WEB_TRUSTED_PROXIES."""
    return request.client.host if request.client else "unknown"


@router.get("/healthz", summary="200 once answering: `ok`, or `degraded` with the reason (a damaged index being "
            "rebuilt while a kept build or the source texts answer)")
async def healthz(web: Annotated[WebState, Depends(web_state)]) -> dict:
    problem = web.service.problem
    return {"status": "degraded" if problem else "ok", **({"reason": problem} if problem else {}),
            "today": web.service.today().isoformat()}


@router.post("/api/ask", responses=documented(400, 413, 429), summary="the answer object of `ask --json`; `session` continues a conversation")
async def ask(body: AskRequest, request: Request, web: Annotated[WebState, Depends(web_state)],
              who: Annotated[Audience, Depends(question_audience)]) -> dict:
    request_id = request.state.request_id
    if who == "public" and (wait := web.limiter.take(client_address(request))):
        log.info("question limited id=%s", request_id)
        seconds = math.ceil(wait)
        raise WebError(429, f"提问太频繁了，请 {seconds} 秒后再试。", headers={"Retry-After": str(seconds)})
    started = time.monotonic()
    # the session key includes the audience: a public request never continues a staff conversation
    turn = web.conversations.turn(body.session, who) if body.session else contextlib.nullcontext()
    async with turn as session:  # nullcontext works as an async context manager too
        # anyio's pool (40 threads) rather than asyncio's (cores + 4): questions waiting on an LLM hold a thread each
        answer = await run_in_threadpool(web.service.answer, body.question, who, session)
    log.info("question id=%s audience=%s session=%s status=%s citations=%d ms=%d", request_id, who,
             bool(body.session), answer.status, len(answer.citations), (time.monotonic() - started) * 1000)
    return {**answer.contract(), "session": body.session}


@router.get("/api/sources", summary="the documents the caller may see, as `sources --json`")
async def sources(web: Annotated[WebState, Depends(web_state)], who: Annotated[Audience, Depends(audience)]) -> list:
    return [doc.model_dump(mode="json") for doc in web.service.sources(who)]


@router.get("/api/clause", responses=documented(400, 404), summary="one whole clause the caller may see; 404 otherwise")
async def clause(doc: Annotated[str, Query(max_length=200)], ref: Annotated[str, Query(max_length=100)],
                 web: Annotated[WebState, Depends(web_state)],
                 who: Annotated[Audience, Depends(question_audience)]) -> dict:
    found = await run_in_threadpool(web.service.show, doc, ref, who)
    if found is None:
        raise WebError(404, CLAUSE_MISSING)
    return {"doc": found.doc, "title": found.meta.title, "ref": found.ref, "heading": found.heading,
            "text": found.text, "path": found.path}


def tasks_filter(dept: Annotated[ShortText | None, Blank, Query(description="aliases accepted: 发改委, 环保局 …")] = None,
                 year: Annotated[Year | None, Blank, Query(description="a deadline in this year")] = None,
                 doc: Annotated[ShortText | None, Blank, Query(description="one document id")] = None,
                 overdue: Annotated[bool | None, Blank, Query(description="only tasks with a deadline before today")] = None,
                 ) -> dict:
    """The ledger filters shared by /api/tasks and the staff timeline; empty values mean no filter."""
    return {"dept": dept, "year": year, "doc": doc, "past_due": bool(overdue)}


@router.get("/api/tasks", dependencies=[Depends(require_staff)], responses=documented(400, 401),
            summary="staff only: `tasks --json` objects, each deadline with its status against today")
async def tasks(request: Request, web: Annotated[WebState, Depends(web_state)],
                filters: Annotated[dict, Depends(tasks_filter)]) -> list:
    found = await run_in_threadpool(filtered_tasks, web.service, **filters)
    today, done = web.service.today(), await run_in_threadpool(request.app.state.reminders.done_marks)
    return [task_json(task, today, done) for task in found]
