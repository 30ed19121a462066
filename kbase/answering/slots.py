"""What a question asks for (its slot: an amount, a body, a date …) and whether a quoted sentence fills it. The words
are data (ingest/data/slots.json); where none of them is in the question, a small classifier trained on our labelled
questions (decide/selective.json) names the slot it reads."""
from __future__ import annotations

import json
import re
from functools import cache

from ingest.lexicon import DATA_DIR
from kbase.answering.decide.model import shipped_model

CLASSIFIER_MIN_PROBABILITY = 0.6  # below it the classifier's reading is a feature, not the slot


@cache
def slot_data() -> dict:
    data = json.loads((DATA_DIR / "slots.json").read_text(encoding="utf-8"))
    data["patterns"] = {slot: _any_of(patterns) for slot, patterns in data["fills"].items()}
    data["numbering"] = _any_of(data["not_data"])
    # each word with the first slot that lists it, longest first: at each position the first alternative that
    # matches is the longest word starting there (a lookahead, so that overlapping words are all seen)
    data["slot_of_word"] = {}
    for slot in data["slots"]:
        for word in data["asked"].get(slot, []):
            data["slot_of_word"].setdefault(word, slot)
    ordered = sorted(data["slot_of_word"], key=lambda w: (-len(w), data["slots"].index(data["slot_of_word"][w])))
    data["asking_words"] = re.compile("(?=(" + "|".join(map(re.escape, ordered)) + "))")
    return data


def _any_of(patterns: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def slot_of_words(parts: list[str]) -> str | None:
    """The slot whose word, found in the parts of a question that ask, is longest (ties: the data's order)."""
    data = slot_data()
    found = [(len(word), -data["slots"].index(data["slot_of_word"][word]), data["slot_of_word"][word])
             for part in parts for word in data["asking_words"].findall(part.lower())]
    return max(found)[2] if found else None


def other_data_asked(slot: str | None, parts: list[str]) -> list[str]:
    """The data a question asks for besides its slot, one per part that asks (啥时候完成？哪个部门牵头？ asks a date and a
    body): the datum slots only (slots.json says why)."""
    data = slot_data()
    asked = (slot_of_words([part]) for part in parts)
    return list(dict.fromkeys(s for s in asked if s in data["datum_slots"] and s != slot))


def asked_slot(text: str, parts: list[str]) -> tuple[str | None, float]:
    """(slot, how sure): the data's words decide; else the classifier's reading when it is sure enough."""
    slot = slot_of_words(parts)
    if slot is not None:
        return slot, 1.0
    read, probability = shipped_model().read_slot(text)
    return (read if read != "none" and probability >= CLASSIFIER_MIN_PROBABILITY else None), probability


def fills(slot: str | None, text: str) -> bool:
    """Whether a text holds what the slot asks for (an amount in 元, a body, a date …), its own numbering aside (第十二条,
    "11."); no slot is always filled."""
    if slot is None:
        return True
    data = slot_data()
    return bool(data["patterns"][slot].search(data["numbering"].sub("", text)))
