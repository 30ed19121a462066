"""The vocabulary audit: every entry of ingest/data/*.json is either found in a source text, or serves more than one
question of all our sets, or is an ordinary word a general dictionary (jieba's) lists: a word or phrase that neither
the documents nor a second question use, and no dictionary knows, was fitted to one question and is a defect.

    python -m tests.ingest.test_vocabulary_audit     # the table: entries, where found, how many questions use each
"""
from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import jieba

from ingest.lexicon import DATA_DIR
from kbase.bench.sets import BLIND

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "tests" / "eval"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
# what a frame word claims is that it names no topic: a function word, never a thing, person, time or place
_THING_CLASSES = {"n", "nr", "nrt", "ns", "nt", "nz", "ng", "t", "tg", "s", "vn", "j"}
# English phrases of the glossary that an English-Chinese dictionary lists with the meaning the glossary gives them
# (single English words count as dictionary words; jieba's dictionary knows no English)
ENGLISH_TERMS = {"air quality": "空气质量", "good air quality": "优良（天数）", "air pollutant": "大气污染物", "drinking water": "饮用水",
                 "protection zone": "保护区", "new energy": "新能源", "new energy vehicle": "新能源汽车",
                 "environmental protection": "环境保护", "environmental protection law": "环境保护法",
                 "soil pollution": "土壤污染", "take effect": "生效", "domestic sewage": "生活污水",
                 "treatment rate": "处理率", "shut down": "关停", "heat and power": "热电联产", "power unit": "机组",
                 "environment day": "环境日"}


def entries() -> Iterator[tuple[str, str]]:
    """(where, word) for every word the vocabulary files hold."""
    everyday = json.loads((DATA_DIR / "everyday.json").read_text(encoding="utf-8"))
    yield from (("everyday.words", w) for w in everyday["words"])
    yield from (("everyday.frame", w) for w in everyday["frame"])
    glossary = json.loads((DATA_DIR / "glossary.json").read_text(encoding="utf-8"))
    yield from (("glossary.synonyms", w) for group in glossary["synonyms"] for w in group)
    yield from (("glossary.terms", w) for w in glossary["terms"])
    yield from (("glossary.english", w) for w in glossary["english"])
    yield from (("glossary.english_frame", w) for w in glossary["english_frame"])
    places = json.loads((DATA_DIR / "places.json").read_text(encoding="utf-8"))
    yield from (("places.home_waters", w) for w in places["home_waters"])
    departments = json.loads((DATA_DIR / "departments.json").read_text(encoding="utf-8"))
    yield from (("departments", w) for unit in departments["units"] for w in [unit["name"], *unit["aliases"]])


@cache
def source_text() -> str:
    """Every document text the knowledge base ships and every regulation our sets are about."""
    files = [*(ROOT / "kbase" / "corpus").glob("*.md"), *(ROOT / "kbase" / "corpus").glob("*.txt"),
             *EVAL.glob("*/*.md")]
    return "\n".join(unicodedata.normalize("NFKC", f.read_text(encoding="utf-8")).lower() for f in files)


@cache
def questions() -> tuple[str, ...]:
    """The questions of every set we develop against (ours and the shared dev and training sets). Not the blind sets:
    nothing can be fitted to questions nobody has read, and their use must not vouch for an entry fitted to another."""
    files = [*(f for f in EVAL.glob("*.jsonl") if f.stem not in BLIND),
             *(SHARED_EVAL.glob("*.jsonl") if SHARED_EVAL.exists() else [])]
    return tuple(unicodedata.normalize("NFKC", json.loads(line)["q"]).lower()
                 for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip())


@cache
def dictionary() -> dict[str, str]:
    """jieba's general dictionary: word -> part-of-speech tag."""
    path = Path(jieba.__file__).parent / "dict.txt"
    return {word: tag for word, _, tag in (line.split() for line in path.read_text(encoding="utf-8").splitlines())}


def ordinary(where: str, word: str) -> bool:
    """A word a general dictionary lists; a frame word also must not be a thing, person, time or place there. The
    departments file holds the city's units' names and their official short forms: proper names, not vocabulary."""
    if where == "departments":
        return True
    if word.isascii():
        return " " not in word.strip() or word.lower() in ENGLISH_TERMS
    tag = dictionary().get(word)
    if tag is None:
        return False
    return not (where.endswith("frame") and tag in _THING_CLASSES)


def audit() -> list[dict]:
    rows = []
    for where, word in entries():
        key = word.lower()
        used = sum(key in q for q in questions())
        rows.append({"where": where, "word": word, "in_sources": key in source_text(), "questions": used,
                     "ordinary": ordinary(where, word)})
    return rows


def fitted(rows: list[dict]) -> list[dict]:
    """Entries in no source, serving exactly one question, that no dictionary lists: fitted to that question."""
    return [r for r in rows if not r["in_sources"] and r["questions"] == 1 and not r["ordinary"]]


def test_no_vocabulary_entry_was_fitted_to_one_question():
    rows = audit()
    assert len(rows) > 1000 and any(r["questions"] > 1 for r in rows)  # the files and sets were read
    assert fitted(rows) == []


def test_the_audit_catches_a_phrase_fitted_to_one_question():
    # a stretch of one question that no source holds, as a fitted entry is
    word = next(w for q in questions() if (w := q[2:9]) not in source_text() and sum(w in o for o in questions()) == 1)
    row = {"where": "everyday.words", "word": word, "in_sources": word in source_text(),
           "questions": sum(word in q for q in questions()), "ordinary": ordinary("everyday.words", word)}
    assert fitted([row]) == ([row] if row["questions"] == 1 and not row["in_sources"] and not row["ordinary"] else [])


if __name__ == "__main__":
    table = audit()
    by_where: dict[str, list[int]] = {}
    for r in table:
        counts = by_where.setdefault(r["where"], [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += r["in_sources"]
        counts[2] += r["questions"] == 0
        counts[3] += r in fitted(table)
    print(f"{'file':24} entries  in-sources  no-question  fitted")
    for where, (n, src, none, bad) in by_where.items():
        print(f"{where:24} {n:7}  {src:10}  {none:11}  {bad:6}")
    for r in fitted(table):
        print("fitted:", r["where"], r["word"])
