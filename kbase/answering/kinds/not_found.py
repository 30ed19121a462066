"""not_found: nothing in the sources is close to the question; the answer says so plainly, without claiming that no
rule exists (a search that missed proves nothing), and says where to ask."""
from __future__ import annotations

from kbase.answering.context import Context
from kbase.answering.query import Query
from kbase.model import Answer

NOT_FOUND = "抱歉，在现有文件中没有找到与这个问题相关的条款。可以换个说法再问，或向有关主管部门咨询。"


def not_found(ctx: Context, q: Query, message: str = NOT_FOUND) -> Answer:
    return Answer(question=q.text, status="not_found", answer=message, kind=q.kind)
