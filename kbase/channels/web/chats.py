"""What `bot.py serve` adds beside the web pages: the WeCom and DingTalk callbacks (each when configured), the
departments' calendar feeds, and the reminder schedule (APScheduler, in the server's event loop)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kbase.channels.staffchat.core import ChatCore
from kbase.channels.web.auth import audience, is_staff_token
from kbase.channels.web.errors import MESSAGES, WebError
from kbase.reminders.reminders import Deliver, ReminderError, Reminders
from kbase.service import Service
from kbase.settings import Settings

log = logging.getLogger("policybot.web")
calendar_router = APIRouter()


def feed_reader(request: Request, who: Annotated[str, Depends(audience)],
                token: Annotated[str | None, Query(max_length=512, description="a staff token, for calendar apps "
                                                   "that cannot send a header")] = None) -> None:
    """Staff by the Bearer header or cookie, or by ?token= (calendar apps subscribe to a bare URL); else 401."""
    if who != "staff" and not is_staff_token(request.app.state.web.settings, token):
        raise WebError(401, MESSAGES[401], headers={"WWW-Authenticate": "Bearer"})


@calendar_router.get("/calendar/{department}.ics", dependencies=[Depends(feed_reader)],
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


def mount_chat_channels(app: FastAPI, settings: Settings, service: Service) -> dict[str, Deliver]:
    """Adds the configured channels' routes and the calendar; the channels that can deliver reminders."""
    reminders = Reminders(service)
    app.state.reminders = reminders
    app.include_router(calendar_router)
    core = ChatCore(settings, service, reminders)
    deliver: dict[str, Deliver] = {}
    if settings.wecom_enabled:
        from kbase.channels.wecom.callback import WeComChannel, build_router
        wecom = WeComChannel(settings, core)
        app.include_router(build_router(wecom))
        deliver["wecom"] = lambda subscription, lines: wecom.deliver(subscription.target, lines)
    if settings.dingtalk_enabled:
        from kbase.channels.dingtalk.callback import DingTalkChannel, build_router
        dingtalk = DingTalkChannel(settings, core)
        app.include_router(build_router(dingtalk))
        if dingtalk.client.can_send:
            deliver["dingtalk"] = lambda subscription, lines: dingtalk.deliver(subscription.target, lines)
        else:
            log.warning("DingTalk reminders are not sent: set POLICYBOT_DINGTALK_APP_KEY to send them")
    return deliver


@contextlib.asynccontextmanager
async def reminder_schedule(app: FastAPI):
    """Runs a reminder pass on settings.reminder_schedule, and one as the server starts (catching up on a pass
    missed while it was down); a pass already claimed what it sends, so none is sent twice."""
    deliver: dict[str, Deliver] = app.state.deliver
    reminders: Reminders = app.state.reminders
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
