"""`bot.py serve`: open the index once (building it first if missing or stale), then serve until a signal."""
from __future__ import annotations

import logging
import signal
import sys

import uvicorn

from kbase.channels.web.app import build_app
from kbase.reminders.store import ReminderStoreError
from kbase.service import Service
from kbase.settings import Settings

log = logging.getLogger("policybot.web")


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server that prints the page's URL once the socket is listening (so port 0 shows its port)."""

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            host = f"[{host}]" if ":" in host else host
            print(f"policybot 网页服务：http://{host}:{port}/  （工作人员页面 /staff，接口文档 /docs）", flush=True)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_web(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve the pages and the API until SIGINT/SIGTERM; the exit code."""
    log.setLevel(logging.INFO)  # request lines: ids, statuses, timings (the CLI's root level is WARNING)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop during the index build ends quietly too
    try:
        service = Service(settings, progress=_progress, long_running=True)
    except KeyboardInterrupt:
        return 0
    trusted = settings.web_trusted_proxies
    try:
        app = build_app(settings, service)
    except (ReminderStoreError, ValueError) as exc:  # the reminders' file, or a channel configured by halves
        print(f"无法启动：{exc}", file=sys.stderr, flush=True)
        return 1
    config = uvicorn.Config(app, host=host, port=port, log_level="info",
                            access_log=False,  # its lines carry query strings and addresses; Guard logs ids instead
                            proxy_headers=bool(trusted), forwarded_allow_ips=trusted, server_header=False,
                            root_path=settings.web_root_path)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal; ignored, the process exits 0
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    _AnnouncingServer(config).run()
    log.info("stopped")
    return 0
