"""What `bot.py serve` adds beside the web pages: the WeCom and DingTalk callbacks (each when configured; DingTalk's
Stream mode too), the departments' calendar feeds, marking deadlines done, and the reminder schedule (APScheduler,
in the server's event loop)."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kbase.channels.staffchat.core import ChatCore
from kbase.channels.staffchat.delivery import deliverers
from kbase.channels.web.auth import COOKIE, Bearer, audience, is_staff_token, require_staff
from kbase.channels.web.errors import MESSAGES, WebError
from kbase.reminders.reminders import Deliver, ReminderError, Reminders
from kbase.service import Service
from kbase.settings import Settings

log = logging.getLogger("policybot.web")
reminder_router = APIRouter()


def feed_reader(request: Request, who: Annotated[str, Depends(audience)],
                token: Annotated[str | None, Query(max_length=512, description="a staff token, for calendar apps "
                                                   "that cannot send a header")] = None) -> None:
    """Staff by the Bearer header or cookie, or by ?token= (calendar apps subscribe to a bare URL); else 401."""
    if who != "staff" and not is_staff_token(request.app.state.web.settings, token):
        raise WebError(401, MESSAGES[401], headers={"WWW-Authenticate": "Bearer"})


@reminder_router.get("/calendar/{department}.ics", dependencies=[Depends(feed_reader)],
                     summary="staff only: the department's deadlines as an iCalendar feed")
async def calendar(department: Annotated[str, Path(max_length=100)], request: Request) -> Response:
    reminders: Reminders = request.app.state.reminders
    staff_url = str(request.base_url).rstrip("/") + "/staff?dept=" + quote(department)
    try:
        unit, feed = await run_in_threadpool(reminders.calendar, department, staff_url)
    except ReminderError as exc:
        raise WebError(404, str(exc)) from exc
    filename = quote(f"{unit}.ics")
    return Response(feed, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"})


class DoneRequest(BaseModel):
    doc: str = Field(max_length=200)
    ref: str = Field(max_length=100)
    date: dt.date


def token_label(request: Request, credentials: Bearer) -> str:
    """Who marked it: the staff token's place in POLICYBOT_STAFF_TOKENS (one token per person), never the token."""
    given = (credentials.credentials if credentials else None) or request.cookies.get(COOKIE) or ""
    tokens = request.app.state.web.settings.staff_tokens
    places = [n for n, known in enumerate(tokens, 1) if hmac.compare_digest(given.encode(), known.get_secret_value().encode())]
    return f"网页令牌#{places[0]}" if places else "网页"


@reminder_router.post("/api/done", dependencies=[Depends(require_staff)],
                      summary="staff only: mark one deadline of a task done (no more reminders); who and when are kept")
async def mark_done(body: DoneRequest, request: Request, by: Annotated[str, Depends(token_label)]) -> dict:
    reminders: Reminders = request.app.state.reminders
    try:
        task, marked = await run_in_threadpool(reminders.mark_done, body.ref, by, "web", body.doc, body.date)
    except ReminderError as exc:
        raise WebError(404, str(exc)) from exc
    mark = reminders.done_marks()[(task.doc, task.ref, body.date)]
    log.info("deadline marked done id=%s by=%s new=%s", request.state.request_id, by, bool(marked))
    return {"doc": task.doc, "ref": task.ref, "date": body.date.isoformat(), "done": {"by": mark.done_by, "at": mark.done_at}}


def mount_chat_channels(app: FastAPI, settings: Settings, service: Service) -> dict[str, Deliver]:
    """Adds the configured channels' routes and the calendar; the channels that can deliver reminders."""
    reminders = Reminders(service)
    app.state.reminders = reminders
    app.include_router(reminder_router)
    core = ChatCore(settings, service, reminders)
    if settings.wecom_enabled:
        from kbase.channels.wecom.callback import WeComChannel, build_router
        app.include_router(build_router(WeComChannel(settings, core)))
    if settings.dingtalk_enabled:
        from kbase.channels.dingtalk.callback import DingTalkChannel, build_router
        dingtalk = DingTalkChannel(settings, core)
        app.include_router(build_router(dingtalk))
        if settings.dingtalk_stream:
            if not dingtalk.client.can_send:
                raise ValueError("DingTalk Stream mode needs POLICYBOT_DINGTALK_APP_KEY besides the AppSecret")
            app.state.dingtalk_stream = dingtalk
        if not dingtalk.client.can_send:
            log.warning("DingTalk reminders are not sent: set POLICYBOT_DINGTALK_APP_KEY to send them")
    return deliverers(settings)


@contextlib.asynccontextmanager
async def channel_lifespan(app: FastAPI):
    """Starts DingTalk's Stream mode when configured. Runs a reminder pass on settings.reminder_schedule, and one as the server starts (catching up on a pass
    missed while it was down); a pass already claimed what it sends, so none is sent twice."""
    deliver: dict[str, Deliver] = app.state.deliver
    reminders: Reminders = app.state.reminders
    if stream := getattr(app.state, "dingtalk_stream", None):
        from kbase.channels.dingtalk.stream import start_stream
        start_stream(stream)
    scheduler = None
    if deliver:
        settings: Settings = app.state.web.settings
        zone = ZoneInfo(settings.reminder_timezone)

        async def one_pass() -> None:
            deliveries = await asyncio.to_thread(reminders.run_pass, deliver)
            log.info("reminder pass: %d digests, %d delivered", len(deliveries), sum(d.delivered for d in deliveries))

        scheduler = AsyncIOScheduler(timezone=zone)
        scheduler.add_job(one_pass, CronTrigger.from_crontab(settings.reminder_schedule, timezone=zone),
                          max_instances=1, coalesce=True)
        scheduler.add_job(one_pass)  # now
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        reminders.close()
