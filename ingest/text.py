"""Text helpers shared by the parsers: width folding, numerals, sentences, verbatim checks."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CN_DIGITS = "零〇一二三四五六七八九十百千两"
_FOLD = str.maketrans({"（": "(", "）": ")", "％": "%", "．": ".", "，": ",", "：": ":", "；": ";",
                       "　": " ", "〔": "[", "〕": "]"})
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")


def fold(text: str) -> str:
    """Full-width punctuation to ASCII, as CONTRACTS.md writes refs and as quotes are compared."""
    return text.translate(_FOLD)


@lru_cache(maxsize=65536)
def squash(text: str) -> str:
    """The comparison form of a text: folded and without whitespace."""
    return re.sub(r"\s+", "", fold(unicodedata.normalize("NFKC", text)))


def is_verbatim(quote: str, source: str) -> bool:
    """True when `quote` occurs in `source`, whitespace and full-/half-width aside."""
    needle = squash(quote)
    return bool(needle) and needle in squash(source)


def cn_to_int(numeral: str) -> int:
    """一百零九 -> 109; 20 -> 20."""
    if numeral.isdigit():
        return int(numeral)
    import cn2an  # 0.15 s to import: only parsing and a few questions need it
    return int(cn2an.cn2an(numeral.replace("〇", "零"), "smart"))


def int_to_cn(number: int) -> str:
    import cn2an
    return cn2an.an2cn(number, "low")


def fmt_date(date) -> str:
    """2023-12-15 -> 2023年12月15日, as the documents print dates."""
    return f"{date.year}年{date.month}月{date.day}日"


def sentences(text: str) -> list[str]:
    """Sentences of a clause, each verbatim from it; headings with no full stop count as one."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip() and not s.strip().startswith("<!--")]


def plain_title(title: str) -> str:
    """A title as people shorten it: without 《》, spaces and the 中华人民共和国 of national laws."""
    return re.sub(r"[\s《》]", "", title).removeprefix("中华人民共和国")
