"""What the e5 embedder alone costs in this process, under whatever OpenMP environment it was started with:

    python -m kbase.bench.embed_cost queries [--passes 3]    ms per bench question, embedded one at a time
    python -m kbase.bench.embed_cost passages [--count 320]  passages per second, embedded in ingest's batches

Run it with different OMP_WAIT_POLICY / GOMP_SPINCOUNT / OMP_NUM_THREADS (which win over Settings), idle and beside
a CPU-bound process, to choose Settings.omp_* (README, "Embedding cost").
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from kbase.bench.questions import bench_questions


def queries(passes: int) -> dict:
    from kbase.store.embeddings import make_embeddings
    embeddings = make_embeddings("e5-small")
    questions = bench_questions()
    embeddings.embed_query(questions[0])  # loads the model
    samples = []
    for _ in range(passes):
        for question in questions:
            start = time.perf_counter()
            embeddings.embed_query(question)
            samples.append((time.perf_counter() - start) * 1000)
    return {"what": "queries", "count": len(samples), "p50_ms": statistics.median(samples),
            "mean_ms": statistics.fmean(samples)}


def passages(count: int) -> dict:
    from kbase.settings import BUNDLED_CORPUS
    from kbase.store.bundled_vectors import corpus_passage_texts
    from kbase.store.embeddings import embed_in_batches, make_embeddings
    texts = dict(list(corpus_passage_texts(BUNDLED_CORPUS).items())[:count])
    embeddings = make_embeddings("e5-small")
    embeddings.embed_query("加载模型")
    start = time.perf_counter()
    embed_in_batches(embeddings, texts, lambda message: None)
    seconds = time.perf_counter() - start
    return {"what": "passages", "count": len(texts), "seconds": seconds, "per_s": len(texts) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("queries", "passages"))
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--count", type=int, default=320)
    args = parser.parse_args()
    result = queries(args.passes) if args.what == "queries" else passages(args.count)
    environment = {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_"))}
    print(json.dumps({**result, "env": environment, "load1": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
