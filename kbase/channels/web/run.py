"""`bot.py serve`: open the index once (building it first if missing or stale), then serve until a signal."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from kbase.channels.web.app import build_app
from kbase.reminders.store import ReminderStoreError
from kbase.service import Service
from kbase.settings import Settings
from kbase.store.build import ensure_index

log = logging.getLogger("policybot.web")


FIRST_REQUEST_WAIT_SECONDS = 5.0  # at most, on shutdown, for connections just accepted to deliver their request


class _GracefulServer(uvicorn.Server):
    """uvicorn's server, but on shutdown it stops accepting, then waits (a few seconds at most) until every connection
    it accepted has delivered its first request before closing the idle ones: uvicorn closes a connection whose
    request it has not read yet, and under load (a busy event loop) that client would see its request cut; read,
    the request is in flight and answered before the exit. Keep-alive connections between requests are not waited
    for (they have served a request already)."""

    async def shutdown(self, sockets=None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        deadline = time.monotonic() + FIRST_REQUEST_WAIT_SECONDS
        while time.monotonic() < deadline and any(
                getattr(connection, "cycle", True) is None for connection in self.server_state.connections):
            await asyncio.sleep(0.02)
        await super().shutdown(sockets)


class _Worker(Process):
    """A worker process of the supervisor, serving with _GracefulServer."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = _GracefulServer(config=self.config)
        return self._server


class _AnnouncingServer(_GracefulServer):
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
    if settings.web_workers > 1:
        return _run_workers(settings, host, port)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop during the index build ends quietly too
    try:
        service = Service(settings, progress=_progress, long_running=True)
    except KeyboardInterrupt:
        return 0
    try:
        app = build_app(settings, service)
    except (ReminderStoreError, ValueError) as exc:  # the reminders' file, or a channel configured by halves
        print(f"无法启动：{exc}", file=sys.stderr, flush=True)
        return 1
    config = uvicorn.Config(app, host=host, port=port, **_options(settings))
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal; ignored, the process exits 0
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    _AnnouncingServer(config).run()
    log.info("stopped")
    return 0


def _options(settings: Settings) -> dict:
    trusted = settings.web_trusted_proxies
    return {"log_level": "info", "server_header": False, "root_path": settings.web_root_path,
            "access_log": False,  # its lines carry query strings and addresses; Guard logs ids instead
            "proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def _run_workers(settings: Settings, host: str, port: int) -> int:
    """uvicorn's supervisor with N worker processes, each opening the same build (app_from_environment); the index
    is made ready here first, so the workers do not all build it, and the workers read the settings as this process
    did (the environment, plus the worker count)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        ensure_index(settings, progress=_progress)
    except KeyboardInterrupt:
        return 0
    except OSError as exc:  # each worker answers from the sources meanwhile and rebuilds (Service)
        log.warning("索引暂不可用（%s）", exc)
    os.environ["POLICYBOT_WEB_WORKERS"] = str(settings.web_workers)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # uvicorn's supervisor installs its own handlers
    shown = f"[{host}]" if ":" in host else host
    print(f"policybot 网页服务：http://{shown}:{port}/  （{settings.web_workers} 个进程；工作人员页面 /staff，"
          "接口文档 /docs）", flush=True)
    config = uvicorn.Config("kbase.channels.web.app:app_from_environment", factory=True, host=host, port=port,
                            workers=settings.web_workers, **_options(settings))
    _Supervisor(config, sockets=[config.bind_socket()]).run()
    log.info("stopped")
    return 0


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, but it lets go of its own copy of the listening socket before stopping the workers:
    held on, the kernel would go on queueing connections that no worker accepts any more and reset them when this
    process exits (a client sees its request cut); let go, the socket closes with the last worker's copy and a
    late client is refused before it sends anything."""

    def init_processes(self) -> None:  # a worker restarted after a crash is uvicorn's own, without the grace
        for _ in range(self.processes_num):
            process = _Worker(self.config, self.sockets)
            process.start()
            self.processes.append(process)

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()
