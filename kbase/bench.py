"""Side-by-side benchmark: policybot vs a naive LangChain baseline (fixed-size chunks + Chroma + top-4 search).

Every "startup" and "peak RSS" figure comes from a fresh child process that opens an already built index and
answers the questions from stdin; "build" is the wall time of a child process that builds an index from scratch.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kbase.settings import Settings

REPO_DIR = Path(__file__).resolve().parent.parent

# The Chinese questions of shared/eval/dev.jsonl, copied so the bench does not depend on ../shared at run time.
QUESTIONS = [
    "细颗粒物浓度2025年的目标是多少",
    "地表水考核断面中要实现水质提升的比例是多少",
    "主要粮食作物农药使用量要降低多少",
    "新能源汽车产业集群要达到什么规模",
    "晋开化工铁路专用线建设由谁牵头",
    "清洁能源发展由哪个部门牵头",
    "重点行业超低排放改造谁牵头",
    "监测监控能力提升的配合单位有哪些",
    "入河排污口什么时候全部完成整治",
    "地热供暖规模化利用示范区要建多大",
    "6个湿地试点项目有哪些",
    "市生态环境局牵头哪些任务",
    "开封市地铁3号线什么时候通车",
    "保障措施有哪些？",
    "公众如何举报环境违法行为",
    "黄河干流水质有什么要求",
    "哪些任务要在2025年年底前完成?",
    "未取得排污许可证排放大气污染物怎么处罚",
    "土壤污染防治法什么时候施行",
    "建设单位的扬尘污染防治费用怎么列支",
]

BASELINE_CHUNK_SIZE, BASELINE_CHUNK_OVERLAP, BASELINE_TOP_K = 500, 50, 4
_BASELINE_COLLECTION = "baseline"


def _child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")]))
    return env


def _run_child(cmd: list[str], env: dict[str, str], stdin_lines: list[str] | None = None) -> dict:
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


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {"warm_p50_ms": statistics.median(ordered), "warm_p95_ms": ordered[p95_index]}


def bench_policybot(settings: Settings, questions: list[str], measure_build: bool = True) -> dict:
    env = _child_env(POLICYBOT_DATA_DIR=str(settings.data_dir), POLICYBOT_EMBEDDINGS=settings.embeddings)
    serve = _run_child([sys.executable, "bot.py", "ask", "--json", "-"], env, questions)
    result = {"startup_s": serve["first_line_s"], "peak_rss_mb": serve["peak_rss_mb"], "build_s": None}

    from kbase.service import Service
    service = Service(settings)
    service.answer(questions[0])
    timings = []
    for question in questions:
        start = time.perf_counter()
        service.answer(question)
        timings.append((time.perf_counter() - start) * 1000)
    result.update(_percentiles(timings))

    if measure_build:
        with tempfile.TemporaryDirectory(prefix="pb-bench-") as data_dir:
            build = _run_child([sys.executable, "bot.py", "ingest", "--rebuild"],
                               {**env, "POLICYBOT_DATA_DIR": data_dir})
            result["build_s"] = build["wall_s"]
    return result


def bench_baseline(settings: Settings, questions: list[str], max_docs: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="pb-baseline-") as store_dir:
        env = _child_env(POLICYBOT_EMBEDDINGS=settings.embeddings)
        limit = [] if max_docs is None else ["--max-docs", str(max_docs)]
        build = _run_child([sys.executable, "-m", "kbase.bench", "--baseline-build", store_dir, *limit], env)
        serve = _run_child([sys.executable, "-m", "kbase.bench", "--baseline-serve", store_dir], env,
                           [questions[0], *questions])
    timings = [json.loads(line)["ms"] for line in serve["lines"][1:]]
    return {"startup_s": serve["first_line_s"], "peak_rss_mb": serve["peak_rss_mb"], "build_s": build["wall_s"],
            "chunks": json.loads(build["lines"][-1])["chunks"], **_percentiles(timings)}


def run_bench(settings: Settings, questions: list[str], quick: bool = False) -> dict:
    """Measure policybot and the naive baseline on the same questions; figures in s, ms and MB.

    quick skips policybot's index build and builds the baseline over the first document only (a smoke run).
    """
    return {"questions": len(questions),
            "policybot": bench_policybot(settings, questions, measure_build=not quick),
            "baseline": bench_baseline(settings, questions, max_docs=1 if quick else None)}


def format_table(result: dict) -> str:
    rows = [("startup (s)", "startup_s", "{:.2f}"), ("warm ms/question p50", "warm_p50_ms", "{:.1f}"),
            ("warm ms/question p95", "warm_p95_ms", "{:.1f}"), ("peak RSS (MB)", "peak_rss_mb", "{:.0f}"),
            ("index build (s)", "build_s", "{:.1f}")]
    lines = [f"| {result['questions']} questions | policybot | LangChain baseline |", "| --- | ---: | ---: |"]
    for label, key, fmt in rows:
        cells = [fmt.format(result[side][key]) if result[side].get(key) is not None else "–"
                 for side in ("policybot", "baseline")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _baseline_store(store_dir: str, embeddings):
    import chromadb
    from langchain_chroma import Chroma
    return Chroma(collection_name=_BASELINE_COLLECTION, embedding_function=embeddings, persist_directory=store_dir,
                  client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=True,
                                                           persist_directory=store_dir))


def _baseline_build(store_dir: str, max_docs: int | None) -> None:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from kbase.corpus import load_corpus
    from kbase.embeddings import make_embeddings
    settings = Settings()
    splitter = RecursiveCharacterTextSplitter(chunk_size=BASELINE_CHUNK_SIZE, chunk_overlap=BASELINE_CHUNK_OVERLAP)
    chunks = splitter.split_documents(
        [Document(page_content=text, metadata={"doc": meta.id}) for meta, text in load_corpus(settings.corpus_dir)[:max_docs]])
    _baseline_store(store_dir, make_embeddings(settings.embeddings)).add_documents(chunks)
    print(json.dumps({"chunks": len(chunks)}))


def _baseline_serve(store_dir: str) -> None:
    from kbase.embeddings import make_embeddings
    store = _baseline_store(store_dir, make_embeddings(Settings().embeddings))
    for line in sys.stdin:
        start = time.perf_counter()
        hits = store.similarity_search(line.rstrip("\n"), k=BASELINE_TOP_K)
        print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "hits": len(hits)}), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="policybot vs a naive LangChain + Chroma baseline")
    parser.add_argument("--quick", action="store_true", help="3 questions and no index build (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON after the table")
    parser.add_argument("--baseline-build", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-serve", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--max-docs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_build:
        return _baseline_build(args.baseline_build, args.max_docs)
    if args.baseline_serve:
        return _baseline_serve(args.baseline_serve)
    result = run_bench(Settings(), QUESTIONS[:3] if args.quick else QUESTIONS, quick=args.quick)
    print(format_table(result))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
