"""Who is staff: a token of POLICYBOT_STAFF_TOKENS as a Bearer header or in the staff page's HttpOnly cookie."""
from __future__ import annotations

import hmac

from fastapi import Request, Response

from kbase.channels.web.errors import MESSAGES, WebError
from kbase.model import Audience
from kbase.settings import Settings

COOKIE = "policybot_staff"
COOKIE_MAX_AGE = 12 * 3600  # a working day; the token itself never expires, the browser's copy does


def is_staff_token(settings: Settings, token: str | None) -> bool:
    """Compared in constant time against every configured token, so timing tells nothing about which is near."""
    if not token:
        return False
    given = token.encode()
    matches = [hmac.compare_digest(given, known.get_secret_value().encode()) for known in settings.staff_tokens]
    return any(matches)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def audience(request: Request) -> Audience:
    """Public unless the request carries a valid staff token (header or cookie)."""
    settings: Settings = request.app.state.web.settings
    staff = is_staff_token(settings, bearer_token(request)) or is_staff_token(settings, request.cookies.get(COOKIE))
    return "staff" if staff else "public"


def require_staff(request: Request) -> None:
    """The dependency of staff-only endpoints: 401 without a valid token."""
    if audience(request) != "staff":
        raise WebError(401, MESSAGES[401], headers={"WWW-Authenticate": "Bearer"})


def set_staff_cookie(response: Response, request: Request, token: str) -> None:
    """HttpOnly (scripts never read it), SameSite=Strict (no cross-site request carries it), Secure over https."""
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def clear_staff_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
