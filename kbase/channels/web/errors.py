"""Every error the web channel returns: JSON {"error": "中文 message"} with the contract's status, never a traceback."""
from __future__ import annotations

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request

MESSAGES = {
    400: "请求格式不正确：请发送 JSON，例如 {\"question\": \"开封市2025年PM2.5目标是多少？\"}。",
    401: "需要工作人员令牌（Authorization: Bearer <令牌>，或在工作人员页面登录）。",
    403: "无权访问。",
    404: "找不到该页面。",
    405: "不支持该请求方法。",
    413: "请求内容过大。",
    429: "提问太频繁了，请稍后再试。",
    500: "服务器出错了，请稍后再试。",
}
NOT_JSON = "请求体不是有效的 JSON。"
CLAUSE_MISSING = "找不到该条款，或您无权查看。"


class ErrorBody(BaseModel):
    error: str


def documented(*statuses: int) -> dict:
    """OpenAPI entries for the errors a route may answer with."""
    return {status: {"model": ErrorBody, "description": MESSAGES[status]} for status in statuses}


class WebError(HTTPException):
    """An HTTPException whose detail is already the Chinese message for the client."""


def error_response(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message or MESSAGES.get(status, "请求无法处理。")}, status_code=status, headers=headers)


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Our own errors keep their message; the framework's (404 route, 405 method) get the Chinese default."""
    message = exc.detail if isinstance(exc, WebError) else None
    return error_response(exc.status_code, message, getattr(exc, "headers", None))


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Malformed JSON, a missing question or a wrong type: 400, naming the fields but never echoing input."""
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return error_response(400, NOT_JSON)
    fields = sorted({str(error["loc"][-1]) for error in errors if len(error["loc"]) > 1})
    return error_response(400, MESSAGES[400] + (f"（有问题的字段：{', '.join(fields)}）" if fields else ""))
