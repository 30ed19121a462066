"""The benchmarks' entry point: policybot vs a naive LangChain app (kbase.bench.compare), and a scale benchmark of
policybot alone over synthetic corpora at N times the bundled one (kbase.bench.synth).

Every "startup" and "peak RSS" figure comes from a fresh child process that opens an already built index and
answers the questions from stdin; "build" is the wall time of a child process that builds an index from scratch.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kbase.bench.compare import child_env, format_table, percentiles, run_bench, run_child
from kbase.bench.questions import bench_questions
from kbase.settings import Settings

# ------------------------------------------------------------------------------------------- scale mode


def scale_questions(count: int = 30, seed: int = 0) -> list[str]:
    """Questions in the synthetic corpora's vocabulary, one of each kind in turn (responsibility, target, deadline,
    penalty, aggregate, duty, outline), so every size is asked the same mix."""
    from kbase.bench.synth import DEPARTMENTS, SUBJECTS, THEMES
    rng = random.Random(f"policybot-bench-scale:{seed}")
    kinds = [
        lambda t: f"{t.objects.pick(rng)}由哪个部门牵头",
        lambda t: f"{rng.choice(t.targets).metric}的目标是多少",
        lambda t: f"{t.places.pick(rng)}{t.objects.pick(rng)}什么时候完成",
        lambda t: f"{t.violations.pick(rng)}怎么处罚",
        lambda t: f"市{DEPARTMENTS.pick(rng)}牵头哪些任务",
        lambda t: f"{SUBJECTS.pick(rng)}应当{t.duties.pick(rng)}吗",
        lambda t: f"{t.groups.pick(rng)}有哪些任务",
        lambda t: f"{t.pollutants.pick(rng)}的原始监测记录保存多少年",
        lambda t: f"哪些任务要在{rng.randint(2020, 2028)}年年底前完成",
        lambda t: f"违反{t.law_topics.pick(rng)}条例{t.violations.pick(rng)}罚款多少",
    ]
    questions: list[str] = []
    while len(questions) < count:
        question = kinds[len(questions) % len(kinds)](rng.choice(THEMES))
        if question not in questions:
            questions.append(question)
    return questions


def _disk_mb(folder: Path) -> float:
    """Space the files under `folder` take on disk (allocated blocks: Chroma's sqlite preallocates)."""
    return sum(p.lstat().st_blocks * 512 for p in Path(folder).rglob("*") if p.is_file()) / 2**20


def _serving_build(data_dir: Path) -> Path:
    root = Path(data_dir) / "index"
    return root / (root / "CURRENT").read_text(encoding="utf-8").strip()


def bench_scale_point(scale: float, embeddings: str, questions: list[str], work_dir: Path, seed: int = 0) -> dict:
    """Generate a corpus of `scale` x the bundled one, build its index in a child `bot.py ingest`, then time the
    questions in another child that opens that index; figures in s, ms and MB."""
    from kbase.bench.synth import generate_corpus
    corpus_dir, data_dir = work_dir / "corpus", work_dir / "data"
    generate_corpus(corpus_dir, scale, seed=seed)
    env = child_env(POLICYBOT_CORPUS_DIR=str(corpus_dir), POLICYBOT_DATA_DIR=str(data_dir),
                     POLICYBOT_EMBEDDINGS=embeddings)
    load_before_build = os.getloadavg()[0]
    build = run_child([sys.executable, "bot.py", "ingest"], env)
    build_dir = _serving_build(data_dir)
    counts = json.loads((build_dir / "meta.json").read_text(encoding="utf-8"))["counts"]
    load_before_query = os.getloadavg()[0]
    # each question twice: the first pass fills per-word caches (document frequencies), the second shows the rest
    serve = run_child([sys.executable, "-m", "kbase.bench.run", "--scale-serve"], env, [*questions, *questions])
    ready, *answers = (json.loads(line) for line in serve["lines"])
    if ready["build"] != build_dir.name:
        raise RuntimeError(f"the query child rebuilt the index ({ready['build']} != {build_dir.name})")
    first, repeat = answers[:len(questions)], answers[len(questions):]
    statuses = [a["status"] for a in first]
    return {"scale": scale, "embeddings": embeddings, "documents": counts["docs"], "clauses": counts["clauses"],
            "tasks": counts["tasks"], "ingest_s": build["wall_s"], "clauses_per_s": counts["clauses"] / build["wall_s"],
            "index_mb": _disk_mb(data_dir), "build_rss_mb": build["peak_rss_mb"], "open_s": ready["open_s"],
            **percentiles([a["ms"] for a in first]),
            "repeat_p50_ms": statistics.median(a["ms"] for a in repeat),
            "slowest": max(first, key=lambda a: a["ms"]),
            "answered": statuses.count("answered"), "questions": len(questions),
            "query_rss_mb": serve["peak_rss_mb"], "load_build": load_before_build, "load_query": load_before_query}


def run_scale(scales: list[float], embeddings: str, questions: list[str] | None = None, seed: int = 0) -> list[dict]:
    """bench_scale_point for every size, each in a temporary directory removed afterwards."""
    questions = questions or scale_questions(seed=seed)
    results = []
    for scale in scales:
        work_dir = Path(tempfile.mkdtemp(prefix=f"pb-scale-{scale:g}x-"))
        try:
            results.append(bench_scale_point(scale, embeddings, questions, work_dir, seed))
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
    return results


def extrapolate_ingest(embedded: dict, lexical_same_size: dict, lexical_target: dict) -> dict:
    """Estimated ingest wall time with embeddings at `lexical_target`'s size: its measured BM25-only (none) time
    plus its clauses at the per-clause embedding cost measured at a smaller size (`embedded` less the BM25-only
    build of the same corpus). Linear in clauses, so slightly optimistic: Chroma's HNSW inserts cost O(log n) each."""
    per_clause_s = (embedded["ingest_s"] - lexical_same_size["ingest_s"]) / embedded["clauses"]
    ingest_s = lexical_target["ingest_s"] + per_clause_s * lexical_target["clauses"]
    return {"scale": lexical_target["scale"], "embeddings": embedded["embeddings"], "extrapolated": True,
            "documents": lexical_target["documents"], "clauses": lexical_target["clauses"],
            "tasks": lexical_target["tasks"], "ingest_s": ingest_s, "clauses_per_s": lexical_target["clauses"] / ingest_s,
            "basis": f"none build at {lexical_target['scale']:g}x + {lexical_target['clauses']} clauses x "
                     f"{per_clause_s * 1000:.0f} ms/clause of embedding measured at {embedded['scale']:g}x"}


def format_scale_table(rows: list[dict]) -> str:
    columns = [("size", lambda r: f"{r['scale']:g}x"), ("embeddings", lambda r: r["embeddings"]),
               ("docs", lambda r: f"{r['documents']}"), ("clauses", lambda r: f"{r['clauses']}"),
               ("ingest s", lambda r: f"{r['ingest_s']:.1f}" + (" (extrapolated)" if r.get("extrapolated") else "")),
               ("clauses/s", lambda r: f"{r['clauses_per_s']:.1f}" + (" (extrapolated)" if r.get("extrapolated") else "")),
               ("index MB", lambda r: f"{r['index_mb']:.1f}"), ("build RSS MB", lambda r: f"{r['build_rss_mb']:.0f}"),
               ("open s", lambda r: f"{r['open_s']:.1f}"),
               ("p50 ms", lambda r: f"{r['warm_p50_ms']:.0f}"), ("p95 ms", lambda r: f"{r['warm_p95_ms']:.0f}"),
               ("repeat p50 ms", lambda r: f"{r['repeat_p50_ms']:.0f}"),
               ("answered", lambda r: f"{r['answered']}/{r['questions']}"),
               ("query RSS MB", lambda r: f"{r['query_rss_mb']:.0f}"),
               ("load (build/query)", lambda r: f"{r['load_build']:.1f}/{r['load_query']:.1f}")]
    lines = ["| " + " | ".join(name for name, _ in columns) + " |",
             "| " + " | ".join("---" if i < 2 else "---:" for i in range(len(columns))) + " |"]
    for row in rows:
        cells = []
        for _, cell in columns:
            try:
                cells.append(cell(row))
            except KeyError:
                cells.append("–")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"\n{r['embeddings']} {r['scale']:g}x is an extrapolation, not a measurement: {r['basis']}."
              for r in rows if r.get("extrapolated")]
    return "\n".join(lines)


