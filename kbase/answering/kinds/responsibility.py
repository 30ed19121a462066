"""Who leads, supports, shares or implements a plan task: from the clause's own role note."""
from __future__ import annotations

from ingest.ledger import parse_roles, role_blocks
from ingest.model import Clause
from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.model import Answer

ROLE_NAMES = {"lead": "牵头单位", "support": "配合/参与单位", "shared": "按职责分工负责", "implement": "负责落实"}


def answer_responsibility(ctx: Context, q: Query, clause: Clause) -> Answer | None:
    """None when the clause has no role note (a law article names its authorities in its sentences)."""
    blocks = [] if clause.meta.is_statute else role_blocks(clause.text)
    if not blocks:
        return None
    paragraphs = [p for p in clause.text.splitlines() if p.strip()]
    best = max(blocks, key=lambda b: ctx.closeness(q, next((p for p in paragraphs if b in p), b)))
    roles = parse_roles(best)
    lines = [f"{ROLE_NAMES[r]}：{'、'.join(units)}" for r, units in roles.items() if units]
    asked = q.role if q.role in roles else "lead"
    if not roles[asked] and q.role not in roles:  # 由哪些部门负责: answer with whoever the note names first
        asked = next((r for r, units in roles.items() if units), asked)
    name = f"{clause.ref}「{clause.title or clause.heading}」"
    lead = (f"{name}的{ROLE_NAMES[asked]}是{'、'.join(roles[asked])}。" if roles[asked]
            else f"{name}未列出{ROLE_NAMES[asked]}。")
    # the role note as written, as every other kind quotes its source: a reader checks 牵头 and 配合 in the plan's words
    body = f"{lead}\n" + "\n".join(lines) + f"\n原文：「{best}」\n（依据《{clause.meta.title}》{clause.ref}）"
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, best)],
                  kind="responsibility")
