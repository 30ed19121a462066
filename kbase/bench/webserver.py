"""`bot.py serve` as a child process on a free loopback port: used by the web tests, the screenshots and the load run."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import httpx

REPO_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_env(inherit: bool = False, **settings: str) -> dict[str, str]:
    """The child's environment: POLICYBOT_* from `settings` (FIELD=value, prefix added), the caller's only if `inherit`."""
    env = {k: v for k, v in os.environ.items() if inherit or not k.startswith(("POLICYBOT_", "TELEGRAM_"))}
    env.update({f"POLICYBOT_{name.upper()}": value for name, value in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServeProcess:
    """Start with `with ServeProcess(env) as server:`; `server.url` once /healthz answers; stopped by SIGTERM."""

    def __init__(self, env: dict[str, str], startup_timeout: float = 600.0, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = env
        self._timeout = startup_timeout
        self._workers = workers
        # files, not pipes, so a chatty server never blocks on a full pipe; open for the object's life, so the
        # output can be read after the server stopped
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        command = [sys.executable, "bot.py", "serve", "--port", str(self.port), "--workers", str(self._workers)]
        self.process = subprocess.Popen(command, cwd=REPO_DIR,
                                        env=self._env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bot.py serve exited with {self.process.returncode}:\n{self.stderr()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bot.py serve did not answer /healthz within {self._timeout:.0f} s:\n{self.stderr()}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send the signal (once) and wait: the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(stop_signal)
            self.process.wait(timeout)
        return self.process.returncode

    def _read(self, file) -> str:
        file.seek(0)
        return file.read().decode("utf-8", errors="replace")

    def stdout(self) -> str:
        return self._read(self._out)

    def stderr(self) -> str:
        return self._read(self._err)
