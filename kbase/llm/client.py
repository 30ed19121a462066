"""Optional LLM answers over retrieved clauses (LangChain ChatOpenAI, any OpenAI-compatible server).

The model only drafts; kbase.llm.verify decides what of the draft is served. Any failure, timeout or
unverifiable draft serves the extractive answer instead, within settings.llm_timeout (plus a moment).
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from ingest.model import Clause, Task
from kbase.llm.draft import Draft, PolicyAnswer, from_structured, from_text
from kbase.llm.prompt import system_prompt, user_prompt
from kbase.llm.verify import judge
from kbase.model import Answer
from kbase.settings import Settings

log = logging.getLogger("policybot.llm")

MAX_ANSWER_TOKENS = 1024
_NO_KEY = "not-needed"  # local servers (Ollama, vLLM) take any key, but the client insists on one


def _chat_model(settings: Settings, http: httpx.AsyncClient) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=settings.llm_base_url, model=settings.llm_model, api_key=settings.llm_api_key or _NO_KEY,
        timeout=settings.llm_timeout, max_retries=settings.llm_max_retries,
        temperature=0, max_tokens=MAX_ANSWER_TOKENS, http_async_client=http,
    )


def _messages(question: str, clauses: list[Clause], tasks: dict[str, Task], tool_calling: bool) -> list:
    return [SystemMessage(system_prompt(tool_calling)), HumanMessage(user_prompt(question, clauses, tasks))]


async def draft_answer(question: str, clauses: list[Clause], tasks: dict[str, Task], settings: Settings) -> Draft:
    """One round trip to the model: tool calling first, plain text when the server refuses tools."""
    # A client of our own per call: LangChain's shared async client is tied to the first event loop.
    async with httpx.AsyncClient(timeout=settings.llm_timeout) as http:
        model = _chat_model(settings, http)
        if settings.llm_tool_calling:
            structured = model.with_structured_output(PolicyAnswer, method="function_calling", include_raw=True)
            try:
                return from_structured(await structured.ainvoke(_messages(question, clauses, tasks, True)))
            except (openai.BadRequestError, openai.UnprocessableEntityError, openai.NotFoundError) as exc:
                log.info("llm: tool calling refused (%s); asking for plain text", exc)
        reply = await model.ainvoke(_messages(question, clauses, tasks, False))
        return from_text(reply.content)


async def allm_answer(question: str, clauses: list[Clause], tasks: dict[str, Task], fallback: Answer,
                      settings: Settings) -> Answer:
    """The verified llm Answer for `question` over `clauses` (most relevant first), else `fallback`."""
    sent = clauses[: settings.llm_max_clauses]
    if not settings.llm_enabled or not sent:
        return fallback
    try:
        draft = await asyncio.wait_for(draft_answer(question, sent, tasks, settings), settings.llm_timeout)
    except Exception as exc:  # timeout, HTTP error, rate limit, bad reply: the extractive answer stands
        log.warning("llm: %s: %s; serving the extractive answer", type(exc).__name__, exc)
        return fallback
    return judge(draft, question, sent, tasks, fallback)


def llm_answer(question: str, clauses: list[Clause], tasks: dict[str, Task], fallback: Answer,
               settings: Settings) -> Answer:
    """Synchronous allm_answer; safe to call from code that runs inside an event loop."""
    call = allm_answer(question, clauses, tasks, fallback, settings)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call)
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, call).result()
