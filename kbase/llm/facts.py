"""What an answer sentence asserts — numbers, dates, responsible units — checked against clause text.

Both sides go through the same normalisation (full-/half-width, whitespace, Chinese numerals) so a
fact passes when the source says the same thing in another spelling, and fails when it does not.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

import cn2an

from ingest.lexicon import find_departments, glossary, resolve_department

# NFKC already folds full-width ASCII (，：（）％ …); these are the look-alikes it leaves alone.
_LOOKALIKES = str.maketrans({
    "“": '"', "”": '"', "„": '"', "「": '"', "」": '"', "『": '"', "』": '"', "‘": "'", "’": "'",
    "—": "-", "–": "-", "―": "-", "−": "-", "‐": "-", "‑": "-", "。": ".", "｡": ".",
})


def normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """The text folded for comparison, and for each folded character the index it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text or ""):
        for folded in unicodedata.normalize("NFKC", char).translate(_LOOKALIKES):
            if not folded.isspace():
                chars.append(folded)
                origin.append(index)
    return "".join(chars), origin


def normalise(text: str) -> str:
    return normalise_with_offsets(text)[0]


_ELLIPSIS = re.compile(r"\.{2,}|…+|⋯+")
_QUOTE_EDGES = "\"'.,;:!?、"
MIN_QUOTE_CHARS = 4


def locate_quote(quote: str, text: str) -> str | None:
    """The verbatim span of `text` that `quote` reproduces (width and whitespace aside), or None.

    An ellipsis inside the quote may skip text; the span then runs from the first piece to the last.
    """
    folded, origin = normalise_with_offsets(text)
    pieces = [p.strip(_QUOTE_EDGES) for p in _ELLIPSIS.split(normalise(quote))]
    pieces = [p for p in pieces if p]
    if not pieces or sum(map(len, pieces)) < MIN_QUOTE_CHARS:
        return None
    start = end = None
    cursor = 0
    for piece in pieces:
        at = folded.find(piece, cursor)
        if at < 0:
            return None
        start = at if start is None else start
        cursor = end = at + len(piece)
    return text[origin[start]:origin[end - 1] + 1]


# --- numbers and dates -------------------------------------------------------------------------

_CN_DIGIT = "零〇一二两三四五六七八九十百千万亿"
_MEASURE = "年月日个项条款家座辆亩吨米元倍类批处次名位台套户人天周岁级期%‰"
_MAGNITUDE = {"千万": 1e7, "百万": 1e6, "万": 1e4, "亿": 1e8, "千": 1e3}
_IDENTIFIER = re.compile(r"[A-Za-z]+[\d.]*\d[A-Za-z\d]*")  # PM2.5, G310, SO2: names, not quantities
_CN_YEAR_DATE = re.compile(r"[〇零一二三四五六七八九]{4}年(?:[一二三四五六七八九十]{1,3}月(?:[一二三四五六七八九十]{1,3}日)?)?")
_DATE_PATTERNS = [
    (re.compile(r"(\d{4})(?:年|-|/)(\d{1,2})(?:月|-|/)(\d{1,2})日?"), lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"),
    (re.compile(r"(\d{4})年(?:年底|年末|底|末)"), lambda m: f"{m[1]}-12-31"),
    (re.compile(r"(\d{4})年(\d{1,2})月"), lambda m: f"{m[1]}-{int(m[2]):02d}"),
    (re.compile(r"(\d{4})年"), lambda m: m[1]),
]
_PER_CENT_WORDS = re.compile(rf"百分之([{_CN_DIGIT}点]+)")
_ARABIC = re.compile(r"\d+(?:\.\d+)?(?:千万|百万|万|亿|千)?")
_CHINESE = re.compile(rf"(第)?([{_CN_DIGIT}]+)(?=([{_MEASURE}])?)")
_NOT_NUMBERS = {"万一", "一一", "千万"}  # words made of numerals (千万 = by all means)
# Enumerators a writer puts before list items ("1.", "(二)", "三、") are layout, not facts.
_ENUMERATOR = re.compile(r"(^|[:;,、])(?:[(]?\d{1,2}[).、](?!\d)|[(]?[一二三四五六七八九十]{1,3}[)、]|[-*•]+)")


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _value_of(token: str) -> float | None:
    for word, scale in _MAGNITUDE.items():
        if token.endswith(word) and token[: -len(word)].replace(".", "", 1).isdigit():
            return float(token[: -len(word)]) * scale
    try:
        return float(token)
    except ValueError:
        try:
            return float(cn2an.cn2an(token, "smart"))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Number:
    """A quantity as written: its folded text and the values it can stand for (150亿 -> 150, 1.5e10)."""

    text: str
    values: frozenset[float]


def _number(token: str) -> Number:
    values = {_value_of(token)}
    bare = re.match(r"\d+(?:\.\d+)?", token)
    if bare:
        values.add(float(bare.group()))
    return Number(token, frozenset(round(v, 6) for v in values if v is not None))


@dataclass
class Facts:
    numbers: list[Number] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # YYYY, YYYY-MM or YYYY-MM-DD
    identifiers: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.numbers or self.dates or self.identifiers)


