"""Who is responsible under a law: the sentence that names an authority and its duty (a law has no role notes)."""
from __future__ import annotations

import re

from kbase.answering.context import Context, cite
from kbase.answering.query import Query
from kbase.answering.retrieve import Hit
from kbase.model import Answer

_BODY = r"(?:人民政府|主管部门|部门|机关|委员会|管委会|办事处|河湖长|单位|机构)"
# "市环境保护主管部门负责…统一监督管理" / "市人民政府对…负总责": the authority and the duty it is given
# the body runs on through a government to its department (县级以上人民政府生态环境主管部门), not to a duty's words
_AUTHORITY = re.compile(rf"^(?:第[一二三四五六七八九十百零]+条\s*)?(.{{0,30}}?{_BODY}(?:[^，。；、对应负在按依为将把由向的是]{{1,12}}?{_BODY})*)"
                        r"[^。；]{0,40}?"
                        r"(负总责|负责|统一监督管理|监督管理|主管|组织实施|组织领导|做好|履行)")
_CANDIDATE_HITS = 3


def answer_authority(ctx: Context, q: Query, hits: list[Hit]) -> Answer | None:
    """Who is responsible under a law: the sentence of the best law articles found that names an authority and
    the duty that fits the question; None when none does."""
    scored = []
    for rank, hit in enumerate(hits[:_CANDIDATE_HITS]):
        if not hit.clause.meta.is_statute:
            continue
        for sentence in hit.clause.sentences:
            if match := _AUTHORITY.search(sentence):
                scored.append(((ctx.closeness(q, sentence)) * (1.0 - 0.15 * rank), hit.clause, sentence, match))
    if not scored:
        return None
    _, clause, sentence, match = max(scored, key=lambda s: s[0])
    named, duty = match.group(1), f"（{match.group(2)}）"
    if match.group(2) == "主管" and sentence.startswith("部门", match.end(2)):  # …人民政府环境保护主管部门会同…认定
        named, duty = sentence[match.start(1):match.end(2)] + "部门", ""
    # 协商不成的，由省人民政府… / 农用地由地方人民政府…: what comes before the body is the sentence's, not its name
    named = re.split(r"[，,]|(?<!自)由", named)[-1].strip()
    body = (f"负责的是：{named}{duty}。\n原文：「{sentence}」\n"
            f"（依据《{clause.meta.title}》{clause.ref}）")
    return Answer(question=q.text, status="answered", answer=body, citations=[cite(clause, sentence)],
                  kind="responsibility")
