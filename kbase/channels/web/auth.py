"""Who is staff: a token of POLICYBOT_STAFF_TOKENS as a Bearer header or in the staff page's HttpOnly cookie."""
from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kbase.channels.web.errors import MESSAGES, WebError
from kbase.model import Audience
from kbase.settings import Settings

COOKIE = "policybot_staff"
COOKIE_MAX_AGE = 12 * 3600  # a working day; the token itself never expires, the browser's copy does
# optional everywhere (no token = public); declared so /docs offers an Authorize button
bearer = HTTPBearer(auto_error=False, description="a token of POLICYBOT_STAFF_TOKENS; without one, requests are public")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def is_staff_token(settings: Settings, token: str | None) -> bool:
    """Compared in constant time against every configured token, so timing tells nothing about which is near."""
    if not token:
        return False
    given = token.encode()
    matches = [hmac.compare_digest(given, known.get_secret_value().encode()) for known in settings.staff_tokens]
    return any(matches)


def audience(request: Request, credentials: Bearer) -> Audience:
    """Public unless the request carries a valid staff token (Bearer header or the staff page's cookie)."""
    settings: Settings = request.app.state.web.settings
    header_token = credentials.credentials if credentials else None
    staff = is_staff_token(settings, header_token) or is_staff_token(settings, request.cookies.get(COOKIE))
    return "staff" if staff else "public"


def question_audience(request: Request, credentials: Bearer) -> Audience:
    """For questions and clauses (what the citizen page asks): the Bearer header only. The browser sends the staff
    page's cookie to every path, the citizen page's requests included, and that page must always answer as public."""
    settings: Settings = request.app.state.web.settings
    return "staff" if credentials and is_staff_token(settings, credentials.credentials) else "public"


def require_staff(who: Annotated[Audience, Depends(audience)]) -> None:
    """The dependency of staff-only endpoints: 401 without a valid token."""
    if who != "staff":
        raise WebError(401, MESSAGES[401], headers={"WWW-Authenticate": "Bearer"})


def set_staff_cookie(response: Response, request: Request, token: str) -> None:
    """HttpOnly (scripts never read it), SameSite=Strict (no cross-site request carries it), Secure over https."""
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def clear_staff_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