def _scale_serve() -> None:
    """Child of bench_scale_point: open the index as the bot does, then answer stdin's questions, one JSON line each."""
    start = time.perf_counter()
    from kbase.service import Service
    service = Service(Settings())
    print(json.dumps({"open_s": time.perf_counter() - start, "build": service.index.path.name}), flush=True)
    for line in sys.stdin:
        start = time.perf_counter()
        answer = service.answer(line.rstrip("\n"))
        print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "status": answer.status, "kind": answer.kind,
                          "question": line.rstrip("\n")}, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="policybot vs a naive LangChain + Chroma baseline")
    parser.add_argument("--quick", action="store_true", help="3 questions and no index build (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON after the table")
    parser.add_argument("--scale", type=float, nargs="+", metavar="N",
                        help="instead: policybot alone over synthetic corpora of N x the bundled one (kbase.bench.synth)")
    parser.add_argument("--embeddings", nargs="+", default=["e5-small"], metavar="SPEC",
                        help="with --scale: the embedders to build with (e5-small, none, st:...), each at every size")
    parser.add_argument("--embed-up-to", type=float, metavar="N",
                        help="with --scale and an embedder other than none: build with it only up to N x and "
                             "extrapolate its ingest time beyond from the BM25-only (none) builds, which must be asked too")
    parser.add_argument("--scale-serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_serve:
        return _scale_serve()
    if args.scale:
        rows = scale_main(args.scale, args.embeddings, args.embed_up_to)
        print(format_scale_table(rows))
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    result = run_bench(Settings(), bench_questions()[:3] if args.quick else bench_questions(), quick=args.quick)
    print(format_table(result))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))


def scale_main(scales: list[float], embedders: list[str], embed_up_to: float | None = None) -> list[dict]:
    """Measured rows for every embedder and size; with embed_up_to, sizes above it of an embedder other than none
    become extrapolated rows (see extrapolate_ingest) instead of builds."""
    def measured_sizes(spec: str) -> list[float]:
        return [s for s in scales if spec == "none" or embed_up_to is None or s <= embed_up_to]

    extrapolating = embed_up_to is not None and any(spec != "none" for spec in embedders) and max(scales) > embed_up_to
    if extrapolating and ("none" not in embedders or not any(s <= embed_up_to for s in scales)):
        raise SystemExit("--embed-up-to extrapolates from BM25-only builds: add none to --embeddings and a size <= N")
    measured = {spec: run_scale(measured_sizes(spec), spec) for spec in embedders}
    lexical = {row["scale"]: row for row in measured.get("none", [])}
    rows = []
    for spec in embedders:
        rows += measured[spec]
        if spec != "none" and extrapolating:
            largest = max(measured[spec], key=lambda r: r["scale"])
            rows += [extrapolate_ingest(largest, lexical[largest["scale"]], lexical[s])
                     for s in scales if s not in measured_sizes(spec)]
    return rows


if __name__ == "__main__":
    main()
