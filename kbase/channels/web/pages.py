"""The HTML pages (citizen page, staff page and its login, offline API docs) and the staff timeline SVG."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kbase.channels.web.api import client_address, tasks_filter
from kbase.channels.web.auth import audience, clear_staff_cookie, is_staff_token, require_staff, set_staff_cookie
from kbase.channels.web.ledger import filtered_tasks
from kbase.channels.web.state import WebState, web_state
from kbase.channels.web.timeline import timeline_svg
from kbase.model import Audience

log = logging.getLogger("policybot.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"
router = APIRouter(include_in_schema=False)
LOGIN_ERROR_SLOT = "<!-- login-error -->"
LOGIN_FAILED = '<p class="notice error" role="alert">令牌不正确，请重新输入。</p>'
LOGIN_LIMITED = '<p class="notice error" role="alert">尝试次数过多，请一分钟后再试。</p>'


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8")


def _login_page(notice: str, status: int) -> HTMLResponse:
    """The login page with a fixed notice in its slot (no request data is ever written into the page)."""
    html = (STATIC_DIR / "login.html").read_text(encoding="utf-8").replace(LOGIN_ERROR_SLOT, notice)
    return HTMLResponse(html, status_code=status)


def _staff_url(request: Request) -> str:
    """/staff under the prefix a reverse proxy serves the app at (POLICYBOT_WEB_ROOT_PATH)."""
    return request.scope.get("root_path", "").rstrip("/") + "/staff"


@router.get("/")
async def citizen_page() -> FileResponse:
    return _page("index.html")


@router.get("/docs")
async def api_docs() -> FileResponse:
    return _page("docs.html")


@router.get("/staff")
async def staff_page(who: Annotated[Audience, Depends(audience)]) -> Response:
    return _page("staff.html") if who == "staff" else _page("login.html")


@router.post("/staff")  # the form posts to its own URL, so a refusal page is served where its relative links work
async def login(request: Request, web: Annotated[WebState, Depends(web_state)],
                token: Annotated[str, Form(max_length=512)] = "") -> Response:
    """A form POST, so the token never appears in a URL; it comes back only as an HttpOnly cookie."""
    if not web.login_limiter.allow(client_address(request)):
        return _login_page(LOGIN_LIMITED, 429)
    if not is_staff_token(web.settings, token.strip()):
        log.info("staff login refused id=%s", request.state.request_id)
        return _login_page(LOGIN_FAILED, 401)
    log.info("staff login id=%s", request.state.request_id)
    response = RedirectResponse(_staff_url(request), status_code=303)
    set_staff_cookie(response, request, token.strip())
    return response


@router.post("/staff/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse(_staff_url(request), status_code=303)
    clear_staff_cookie(response, request)
    return response


@router.get("/staff/timeline.svg", dependencies=[Depends(require_staff)])
async def timeline(request: Request, web: Annotated[WebState, Depends(web_state)],
                   filters: Annotated[dict, Depends(tasks_filter)]) -> Response:
    found = await run_in_threadpool(filtered_tasks, web.service, **filters)
    done = await run_in_threadpool(request.app.state.reminders.done_marks)
    return Response(timeline_svg(found, web.service.today(), done), media_type="image/svg+xml")
