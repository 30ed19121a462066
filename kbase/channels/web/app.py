"""The web channel's ASGI app: the citizen page, the staff page and the JSON API over one Service."""
from __future__ import annotations

import logging
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from kbase.channels.web import api, pages
from kbase.channels.web.chats import channel_lifespan, mount_chat_channels
from kbase.channels.web.errors import http_error, invalid_request
from kbase.channels.web.guards import Guard
from kbase.channels.web.state import WebState
from kbase.service import Service
from kbase.settings import Settings

# Swagger UI's files as fastapi-offline ships them, so /docs works on a machine without internet access
SWAGGER_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
DESCRIPTION = ("Grounded answers over Kaifeng's eco-environment plan and national environmental laws, each citing "
               "its clauses verbatim. Public by default; `Authorization: Bearer <token>` (POLICYBOT_STAFF_TOKENS) "
               "adds internal documents and /api/tasks. Errors are JSON {\"error\": \"…\"}.")


def build_app(settings: Settings, service: Service) -> FastAPI:
    app = FastAPI(title="policybot", description=DESCRIPTION, version="0.1.0", docs_url=None, redoc_url=None,
                  lifespan=channel_lifespan)
    app.state.web = WebState(settings, service)
    app.state.deliver = mount_chat_channels(app, settings, service)  # WeCom, DingTalk, calendar feeds
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    if settings.web_cors_origins:  # off by default: only the listed sites' pages may call the API from a browser
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.web_cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(Guard, settings=settings)  # added last, so outermost: it sees every response
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process of `bot.py serve --workers N` (uvicorn calls this in each): settings from the
    environment, as the command's own, and a Service of its own on the same build."""
    from kbase.channels.logs import configure_logging
    settings = Settings()
    configure_logging(settings.log_level)
    logging.getLogger("policybot.web").setLevel(logging.INFO)  # request lines, as with one process
    return build_app(settings, Service(settings, long_running=True))
