"""Our own question sets (tests/eval) on the knowledge base each was written for: the bundled base, or the bundled base
plus the regulations of one folder of tests/eval, added as a user adds them (`ingest add` by file). Data dirs are made
once under a root and reused.

    python -m kbase.bench.sets                          # every set: right, wrong, missed, held, wrong share of answered
    python -m kbase.bench.sets blind2-plan blind2-laws  # some sets
    python -m kbase.bench.sets --dump answers.jsonl     # also every question, its gold and the answer given
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from kbase.bench.evaluate import load_questions, run_eval
from kbase.settings import Settings

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "eval"
SHARED_EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
# the folder of regulations a set's questions are about; every other set is about the bundled base
REGULATIONS_OF = {"regulations": "regulations", "regulations-dev1": "regulations", "regulations-dev2": "regulations",
                  **{f"regulations-dev{n}": f"regulations{n}" for n in range(3, 30)},
                  "blind11-regulations": "blind11-regulations"}
# scored once before a round's changes and once after, never trained on; the next round writes new ones and trains on
# these
BLIND = ("blind11-plan", "blind11-laws", "blind11-regulations")


def set_path(name: str) -> Path:
    """A set of tests/eval, or of the shared dev and training sets (`dev`, `train-citizen-a` …); `set@folder` is the
    set itself."""
    name = name.partition("@")[0]
    local = EVAL_DIR / f"{name}.jsonl"
    return local if local.exists() else SHARED_EVAL / f"{name}.jsonl"


def folder_of(name: str) -> str | None:
    """The folder of regulations added to the base a set is asked on: its own, or for `set@folder` (a set about the
    bundled texts asked where a city has added that folder's, as every deployment that adds a text asks them) that
    folder; None for the bundled base."""
    name, _, folder = name.partition("@")
    return folder or REGULATIONS_OF.get(name)


def all_sets(blind: bool = False) -> list[str]:
    """Every set we keep, the blind ones only when asked for."""
    names = [p.stem for p in sorted(EVAL_DIR.glob("*.jsonl"))]
    names += [p.stem for p in sorted(SHARED_EVAL.glob("*.jsonl"))] if SHARED_EVAL.exists() else []
    return [n for n in names if blind or n not in BLIND]


def settings_for(name: str, base: Settings, root: Path) -> Settings:
    """Settings whose data dir holds the base a set is about, built on first use (regulations added by file)."""
    from kbase.store.build import ensure_index
    from kbase.store.library import add_document

    folder = folder_of(name)
    if folder is None:
        settings = base.model_copy(update={"data_dir": root / "bundled"})
        ensure_index(settings)
        return settings
    settings = base.model_copy(update={"data_dir": root / folder})
    if not (root / folder / "ready").exists():
        bundled = settings_for("bundled", base, root)
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        shutil.copytree(bundled.data_dir, settings.data_dir)  # the bundled passages' vectors are reused
        manifest = json.loads((EVAL_DIR / folder / "manifest.json").read_text(encoding="utf-8"))
        for doc in manifest["documents"]:
            add_document(settings, EVAL_DIR / folder / doc["file"], id=doc["id"])
        (root / folder / "ready").touch()
    return settings


def score_sets(names: list[str], base: Settings, root: Path) -> dict[str, dict]:
    """Each set's report (run_eval's), answered by a Service over the base it is about."""
    from kbase.service import Service

    services: dict[Path, Service] = {}
    reports = {}
    for name in names:
        settings = settings_for(name, base, root)
        service = services.get(settings.data_dir) or services.setdefault(settings.data_dir, Service(settings))
        reports[name] = run_eval(load_questions(set_path(name)), lambda q: service.answer(q).contract())
    return reports


def outcome_line(name: str, summary: dict) -> str:
    answered = summary["right"] + summary["wrong"]
    share = f"{summary['wrong'] / answered:.0%}" if answered else "-"
    return (f"{name:22} right {summary['right']:3}  wrong {summary['wrong']:3} ({share:>4} of {answered:3} answered)  "
            f"missed {summary['missed']:3}  held {summary['held']:3}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", help="set names (default: all but the blind ones)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/policybot-sets"), help="where the data dirs are kept")
    parser.add_argument("--dump", type=Path, help="write every question with its answer here (JSON lines)")
    args = parser.parse_args()
    names = args.sets or all_sets()
    reports = score_sets(names, Settings(), args.root)
    total = {k: 0 for k in ("right", "wrong", "missed", "held")}
    for name, report in reports.items():
        print(outcome_line(name, report["summary"]))
        for k in total:
            total[k] += report["summary"][k]
    print(outcome_line("all", total))
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for name, report in reports.items():
                for result in report["results"]:
                    out.write(json.dumps({"set": name, **result}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
