"""Scores answers to a question set the way the outside harness (shared/eval/score.py) does.

The scoring rules are copied from that script, not imported: the project must run without it.
A question line holds id, q, kind, doc, refs, refs_mode ("any"|"all"), facts ("a|b" = either),
must_not and status (alternatives joined by "|"); an answer is the `ask --json` object. An answer of status `related`
(leads, not an answer) counts wherever `not_found` is expected, and never as answered.
Outcomes are counted as the harness's outcomes.py counts them: right (answered and passes), wrong (answered and fails),
missed (answerable, not answered), held (not answerable, not answered).
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Callable

FULLWIDTH = str.maketrans({"（": "(", "）": ")", "％": "%", "．": ".", "，": ",", "：": ":"})


def norm_text(s: str | None) -> str:
    return re.sub(r"\s+", "", (s or "").translate(FULLWIDTH))


def norm_ref(ref: str | None) -> str:
    return re.sub(r"[\s、.]", "", (ref or "").translate(FULLWIDTH))


def ref_matches(cited: str, gold: str) -> bool:
    """A cited ref matches a gold one it starts with, unless it goes on to another number (三(三)5 vs 三(三)50)."""
    cited, gold = norm_ref(cited), norm_ref(gold)
    if not cited.startswith(gold):
        return False
    return not cited[len(gold):][:1].isdigit()


def score_one(q: dict, a: dict, corpus: str | None = None) -> dict:
    res = {"id": q["id"], "kind": q["kind"]}
    expected = q["status"].split("|")
    status = a.get("status")
    res["status_ok"] = status in expected or (status == "related" and "not_found" in expected)
    cites = a.get("citations") or []
    doc = q.get("doc")
    # a citation of another document than the gold one never matches
    refs = [c.get("ref", "") if not doc or c.get("doc") == doc else "\0" for c in cites]
    gold = q.get("refs") or []
    if gold and "answered" in expected:
        if q.get("refs_mode") == "all":
            hit = [g for g in gold if any(ref_matches(r, g) for r in refs)]
            res["ref_recall"] = len(hit) / len(gold)
            res["ref_top1"] = None
        else:
            res["ref_top1"] = bool(refs) and any(ref_matches(refs[0], g) for g in gold)
            res["ref_recall"] = 1.0 if any(ref_matches(r, g) for r in refs for g in gold) else 0.0
    answer = norm_text(a.get("answer", ""))
    facts = q.get("facts") or []
    res["facts_ok"] = all(any(norm_text(x) in answer for x in f.split("|")) for f in facts) if facts else None
    if q.get("must_not") and any(norm_text(x) in answer for x in q["must_not"]):
        res["facts_ok"] = False
    if corpus is not None:
        quotes = [norm_text(c.get("quote", "")) for c in cites if c.get("quote")]
        res["quotes_verbatim"] = (sum(1 for x in quotes if x in corpus), len(quotes))
    ok = res["status_ok"]
    if res.get("ref_recall") is not None:
        ok = ok and res["ref_recall"] == 1.0
    if res["facts_ok"] is not None:
        ok = ok and res["facts_ok"]
    res["pass"] = bool(ok)
    if status == "answered":
        res["outcome"] = "right" if ok else "wrong"
    else:
        res["outcome"] = "missed" if "answered" in expected else "held"
    return res


def outcomes(results: list[dict]) -> dict[str, int]:
    """How many answers were right, wrong, missed and held back."""
    return {k: sum(r["outcome"] == k for r in results) for k in ("right", "wrong", "missed", "held")}


def load_questions(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def load_corpus_text(folder: str | Path) -> str:
    """Every .txt/.md source in a folder (or one file), folded as score.py folds it for the verbatim check."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix in {".txt", ".md"}) if folder.is_dir() else [folder]
    return "\n".join(norm_text(p.read_text(encoding="utf-8")) for p in files)


def _safe_ask(ask: Callable[[str], dict], question: str) -> dict:
    try:
        answer = ask(question)
    except Exception as exc:  # a crash scores as an empty answer, like a line score.py cannot parse
        return {"error": f"{type(exc).__name__}: {exc}"}
    return answer if isinstance(answer, dict) else {}


def run_eval(questions: list[dict], ask: Callable[[str], dict], corpus: str | None = None) -> dict:
    """Ask every question, score each answer, and sum up: pass rates overall, per metric and per kind."""
    results = []
    started = time.monotonic()
    for q in questions:
        answer = _safe_ask(ask, q["q"].replace("\n", " "))
        result = score_one(q, answer, corpus)
        result.update(question=q["q"], answer_status=answer.get("status"), mode=answer.get("mode"),
                      cited=[c.get("ref") for c in answer.get("citations") or []][:6])
        results.append(result)
    wall = time.monotonic() - started

    def mean(key: str):
        values = [r[key] for r in results if r.get(key) is not None]
        return round(sum(values) / len(values), 3) if values else None

    n = len(results)
    passed = sum(r["pass"] for r in results)
    summary = {
        "pass": f"{passed}/{n}",
        "status_ok": f"{sum(r['status_ok'] for r in results)}/{n}",
        "ref_top1": mean("ref_top1"),
        "ref_recall": mean("ref_recall"),
        "facts_ok": mean("facts_ok"),
        "wall_s": round(wall, 2),
        **outcomes(results),
    }
    if corpus is not None:
        summary["quotes_verbatim"] = (f"{sum(r['quotes_verbatim'][0] for r in results)}/"
                                      f"{sum(r['quotes_verbatim'][1] for r in results)}")
    by_kind: dict[str, dict] = {}
    for r in results:
        kind = by_kind.setdefault(r["kind"], {"passed": 0, "total": 0})
        kind["passed"] += r["pass"]
        kind["total"] += 1
    for kind in by_kind.values():
        kind["rate"] = round(kind["passed"] / kind["total"], 3)
    return {"results": results, "summary": summary, "pass_rate": round(passed / n, 3) if n else None,
            "by_kind": dict(sorted(by_kind.items()))}


def format_report(report: dict, verbose: bool = False) -> str:
    """score.py's printout: one line per failed (or, verbose, every) question, per-kind passes, the summary."""
    lines = []
    for r in report["results"]:
        if verbose or not r["pass"]:
            lines.append(f"{'PASS' if r['pass'] else 'FAIL'} {r['id']} [{r['kind']}] {r['question'][:40]} -> "
                         f"status={r['answer_status']} refs={r['cited']} facts_ok={r['facts_ok']}")
    lines.append("by kind: " + ", ".join(f"{k} {v['passed']}/{v['total']}" for k, v in report["by_kind"].items()))
    lines.append("score: " + json.dumps(report["summary"], ensure_ascii=False))
    return "\n".join(lines)


def format_comparison(reports: dict[str, dict]) -> str:
    """Pass rates side by side, one column per mode (e.g. {"extractive": …, "llm": …})."""
    modes = list(reports)
    kinds = sorted({k for report in reports.values() for k in report["by_kind"]})
    rows = [["kind", *modes]]
    for kind in kinds:
        rows.append([kind, *(_cell(reports[m]["by_kind"].get(kind)) for m in modes)])
    rows.append(["all", *(reports[m]["summary"]["pass"] for m in modes)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _cell(kind: dict | None) -> str:
    return f"{kind['passed']}/{kind['total']}" if kind else "-"
