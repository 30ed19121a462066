"""Load on the web channel: `python -m kbase.bench.web_load [--clients 20] [--requests 400] [--workers 1 2]`.

Starts `bot.py serve` over the knowledge base of the current environment (POLICYBOT_DATA_DIR, POLICYBOT_EMBEDDINGS),
asks every benchmark question once to warm it, then runs N concurrent clients on loopback posting the benchmark
questions to /api/ask until `requests` answers came back. Clients use a throwaway staff token so the public
per-client limit (all clients share 127.0.0.1) does not turn the run into a test of 429s. With several --workers
values the runs follow one another, each on a fresh server with that many processes, and print side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import statistics
import time

import httpx

from kbase.bench.questions import bench_questions
from kbase.bench.webserver import ServeProcess, serve_env


async def _load(url: str, token: str, clients: int, requests: int) -> tuple[list[float], float, dict[str, int]]:
    """(latencies in ms, wall seconds, answer statuses) of `requests` answers from `clients` concurrent clients."""
    questions = itertools.cycle(bench_questions())
    remaining = itertools.count()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}

    async def client(http: httpx.AsyncClient) -> None:
        while next(remaining) < requests:
            started = time.perf_counter()
            response = await http.post("/api/ask", json={"question": next(questions)}, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            status = response.json()["status"] if response.status_code == 200 else f"http {response.status_code}"
            statuses[status] = statuses.get(status, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return latencies, time.perf_counter() - started, statuses


def run_load(clients: int, requests: int, workers: int = 1) -> dict:
    token = secrets.token_urlsafe(24)
    with ServeProcess(serve_env(inherit=True, staff_tokens=token), workers=workers) as server:
        for question in bench_questions():  # warm: tokenizer, BM25, vector store, per-word caches
            httpx.post(f"{server.url}/api/ask", json={"question": question},
                       headers={"Authorization": f"Bearer {token}"}, timeout=120)
        load_before = os.getloadavg()[0]
        latencies, wall, statuses = asyncio.run(_load(server.url, token, clients, requests))
        rss_mb = server_rss_mb(server.process.pid)
    ordered = sorted(latencies)
    return {"workers": workers, "rss_mb": rss_mb, "clients": clients, "answers": len(latencies), "wall_s": wall, "answers_per_s": len(latencies) / wall,
            "p50_ms": statistics.median(ordered), "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            "max_ms": ordered[-1], "statuses": statuses, "load_before": load_before,
            "embeddings": os.environ.get("POLICYBOT_EMBEDDINGS", "e5-small")}


def server_rss_mb(pid: int) -> float:
    """Resident memory of the server and its worker processes together, MB."""
    import psutil
    server = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [server, *server.children(recursive=True)]) / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    args = parser.parse_args(argv)
    print("| workers | clients | answers | answers/s | p50 ms | p95 ms | max ms | server RSS MB | 1-min load before | statuses |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for workers in args.workers:
        r = run_load(args.clients, args.requests, workers)
        print(f"| {workers} | {r['clients']} | {r['answers']} | {r['answers_per_s']:.1f} | {r['p50_ms']:.0f} | "
              f"{r['p95_ms']:.0f} | {r['max_ms']:.0f} | {r['rss_mb']:.0f} | {r['load_before']:.1f} | {r['statuses']} |",
              flush=True)
    print(f"embeddings {os.environ.get('POLICYBOT_EMBEDDINGS', 'e5-small')}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
