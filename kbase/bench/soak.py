"""Soak run of the web channel: `python -m kbase.bench.soak [--answers 20000] [--clients 20] [--workers 1]`.

Loopback only, bounded in count (--answers) and time (--max-minutes). Starts `bot.py serve` over the knowledge base
of the current environment, warms it, then posts the benchmark questions from N clients until the count is reached,
sampling the server's resident memory (all its processes) every second. Reports the 5xx count, RSS after warm-up
(the first tenth of the answers) and at the end, and the growth between. Ends with SIGTERM while the clients are
still asking: every request in flight must come back answered (200) or refused cleanly (503); none may be cut.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import time

import httpx

from kbase.bench.questions import bench_questions
from kbase.bench.web_load import server_rss_mb
from kbase.bench.webserver import ServeProcess, serve_env


async def _soak(server: ServeProcess, token: str, clients: int, answers: int, max_seconds: float) -> dict:
    questions = itertools.cycle(bench_questions())
    counted = itertools.count()
    codes: dict[int, int] = {}
    samples: list[tuple[int, float]] = []  # (answers so far, RSS MB)
    done = asyncio.Event()
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}

    async def client(http: httpx.AsyncClient) -> None:
        while not done.is_set() and next(counted) < answers and time.monotonic() - started < max_seconds:
            response = await http.post("/api/ask", json={"question": next(questions)}, headers=headers)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1

    async def sample() -> None:
        while not done.is_set():
            samples.append((sum(codes.values()), server_rss_mb(server.process.pid)))
            await asyncio.sleep(1)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(client(http) for _ in range(clients)))
        done.set()
        await sampler
    samples.append((sum(codes.values()), server_rss_mb(server.process.pid)))
    return {"codes": codes, "samples": samples, "wall_s": time.monotonic() - started}


async def _terminate_under_load(server: ServeProcess, token: str, clients: int) -> dict:
    """SIGTERM once the clients are busy; each request's fate: answered, refused (503), never connected, or cut."""
    fates = {"answered": 0, "503": 0, "not connected": 0, "cut": 0, "other": 0}
    headers = {"Authorization": f"Bearer {token}"}
    questions = itertools.cycle(bench_questions())

    async def client() -> None:
        while True:
            try:  # a connection per request: a keep-alive connection the server closes between requests is no cut
                async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
                    response = await http.post("/api/ask", json={"question": next(questions)}, headers=headers)
            except httpx.ConnectError:
                fates["not connected"] += 1
                return  # the listener is closed: the server is stopping
            except httpx.TransportError as exc:
                fates["cut"] += 1
                fates.setdefault("cut by", []).append(repr(exc))
                return
            if response.status_code == 200 and response.json().get("status"):
                fates["answered"] += 1
            elif response.status_code == 503:
                fates["503"] += 1
            else:
                fates["other"] += 1

    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(3)
    server.process.send_signal(signal.SIGTERM)
    await asyncio.gather(*tasks)
    fates["exit code"] = server.process.wait(60)
    return fates


def run_soak(answers: int, clients: int, workers: int, max_minutes: float) -> dict:
    token = secrets.token_urlsafe(24)
    with ServeProcess(serve_env(inherit=True, staff_tokens=token), workers=workers) as server:
        for question in bench_questions():
            httpx.post(f"{server.url}/api/ask", json={"question": question},
                       headers={"Authorization": f"Bearer {token}"}, timeout=120)
        load_before = os.getloadavg()[0]
        soak = asyncio.run(_soak(server, token, clients, answers, max_minutes * 60))
        shutdown = asyncio.run(_terminate_under_load(server, token, clients))
    samples = soak["samples"]
    total = sum(soak["codes"].values())
    warm = next(rss for count, rss in samples if count >= total // 10)
    return {"answers": total, "wall_s": soak["wall_s"], "codes": soak["codes"],
            "server_errors": sum(n for code, n in soak["codes"].items() if code >= 500),
            "rss_start_mb": samples[0][1], "rss_warm_mb": warm, "rss_end_mb": samples[-1][1],
            "rss_max_mb": max(rss for _, rss in samples), "load_before": load_before, "shutdown": shutdown,
            "workers": workers, "clients": clients}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-minutes", type=float, default=30.0)
    args = parser.parse_args(argv)
    r = run_soak(args.answers, args.clients, args.workers, args.max_minutes)
    print(f"{r['answers']} answers in {r['wall_s']:.0f} s ({r['answers'] / r['wall_s']:.1f}/s; {r['workers']} worker(s), "
          f"{r['clients']} clients, 1-min load before {r['load_before']:.1f}); HTTP codes {r['codes']}, "
          f"5xx {r['server_errors']}")
    print(f"server RSS MB: at start {r['rss_start_mb']:.0f}, after warm-up (first tenth) {r['rss_warm_mb']:.0f}, "
          f"at end {r['rss_end_mb']:.0f} (growth {r['rss_end_mb'] - r['rss_warm_mb']:+.0f}), max {r['rss_max_mb']:.0f}")
    print(f"SIGTERM under load: {r['shutdown']}")


if __name__ == "__main__":
    main()
