"""Typed records that flow from a source file to the index: documents, clauses, tasks."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Visibility = Literal["public", "internal"]
ROLE_LABELS = ("牵头", "配合", "按职责分工负责", "负责落实")
STATUTE_KINDS = ("law", "regulation")


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
    amended: dt.date | None = Field(None, description="date of the latest amendment the text includes")
    repeals: list[str] = Field(default_factory=list, description="titles of texts it repeals (…同时废止)")
    repealed_by: str | None = Field(None, description="id of the document in the base that repeals this one")
    repealed_on: dt.date | None = Field(None, description="when that repeal took effect")
    visibility: Visibility = "public"
    source: str | None = None
    series: str | None = Field(None, description="versions of one document share a series (the first version's id)")
    origin: Literal["bundled", "added"] = "bundled"

    @property
    def is_statute(self) -> bool:
        """A law or regulation: numbered articles (第X条) rather than a plan's headings."""
        return self.kind in STATUTE_KINDS

    @property
    def series_id(self) -> str:
        return self.series or self.id


class Fine(BaseModel):
    text: str = Field(description="as printed: 十万元以上五十万元以下罚款")
    low: float | None = Field(None, description="yuan")
    high: float | None = Field(None, description="yuan")
    per: str | None = Field(None, description="每亩 / 每只 …: the amount is per unit")
    party: str | None = Field(None, description="单位 / 个人 / 直接负责的主管人员 …: whom the fine is for, where the "
                                                "sentence says (对个人处…)")


class Penalty(BaseModel):
    """One sentence of an article that punishes a conduct."""

    text: str = Field(description="the sentence, verbatim")
    item: str | None = Field(None, description="（二）: the list item it belongs to")
    paragraph: int = Field(0, description="which paragraph of the article it is in")
    conduct: str = Field(description="what is punished")
    authority: str | None = Field(None, description="who punishes: the 由… of the sentence or its list's chapeau")
    measures: list[str] = Field(default_factory=list, description="责令改正, 没收违法所得 …")
    fines: list[Fine] = Field(default_factory=list)
    detention: list[str] = Field(default_factory=list, description="as printed: 十日以上十五日以下拘留")
    chapeau: str | None = Field(None, description="the sentence introducing its list, when that imposes the penalty")
    refers_to: list[str] = Field(default_factory=list, description="articles of the same text it enforces (违反本条例第X条)")
    duty_item: str | None = Field(None, description="（二）: the item of the first of those it enforces (第十五条第二项)")


class Definition(BaseModel):
    term: str
    text: str = Field(description="the defining sentence, verbatim")


class ArticleFacts(BaseModel):
    """What a law or regulation's article says, parsed at ingest (ingest/statute.py)."""

    chapeau: str | None = Field(None, description="the sentence that introduces its （一）（二） items")
    items: list[str] = Field(default_factory=list)
    refers_to: list[str] = Field(default_factory=list, description="articles it enforces: 违反本条例第X条规定")
    penalties: list[Penalty] = Field(default_factory=list)
    definitions: list[Definition] = Field(default_factory=list)
    effective: str | None = Field(None, description="the date of 本法自…起施行, as printed")
    repeals: list[str] = Field(default_factory=list, description="titles of texts it repeals (…同时废止)")


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
    article: ArticleFacts | None = Field(None, description="a law or regulation article's parsed facts")
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