def extract_facts(text: str, generous: bool = False) -> Facts:
    """Numbers, dates and alphanumeric names stated in a text.

    `generous` reads a source rather than a claim: the parts of dates count as numbers too, and
    so does every Chinese numeral, however short.
    """
    text = normalise(text)
    text = _CN_YEAR_DATE.sub(lambda m: cn2an.transform(m.group(), "cn2an"), text)
    facts = Facts()
    taken: list[tuple[int, int]] = []
    for match in _IDENTIFIER.finditer(text):
        facts.identifiers.append(match.group().lower())
        taken.append(match.span())
    text = _masked(text, taken)
    for pattern, as_token in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            facts.dates.append(as_token(match))
            if generous:
                facts.numbers.extend(_number(part) for part in match.groups())
            taken.append(match.span())
        text = _masked(text, taken)
    for match in _PER_CENT_WORDS.finditer(text):
        value = _value_of(match.group(1).replace("点", "."))
        facts.numbers.append(Number(match.group(), frozenset({round(value, 6)} if value is not None else ())))
        taken.append(match.span())
    text = _masked(text, taken)
    for match in _ARABIC.finditer(text):
        facts.numbers.append(_number(match.group()))
    text = _ARABIC.sub(lambda m: " " * len(m.group()), text)
    for match in _CHINESE.finditer(text):
        ordinal, run, measure = match.groups()
        if not generous and (run in _NOT_NUMBERS or not (ordinal or measure or len(run) >= 2)):
            continue
        value = _value_of(run)
        facts.numbers.append(Number(run, frozenset({round(value, 6)}) if value is not None else frozenset()))
    return facts


def strip_enumerators(sentence: str) -> str:
    return _ENUMERATOR.sub(r"\1", normalise(sentence))


# --- responsible units -------------------------------------------------------------------------

# A unit name ends with one of these; the lookarounds skip ordinary words (局部, 布局, 委托, 办理 …).
_UNIT_END = re.compile(
    r"(?:委员会|办公室|中心(?!城)|政府|部门|专班|(?<![布格大全结开当僵饭])局(?![部限面势])|委(?![托派屈员会])"
    r"|(?<![大餐客展])厅|(?<![举创承主督查包代开协交转兴申])办(?![理法事学好公]))"
)
_GENERIC_UNITS = {"相关部门", "有关部门", "各部门", "职能部门", "其他部门", "主管部门", "各级政府", "人民政府", "地方政府"}
_NAME_CHAR = re.compile(r"[\u4e00-\u9fff]")
MAX_UNIT_CHARS = 14


def unit_mentions(text: str) -> list[str]:
    """Candidate unit names: each unit ending with the run of Chinese characters before it."""
    text = normalise(text)
    mentions = []
    for match in _UNIT_END.finditer(text):
        start = match.start()
        while start > 0 and match.end() - start < MAX_UNIT_CHARS and _NAME_CHAR.match(text[start - 1]):
            start -= 1
        mentions.append(text[start:match.end()])
    return mentions


def _suffix_len(mention: str) -> int:
    match = re.search(_UNIT_END.pattern + "$", mention)
    return len(match.group()) if match else 1


# --- evidence ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """What a set of clauses (and their ledger entries) can vouch for."""

    text: str
    values: frozenset[float]
    dates: frozenset[str]
    units: frozenset[str]

    @classmethod
    def gather(cls, texts: Iterable[str], units: Iterable[str] = (), dates: Iterable[str] = (),
               values: Iterable[float] = ()) -> "Evidence":
        texts = [t for t in texts if t]
        units = list(units)
        facts = extract_facts("\n".join(texts), generous=True)
        canonical = {resolve_department(u) or u for u in units}
        canonical.update(find_departments("\n".join(texts)))
        return cls(
            text="|".join(normalise(t) for t in [*texts, *units]),
            values=frozenset(v for n in facts.numbers for v in n.values) | {round(float(v), 6) for v in values},
            dates=frozenset(facts.dates) | set(dates),
            units=frozenset(canonical),
        )

    def __or__(self, other: "Evidence") -> "Evidence":
        return Evidence(f"{self.text}|{other.text}", self.values | other.values,
                        self.dates | other.dates, self.units | other.units)

    def vouches_number(self, number: Number) -> bool:
        return bool(number.values & self.values) or (not number.values and number.text in self.text)

    def vouches_date(self, date: str) -> bool:
        if date in self.dates or any(d.startswith(date + "-") for d in self.dates):
            return True
        return len(date) == 4 and float(date) in self.values

    def vouches_unit(self, mention: str) -> bool:
        if mention in self.text or mention in _GENERIC_UNITS:
            return True
        shortest = _suffix_len(mention) + 2
        for start in range(0, len(mention) - shortest + 1):
            tail = mention[start:]
            if tail in _GENERIC_UNITS or tail in self.text or resolve_department(tail) in self.units:
                return True
        return False


_MARKER = re.compile(r"\[\d+\]")


def _claim(sentence: str) -> str:
    return strip_enumerators(_MARKER.sub("", sentence))


def _same_names(identifier: str) -> list[str]:
    """An alphanumeric name and the words the glossary treats as the same thing (PM2.5 = 细颗粒物)."""
    for group in glossary()["synonyms"]:
        if identifier in (normalise(w).lower() for w in group):
            return [normalise(w).lower() for w in group]
    return [identifier]


def unsupported(sentence: str, evidence: Evidence, question: str = "") -> list[str]:
    """The facts of `sentence` that `evidence` does not vouch for (empty = the sentence holds)."""
    body = _claim(sentence)
    facts = extract_facts(body)
    asked = normalise(question).lower()
    missing = [n.text for n in facts.numbers if not evidence.vouches_number(n)]
    missing += [d for d in facts.dates if not evidence.vouches_date(d)]
    missing += [i for i in facts.identifiers if not any(
        name in evidence.text.lower() or name in asked for name in _same_names(i))]
    missing += [u for u in unit_mentions(body) if not evidence.vouches_unit(u)]
    return missing


def states_facts(sentence: str) -> bool:
    body = _claim(sentence)
    return not extract_facts(body).empty or bool(unit_mentions(body))
