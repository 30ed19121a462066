"""Typed answers: what the answering core returns to the CLI, the Telegram bot and the JSON contract."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["answered", "related", "not_found", "refused"]
Mode = Literal["extractive", "llm"]
Audience = Literal["public", "staff"]


class Citation(BaseModel):
    doc: str
    title: str
    ref: str
    heading: str
    quote: str = Field(description="verbatim substring of the source document, checked in code")
    text: str = Field(description="the whole clause")


class Answer(BaseModel):
    question: str
    status: Status
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    mode: Mode = "extractive"
    kind: str = "general"
    related: list[Citation] = Field(default_factory=list, description="nearby clauses offered when not_found")
    confidence: float | None = Field(None, description="the learned model's probability that the drafted answer is "
                                     "right (answered at or above the threshold, related below it)")

    def contract(self) -> dict:
        """The `ask --json` object of CONTRACTS.md (plus kind and related)."""
        return self.model_dump(mode="json")
