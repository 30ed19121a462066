"""The bench's questions: the Chinese questions of shared/eval's dev sets (dev, dev-regulations, dev-colloquial),
copied into bench/data so the bench does not depend on ../shared at run time."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

QUESTIONS_FILE = Path(__file__).parent / "data" / "questions.json"


@cache
def bench_questions() -> list[str]:
    return json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))
