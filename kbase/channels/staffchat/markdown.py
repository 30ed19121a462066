"""Answers and digests as the chat platforms' Markdown subset (headings, bold, quotes; WeCom and DingTalk both show
it), split under a platform's byte limit at line boundaries, then at sentences."""
from __future__ import annotations

import re

from kbase.model import Answer

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;，,])")
# characters that start Markdown syntax at a line's start or inside it; document text is shown as written
_MARKUP = str.maketrans({"*": "＊", "#": "＃", "`": "｀", "[": "［", "]": "］", "<": "＜", ">": "＞", "_": "＿"})


def plain(text: str) -> str:
    """Document or user text made inert: Markdown characters become their full-width forms."""
    return text.translate(_MARKUP)


def render_answer(answer: Answer) -> str:
    lines = [plain(answer.answer)]
    citations = answer.citations or answer.related
    if citations:
        lines.append("")
        leads = answer.status == "related" or not answer.citations
        lines.append("**相关条款（不是答案，仅供参考）**" if leads else "**出处**")
    for n, c in enumerate(citations, 1):
        heading = f" {plain(c.heading)}" if c.heading and c.heading != c.ref else ""
        lines.append(f"{n}. 《{plain(c.title)}》{plain(c.ref)}{heading}")
        lines.append(f"> {plain(c.quote)}")
    return "\n".join(lines)


def render_lines(lines: list[str], title: str | None = None) -> str:
    body = [plain(line) for line in lines]
    return "\n".join([f"**{plain(title)}**", *body] if title else body)


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _pieces(line: str, limit: int) -> list[str]:
    """A line too long for one message, cut after sentences (or, without any, at the byte limit)."""
    pieces, current = [], ""
    for part in _SENTENCE_END.split(line):
        while _utf8(part) > limit:  # one sentence over the limit: hard cut on a character boundary
            cut = part.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
            pieces.extend([current, cut] if current else [cut])
            current, part = "", part[len(cut):]
        if _utf8(current + part) > limit:
            pieces.append(current)
            current = part
        else:
            current += part
    return [p for p in [*pieces, current] if p]


def split_utf8(text: str, limit: int) -> list[str]:
    """Messages of at most `limit` UTF-8 bytes, cut between lines where possible."""
    messages, current = [], ""
    for line in text.split("\n"):
        for piece in _pieces(line, limit) if _utf8(line) > limit else [line]:
            joined = f"{current}\n{piece}" if current else piece
            if _utf8(joined) <= limit:
                current = joined
            else:
                messages.append(current)
                current = piece
    if current.strip():
        messages.append(current)
    return [m for m in messages if m.strip()]
