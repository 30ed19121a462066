"""Source text -> clauses, choosing the parser by the document's own structure."""
from __future__ import annotations

from ingest.law import count_articles, parse_law
from ingest.model import Clause, DocMeta
from ingest.plan import parse_plan

PARSER_VERSION = "1"


def parse_document(meta: DocMeta, text: str) -> list[Clause]:
    """Laws and regulations number articles (第X条); everything else is read as a plan."""
    if meta.is_statute or count_articles(text) >= 3:
        return parse_law(meta, text)
    return parse_plan(meta, text)
