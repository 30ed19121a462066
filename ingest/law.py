"""Clause tree of a law-style document: 第X章 / 第X节 headings and 第X条 articles (markdown or plain text)."""
from __future__ import annotations

import re

from ingest.model import Clause, DocMeta
from ingest.text import CN_DIGITS, cn_to_int, sentences

_CN = f"[{CN_DIGITS}]+"
_PART = re.compile(rf"^\s*#*\s*(第({_CN})([编章节]))\s*(.*?)\s*$")
# An article starts a line and is followed by a space; "依照本法第五十九条" inside a sentence never is.
_ARTICLE = re.compile(rf"^\s*(第({_CN})条)(?:[\s　]+|$)")


def count_articles(text: str) -> int:
    return sum(1 for line in text.splitlines() if _ARTICLE.match(line))


def parse_law(meta: DocMeta, text: str) -> list[Clause]:
    """Articles keep their （一）（二） items and following paragraphs; chapters only label the path."""
    clauses: list[Clause] = []
    parts: dict[str, str] = {}  # 编 / 章 / 节 -> the heading currently open
    preface: list[str] = []
    current: dict | None = None
    expected = 1
    for line in text.splitlines():
        part = _PART.match(line)
        article = _ARTICLE.match(line)
        if part and not article:
            kind = part.group(3)
            parts[kind] = f"{part.group(1)} {part.group(4)}".strip()
            for lower in "编章节"["编章节".index(kind) + 1:]:
                parts.pop(lower, None)
            _close(current, clauses, meta)
            current = None
            continue
        # Only the next number in sequence opens an article, so a line quoting another article stays text.
        if article and cn_to_int(article.group(2)) == expected:
            _close(current, clauses, meta)
            expected += 1
            current = {"ref": article.group(1), "lines": [line], "path": [parts[k] for k in "编章节" if k in parts]}
            continue
        if current is not None:
            current["lines"].append(line)
        elif not clauses:
            preface.append(line)
    _close(current, clauses, meta)
    body = "\n".join(preface).strip()
    if body:
        clauses.insert(0, Clause(doc=meta.id, ref="序", heading="序", text=body, sentences=sentences(body),
                                 meta=meta))
    return clauses


def _close(current: dict | None, clauses: list[Clause], meta: DocMeta) -> None:
    if current is None:
        return
    body = "\n".join(current["lines"]).strip()
    ref = current["ref"]
    clauses.append(Clause(doc=meta.id, ref=ref, heading=ref, text=body, sentences=sentences(body),
                          path=current["path"] + [ref], level=3, meta=meta))
