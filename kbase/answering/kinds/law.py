"""Law articles: an item of a list article is quoted with the sentence that introduces the list."""
from __future__ import annotations

import re

_ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")


def with_chapeau(sentences: list[str], chosen: list[str]) -> list[str]:
    """A law's item "（一）…的；" means nothing without the sentence that introduces the list."""
    if _ITEM.match(chosen[0]) and sentences[0] not in chosen:
        return [sentences[0], *chosen]
    return chosen
