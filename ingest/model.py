"""Typed records that flow from a source file to the index: documents, clauses, tasks."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Visibility = Literal["public", "internal"]
ROLE_LABELS = ("牵头", "配合", "按职责分工负责", "负责落实")


class DocMeta(BaseModel):
    """A document's metadata, as in kbase's manifest; copied into every clause it yields."""

    id: str
    title: str
    file: str = ""
    issuer: str | None = None
    doc_number: str | None = None
    issued: dt.date | None = None
    effective: dt.date | None = None
    expires: dt.date | None = None
    kind: str = "plan"
    visibility: Visibility = "public"
    source: str | None = None
    series: str | None = Field(None, description="versions of one document share a series (the first version's id)")
    origin: Literal["bundled", "added"] = "bundled"

    @property
    def series_id(self) -> str:
        return self.series or self.id


class Clause(BaseModel):
    """One numbered unit of a document (a plan heading or a law article), with its own text."""

    doc: str
    ref: str
    heading: str
    title: str | None = None
    text: str
    sentences: list[str] = Field(default_factory=list)
    path: list[str] = Field(default_factory=list, description="headings from the top of the document down to this clause")
    parent: str | None = None
    level: int = 0
    meta: DocMeta

    @property
    def key(self) -> str:
        return f"{self.doc}::{self.ref}"

    @property
    def visibility(self) -> Visibility:
        return self.meta.visibility


class Deadline(BaseModel):
    date: dt.date
    text: str = Field(description="the time phrase as printed, e.g. 2024年年底前")
    what: str = Field(description="what must be done by then")
    kind: Literal["deadline", "start"] = "deadline"


class Target(BaseModel):
    metric: str
    value: float
    unit: str
    year: int | None = None
    comparator: str | None = Field(None, description="以上 / 不低于 / 超过 / 以下 / 下降 / 提高 …")
    text: str


class Task(BaseModel):
    """A numbered task of a plan with its responsible units, deadlines and targets."""

    doc: str
    ref: str
    title: str
    lead: list[str] = Field(default_factory=list)
    support: list[str] = Field(default_factory=list)
    shared: list[str] = Field(default_factory=list)
    implement: list[str] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)

    @property
    def units(self) -> list[str]:
        return self.lead + self.support + self.shared + self.implement

    def roles(self) -> list[tuple[str, list[str]]]:
        """(label, units) for each role the task names, in the order the documents print them."""
        pairs = zip(ROLE_LABELS, (self.lead, self.support, self.shared, self.implement), strict=True)
        return [(label, units) for label, units in pairs if units]
