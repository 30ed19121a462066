"""The LLM's prompt: named templates from prompts/, with retrieved clauses and the question as labelled data."""
from __future__ import annotations

import re
from functools import cache
from string import Template

from ingest.model import Clause, Task
from kbase.settings import PROMPTS_DIR

TOOL_NAME = "PolicyAnswer"
_NAME = re.compile(r"^[a-z][a-z_]*$")


@cache
def _template(name: str) -> Template:
    if not _NAME.match(name):
        raise ValueError(f"bad prompt name: {name!r}")
    return Template((PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip())


def load_prompt(name: str, **values: str) -> str:
    """prompts/<name>.txt with its $placeholders filled in (the sentinel and tool name are always known)."""
    return _template(name).substitute({"sentinel": sentinel(), "tool": TOOL_NAME, **values})


@cache
def sentinel() -> str:
    """The fixed reply that means: the clauses given do not answer the question."""
    return _template("refusal").template


def neutralise(data: str) -> str:
    """Data can't open or close our tags: angle brackets and quotes become full-width look-alikes."""
    return (data or "").replace("<", "＜").replace(">", "＞").replace('"', "＂")


def _ledger(task: Task) -> str:
    parts = [f"{label}：{'、'.join(units)}" for label, units in task.roles()]
    parts += [f"时限：{d.date.isoformat()}（{d.text}）{d.what}" for d in task.deadlines]
    parts += [f"目标：{t.text}" for t in task.targets]
    return "；".join(parts)


def render_clauses(clauses: list[Clause], tasks: dict[str, Task]) -> str:
    """Each clause as <clause n=… doc=… ref=…>text</clause>, numbered from 1, with its ledger entry."""
    blocks = []
    for n, clause in enumerate(clauses, 1):
        attrs = {"n": str(n), "doc": clause.meta.title, "ref": clause.ref, "heading": clause.heading}
        head = " ".join(f'{key}="{neutralise(value)}"' for key, value in attrs.items())
        blocks.append(f"<clause {head}>\n{neutralise(clause.text)}\n</clause>")
        task = tasks.get(clause.key)
        if task and _ledger(task):
            blocks.append(f'<ledger n="{n}">{neutralise(_ledger(task))}</ledger>')
    return "\n".join(blocks)


def system_prompt(tool_calling: bool) -> str:
    return load_prompt("answer_system") + "\n\n" + load_prompt("answer_tool" if tool_calling else "answer_text")


def user_prompt(question: str, clauses: list[Clause], tasks: dict[str, Task]) -> str:
    return load_prompt("answer_user", clauses=render_clauses(clauses, tasks), question=neutralise(question))


def instructions() -> str:
    """Every fixed instruction the model sees; an answer that repeats it is leaking, not answering."""
    return "\n".join([system_prompt(True), system_prompt(False), load_prompt("answer_user", clauses="", question="")])
