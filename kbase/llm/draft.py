"""The model's reply as a Draft, read tolerantly from a tool call, a JSON block or plain text."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from kbase.llm.facts import normalise
from kbase.llm.prompt import sentinel


class CitedQuote(BaseModel):
    n: int = Field(description="所引用条款的编号（clause 的 n 属性）")
    quote: str = Field(description="从该条款原文逐字复制的一段连续文字")


class PolicyAnswer(BaseModel):
    """提交依据编号条款作出的回答。"""

    answer: str = Field(description="回答正文，简体中文，每句末尾用 [n] 注明依据的条款")
    citations: list[CitedQuote] = Field(default_factory=list, description="每个引用条款的编号和逐字摘录")
    found: bool = Field(description="给出的条款能否回答问题")


@dataclass
class Draft:
    answer: str
    citations: list[tuple[int, str]] = field(default_factory=list)
    found: bool = True


# [1] [1][2] [1,2] [1、2] 【1】 ［1］ all become [1][2]
_MARKERS = re.compile(r"[\[【［]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】］]")
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S)
_FENCED = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)
_CITATION_LINE = re.compile(r"^\s*\[(\d{1,2})\]\s*[:：]?\s*[「“\"](.+?)[」”\"]\s*$", re.M)


def normalise_markers(text: str) -> str:
    return _MARKERS.sub(lambda m: "".join(f"[{n}]" for n in re.split(r"\s*[,，、]\s*", m.group(1))), text)


def _says_sentinel(answer: str) -> bool:
    return normalise(sentinel()).strip("【】[]") in normalise(answer)


def _as_int(value) -> int | None:
    match = re.search(r"\d+", str(value))
    return int(match.group()) if match else None


def from_fields(data: dict) -> Draft:
    """A Draft from the answer/citations/found fields, whatever types the model put in them."""
    answer = normalise_markers(str(data.get("answer") or "").strip())
    citations = []
    for item in data.get("citations") or []:
        if isinstance(item, dict) and _as_int(item.get("n")) is not None and item.get("quote"):
            citations.append((_as_int(item["n"]), str(item["quote"])))
    found = data.get("found", True)
    if isinstance(found, str):
        found = found.strip().lower() not in {"false", "no", "0", "否"}
    return Draft(answer, citations, bool(found) and bool(answer) and not _says_sentinel(answer))


def _text_of(content) -> str:
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return content or ""


def from_text(content) -> Draft:
    """A Draft from a plain reply: JSON (fenced or bare), else prose with [n] markers and 「quotes」."""
    text = _THINKING.sub("", _text_of(content)).strip()
    for candidate in [m.group(1) for m in _FENCED.finditer(text)] + [text]:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and "answer" in data:
            return from_fields(data)
    citations = [(int(n), quote) for n, quote in _CITATION_LINE.findall(normalise_markers(text))]
    answer = _CITATION_LINE.sub("", normalise_markers(text)).strip()
    return Draft(answer, citations, bool(answer) and not _says_sentinel(answer))


def from_structured(output: dict) -> Draft:
    """A Draft from with_structured_output(..., include_raw=True): parsed, else the raw tool call or text."""
    if isinstance(output.get("parsed"), PolicyAnswer):
        return from_fields(output["parsed"].model_dump())
    raw = output.get("raw")
    for call in getattr(raw, "tool_calls", None) or []:
        if isinstance(call.get("args"), dict):
            return from_fields(call["args"])
    return from_text(getattr(raw, "content", ""))
