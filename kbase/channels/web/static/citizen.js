// The citizen page: ask, show the answer with its citations, expand a citation to its whole clause.
// Server text is only ever set through textContent: nothing from a question, an answer or a document is parsed as HTML.
"use strict";

const STATUS_LABELS = { related: "未找到直接答案 · 以下为相关条款，仅供参考", not_found: "未找到明确依据", refused: "无法回答" };
const CITATION_TITLES = { related: "相关条款（不是答案，请自行判断是否适用）" };
const NETWORK_ERROR = "网络连接出错，请检查网络后再试。";
const SERVER_ERROR = "服务器出错了，请稍后再试。";

function newSessionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https; this works on plain http too
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const session = newSessionId();

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === "string") return body.error;
  } catch (ignored) { /* not JSON: fall through to the generic message */ }
  if (response.status === 429) return `提问太频繁了，请 ${response.headers.get("Retry-After") || 60} 秒后再试。`;
  return SERVER_ERROR;
}

async function loadClause(citation, target) {
  target.textContent = "正在载入原文……";
  const query = new URLSearchParams({ doc: citation.doc, ref: citation.ref });
  try {
    const response = await fetch(`api/clause?${query}`);
    if (!response.ok) {
      target.textContent = await errorMessage(response);
      return false;
    }
    const clause = await response.json();
    target.replaceChildren(element("p", "clause-heading", clause.heading),
                           element("p", "clause-text", clause.text));
    return true;
  } catch (error) {
    target.textContent = NETWORK_ERROR;
    return false;
  }
}

function citationItem(citation, number) {
  const item = element("li", "citation");
  const source = element("p", "citation-source");
  source.append(element("span", "citation-number", `【${number}】`),
                element("span", "citation-title", `《${citation.title}》${citation.ref}`));
  if (citation.heading && citation.heading !== citation.ref) {
    source.append(element("span", "citation-heading", citation.heading));
  }
  const details = element("details");
  const clause = element("div", "clause");
  clause.setAttribute("aria-live", "polite");
  details.append(element("summary", null, "展开完整条款原文"), clause);
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (details.open && !loaded) loaded = await loadClause(citation, clause);
  });
  item.append(source, element("blockquote", "quote", citation.quote), details);
  return item;
}

function citationList(title, citations) {
  const section = element("section", "citations");
  section.append(element("h3", null, title));
  const list = element("ol");
  citations.forEach((citation, index) => list.append(citationItem(citation, index + 1)));
  section.append(list);
  return section;
}

function renderTurn(question, answer) {
  const turn = element("article", `turn status-${answer.status}`);
  turn.append(element("p", "asked", question));
  if (STATUS_LABELS[answer.status]) turn.append(element("p", "badge", STATUS_LABELS[answer.status]));
  turn.append(element("p", "answer-text", answer.answer));
  if (answer.citations.length) turn.append(citationList(CITATION_TITLES[answer.status] || "依据", answer.citations));
  else if (answer.related && answer.related.length) turn.append(citationList("可能相关的条款", answer.related));
  return turn;
}

function renderProblem(question, message) {
  const turn = element("article", "turn status-error");
  turn.append(element("p", "asked", question), element("p", "error", message));
  turn.setAttribute("role", "alert");
  return turn;
}

async function ask(question) {
  const button = document.getElementById("ask-button");
  const status = document.getElementById("status");
  const answers = document.getElementById("answers");
  button.disabled = true;
  status.textContent = "正在查找依据……";
  let turn;
  try {
    const response = await fetch("api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question, session }),
    });
    turn = response.ok ? renderTurn(question, await response.json()) : renderProblem(question, await errorMessage(response));
  } catch (error) {
    turn = renderProblem(question, NETWORK_ERROR);
  } finally {
    button.disabled = false;
    status.textContent = "";
  }
  answers.prepend(turn);
  turn.scrollIntoView({ block: "nearest" });
  return turn;
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) {
      input.focus();
      return;
    }
    const turn = await ask(question);
    if (!turn.classList.contains("status-error")) input.value = "";
    input.focus();
  });
  for (const example of document.querySelectorAll("button.example")) {
    example.addEventListener("click", () => {
      input.value = example.textContent;
      form.requestSubmit();
    });
  }
});
